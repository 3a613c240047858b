/// The one sanitiser between text and a terminal: what Rolo prints for a person (tables, `show`,
/// previews and diffs, `history`, `changes`, `can`, notes, error messages and the source line under
/// them) passes through `safe`, so stored text cannot act on the terminal — retitle it
/// (`ESC ] 0 ; … BEL`), clear it (`ESC [ 2 J`), ring it, move the cursor, or reorder what is shown
/// around it (the bidi overrides of "Trojan Source").
///
/// - C0 controls (U+0000–U+001F) but tab, line feed and carriage return, DEL (U+007F), the C1
///   controls (U+0080–U+009F, which some terminals obey as `ESC` sequences: U+009B is CSI) and the
///   bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) become `�` (U+FFFD).
/// - Tab, carriage return and the Unicode line and paragraph separators (U+2028, U+2029) become a
///   space; line feed too, unless `keepingLineBreaks` (Rolo's own multi-line text: notes, reports).
///
/// Rolo's own colour codes are added after this (`DiagnosticRenderer`), never passed through it.
/// Files — `export`, `as csv`, `as json` — keep values as stored: they are not text for a terminal.
public enum TerminalText {
    /// `text` with every character that would act on a terminal replaced (see the type's comment).
    public static func safe(_ text: String, keepingLineBreaks: Bool = false) -> String {
        guard needsCleaning(text, keepingLineBreaks: keepingLineBreaks) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: result.append(keepingLineBreaks ? scalar : " ")
            case 0x09, 0x0D, 0x2028, 0x2029: result.append(" ")
            default: result.append(isControl(scalar) ? "\u{FFFD}" : scalar)
            }
        }
        return String(result)
    }

    /// Whether `scalar` is one that `safe` replaces with `�`: a C0 or C1 control, DEL, or a bidi
    /// embedding, override or isolate.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// Whether `safe` would change `text`: one pass over its UTF-8 bytes, without decoding, since
    /// nearly every value is clean and tables pass a million of them.
    static func needsCleaning(_ text: String, keepingLineBreaks: Bool) -> Bool {
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 {
                if byte != 0x0A || !keepingLineBreaks { return true }
            } else if byte == 0x7F {
                return true
            } else if byte >= 0x80 {
                // C1 controls are C2 80 … C2 9F; U+2028 … U+202E are E2 80 A8 … AE; U+2066 … U+2069
                // are E2 81 A6 … A9.
                if previous == 0xC2, byte <= 0x9F { return true }
                if beforePrevious == 0xE2, previous == 0x80, (0xA8...0xAE).contains(byte) { return true }
                if beforePrevious == 0xE2, previous == 0x81, (0xA6...0xA9).contains(byte) { return true }
            }
            beforePrevious = previous
            previous = byte
        }
        return false
    }
}
