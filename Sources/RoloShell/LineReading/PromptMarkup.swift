/// Prompts may carry ANSI escape sequences (colours). libedit counts every character of a
/// prompt as a column unless it is enclosed in a marker character (EL_PROMPT_ESC); this marks
/// them.
///
/// libedit prints a marked run together with the one character after it, taking that
/// character's width as the run's width. So consecutive sequences are marked as one run, stray
/// markers are dropped, and a run at the very end (say a closing `ESC[0m`) moves before the
/// last character — libedit would drop it otherwise, leaving the typed text coloured.
enum PromptMarkup {
    /// The marker (SOH), never typed into a prompt.
    static let marker: Unicode.Scalar = "\u{1}"
    static let escape: Unicode.Scalar = "\u{1B}"

    static func marked(_ prompt: String) -> String {
        guard prompt.unicodeScalars.contains(escape) else {
            return prompt.unicodeScalars.contains(marker) ? String(prompt.unicodeScalars.filter { $0 != marker }) : prompt
        }
        // Each printable character with the escape sequences just before it.
        var characters: [(escapes: String.UnicodeScalarView, scalar: Unicode.Scalar)] = []
        var pending = String.UnicodeScalarView()
        let scalars = Array(prompt.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if scalar == marker { continue }
            guard scalar == escape else {
                characters.append((pending, scalar))
                pending = String.UnicodeScalarView()
                continue
            }
            pending.append(scalar)
            guard index < scalars.count else { break }
            let kind = scalars[index]
            pending.append(kind)
            index += 1
            switch kind {
            case "[":  // CSI: parameters up to a final byte in @...~
                while index < scalars.count {
                    let next = scalars[index]
                    pending.append(next)
                    index += 1
                    if (0x40...0x7E).contains(next.value) { break }
                }
            case "]":  // OSC (window title): up to BEL or ESC \
                while index < scalars.count {
                    let next = scalars[index]
                    index += 1
                    if next == "\u{7}" {
                        pending.append(next)
                        break
                    }
                    if next == escape, index < scalars.count, scalars[index] == "\\" {
                        pending.append(next)
                        pending.append(scalars[index])
                        index += 1
                        break
                    }
                    pending.append(next)
                }
            default:  // a two-character escape
                break
            }
        }
        if !pending.isEmpty, !characters.isEmpty {
            characters[characters.count - 1].escapes.append(contentsOf: pending)
        }
        var result = String.UnicodeScalarView()
        for (escapes, scalar) in characters {
            if !escapes.isEmpty {
                result.append(marker)
                result.append(contentsOf: escapes)
                result.append(marker)
            }
            result.append(scalar)
        }
        return String(result)
    }
}
