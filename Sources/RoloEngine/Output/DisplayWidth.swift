/// How many terminal columns text takes — a small `wcwidth` for aligning tables and bars.
///
/// The rules, per character (grapheme cluster), as terminals draw them:
/// - An emoji cluster is two columns, whatever it is made of: any scalar with the
///   Emoji_Presentation property (😀, 🇫🇷 — a flag is two regional indicators —, 👍🏽, 👨‍👩‍👧),
///   or an emoji-capable base followed by VS16 (U+FE0F: ❤️, 1️⃣). A ZWJ sequence counts once, as
///   the Unicode recommendation and current terminals do (older wcwidth-based ones may show more).
/// - Otherwise the cluster's scalars are added up, as wcwidth does: East Asian Wide and Fullwidth
///   scalars (CJK ideographs, kana, Hangul, fullwidth forms; the well-known ranges of
///   EastAsianWidth.txt below) are two columns; combining marks (Mn, Me), format characters (Cf:
///   zero-width joiner and space, direction marks, except the soft hyphen), Hangul medial vowels
///   and final consonants, and control characters are zero; everything else is one.
/// - East Asian Ambiguous characters (Greek, Cyrillic, ±, …) count as one, as outside CJK locales.
public enum DisplayWidth {
    /// The columns `text` takes.
    public static func of(_ text: String) -> Int {
        // Most text is ASCII: count printable bytes.
        var count = 0
        for byte in text.utf8 {
            if byte >= 0x80 { return slow(text) }
            if byte >= 0x20 && byte != 0x7F { count += 1 }
        }
        return count
    }

    private static func slow(_ text: String) -> Int {
        var width = 0
        for character in text { width += of(character) }
        return width
    }

    /// The columns one character (grapheme cluster) takes: 0, 1 or 2 — or more for a cluster
    /// of several wide scalars, which is rare.
    public static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        var first: Unicode.Scalar? = nil
        var sum = 0
        for scalar in scalars {
            if first == nil { first = scalar }
            let properties = scalar.properties
            if properties.isEmojiPresentation { return 2 }
            if scalar.value == 0xFE0F, let base = first, base.properties.isEmoji { return 2 }
            sum += of(scalar)
        }
        return sum
    }

    /// The columns one scalar takes on its own: 0, 1 or 2.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 || (0x7F...0x9F).contains(value) { return 0 }
        if value < 0x300 { return 1 }  // Latin-1 and Latin Extended (the soft hyphen too)
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1160...0x11FF).contains(value) || (0xD7B0...0xD7FF).contains(value) { return 0 }
        if scalar.properties.isEmojiPresentation { return 2 }
        return isWide(value) ? 2 : 1
    }

    /// East Asian Wide (W) and Fullwidth (F) blocks, from EastAsianWidth.txt, by block (the
    /// emoji among the symbols are found by their Emoji_Presentation property instead).
    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F,  // Hangul Jamo initial consonants
        0x2329...0x232A,  // angle brackets
        0x2E80...0x303E,  // CJK radicals, Kangxi radicals, ideographic description, CJK symbols and punctuation
        0x3041...0x33FF,  // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed CJK, CJK compatibility
        0x3400...0x4DBF,  // CJK unified ideographs extension A
        0x4E00...0x9FFF,  // CJK unified ideographs
        0xA000...0xA4CF,  // Yi
        0xA960...0xA97F,  // Hangul Jamo extended A
        0xAC00...0xD7A3,  // Hangul syllables
        0xF900...0xFAFF,  // CJK compatibility ideographs
        0xFE10...0xFE19,  // vertical forms
        0xFE30...0xFE6F,  // CJK compatibility forms, small form variants
        0xFF00...0xFF60,  // fullwidth forms
        0xFFE0...0xFFE6,  // fullwidth signs
        0x16FE0...0x16FE4,  // ideographic symbols
        0x17000...0x18CFF,  // Tangut, Khitan
        0x1AFF0...0x1B2FF,  // Kana supplement and extensions, Nushu
        0x1F200...0x1F2FF,  // enclosed ideographic supplement
        0x20000...0x2FFFD,  // CJK extensions B–F, compatibility supplement
        0x30000...0x3FFFD,  // CJK extensions G, H
    ]

    static func isWide(_ value: UInt32) -> Bool {
        guard value >= 0x1100 else { return false }
        var low = 0
        var high = wideRanges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let range = wideRanges[middle]
            if value < range.lowerBound {
                high = middle - 1
            } else if value > range.upperBound {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }

    /// `text` cut to at most `width` columns, ending in `…` when anything was cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard of(text) > width else { return text }
        guard width > 0 else { return "" }
        var result = ""
        var used = 0
        for character in text {
            let columns = of(character)
            if used + columns > width - 1 { break }
            result.append(character)
            used += columns
        }
        return result + "…"
    }

    /// `text` cut to `width` columns (with `…`) and padded with spaces to exactly `width` — on
    /// the left when `right` aligns it right.
    public static func pad(_ text: String, to width: Int, right: Bool = false) -> String {
        let cut = truncate(text, to: width)
        let fill = String(repeating: " ", count: max(0, width - of(cut)))
        return right ? fill + cut : cut + fill
    }
}
