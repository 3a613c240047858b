import Foundation
import GRDB
import GRDBSQLite

/// Case-insensitive matching for every script: text is compared in its folded form — Unicode
/// compatibility normalisation (NFKC) then case folding — so `ZOË`, `Zoë` and a decomposed
/// `Zoe\u{308}` are one, and `ДИРЕКТОР` contains `директор`.
///
/// `rolo_fold(text)` is an SQL function on the C API: ASCII text (nearly every CRM value) is
/// lower-cased byte by byte without building a Swift string, and returned as it is when it has no
/// capital; anything else goes through Foundation's normalisation and folding.
public enum TextFolding {
    /// The folded form of a text, as `rolo_fold` computes it (used for the values a query binds).
    public static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        return text.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
            .precomposedStringWithCompatibilityMapping
    }

    /// The form `contains`, `starts with` and `ends with` compare: folded, then without accents
    /// and other marks (`Ångström` → `angstrom`, `Société` → `societe`), with the letters that
    /// carry their mark inside them spelled plainly (`ø` → `o`, `ł` → `l`, `æ` → `ae`). ASCII
    /// text is only lower-cased.
    public static func matchKey(_ text: String) -> String {
        if isASCII(text) { return fold(text) }
        // Compatibility forms first (™ → TM, № → No, ½ → 1⁄2), so that what they become is folded
        // too: `contains "tm"` finds `™`, as the server's rolo_match_key does (PostgresFunctions).
        let plain = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var out = ""
        out.reserveCapacity(plain.utf8.count)
        for scalar in plain.precomposedStringWithCompatibilityMapping.decomposedStringWithCanonicalMapping.unicodeScalars {
            if let spelled = plainLetters[scalar] {
                out += spelled
            } else if scalar.properties.generalCategory != .nonspacingMark {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.precomposedStringWithCompatibilityMapping
    }

    /// Letters whose mark is part of the letter, so no decomposition removes it.
    private static let plainLetters: [Unicode.Scalar: String] = [
        "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ħ": "h", "Ħ": "h", "ı": "i", "æ": "ae", "Æ": "ae",
        "œ": "oe", "Œ": "oe", "ŧ": "t", "Ŧ": "t", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
    ]

    /// Text as Rolo stores it: in NFC, so a decomposed `Zoe\u{308}` typed or imported is the same
    /// bytes as the composed `Zoë` already stored (`=` compares bytes). ASCII is returned as it is.
    public static func stored(_ text: String) -> String {
        isASCII(text) ? text : text.precomposedStringWithCanonicalMapping
    }

    /// Whether `text` folds to itself byte for byte when lower-cased as ASCII (no normalisation needed).
    public static func isASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }

    static func install(in db: Database) {
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS
        sqlite3_create_function_v2(db.sqliteConnection, "rolo_fold", 1, flags, nil, foldFunction, nil, nil, nil)
        sqlite3_create_function_v2(db.sqliteConnection, "rolo_match", 3, flags, nil, matchFunction, nil, nil, nil)
        sqlite3_create_function_v2(db.sqliteConnection, "rolo_match_key", 1, flags, nil, matchKeyFunction, nil, nil, nil)
    }

    /// How `rolo_match(text, folded needle, mode)` matches.
    public enum MatchMode: Int64, Sendable {
        case contains = 0, startsWith = 1, endsWith = 2
    }

    /// Whether `haystack` contains (starts with, ends with) `needle`, both in their match keys
    /// (`matchKey`: case and accents aside); the needle comes folded. ASCII text is compared byte
    /// by byte, lower-casing as it goes: no string is built.
    static func matches(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>, _ mode: MatchMode) -> Bool {
        var ascii = true
        for byte in haystack where byte >= 0x80 {
            ascii = false
            break
        }
        if !ascii {
            // Compared code point by code point (their UTF-8 bytes), not by user-perceived
            // characters: a jamo inside a Korean syllable block or a joiner inside an emoji
            // sequence is found, as the server's rolo_match finds it (PostgresFunctions).
            let folded = Array(matchKey(String(decoding: haystack, as: UTF8.self)).utf8)
            switch mode {
            case .contains: return needle.isEmpty || folded.firstRange(of: needle) != nil
            case .startsWith: return folded.starts(with: needle)
            case .endsWith: return folded.count >= needle.count && folded.suffix(needle.count).elementsEqual(needle)
            }
        }
        // An ASCII text's key is ASCII: it cannot hold a needle whose key is not.
        for byte in needle where byte >= 0x80 { return false }
        let n = needle.count
        let h = haystack.count
        if n == 0 { return true }
        if n > h { return false }
        @inline(__always) func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
        @inline(__always) func equal(at start: Int) -> Bool {
            var index = 0
            while index < n {
                if lower(haystack[start + index]) != needle[index] { return false }
                index += 1
            }
            return true
        }
        switch mode {
        case .startsWith: return equal(at: 0)
        case .endsWith: return equal(at: h - n)
        case .contains:
            let first = needle[0]
            var start = 0
            let last = h - n
            while start <= last {
                if lower(haystack[start]) == first, equal(at: start) { return true }
                start += 1
            }
            return false
        }
    }
}

private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// `rolo_fold(x)`: NULL for NULL; numbers as their text, folded; text folded.
private func foldFunction(_ context: OpaquePointer?, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>?) {
    guard let argument = arguments?[0] else { return sqlite3_result_null(context) }
    if sqlite3_value_type(argument) == SQLITE_NULL { return sqlite3_result_null(context) }
    guard let raw = sqlite3_value_text(argument) else { return sqlite3_result_null(context) }
    let length = Int(sqlite3_value_bytes(argument))
    let bytes = UnsafeBufferPointer(start: raw, count: length)
    var ascii = true
    var upper = false
    for byte in bytes {
        if byte >= 0x80 {
            ascii = false
            break
        }
        if byte >= 0x41 && byte <= 0x5A { upper = true }
    }
    if ascii {
        if !upper { return sqlite3_result_value(context, argument) }
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: max(length, 1)) { lowered in
            for index in 0..<length {
                let byte = bytes[index]
                lowered[index] = CChar(bitPattern: byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            }
            sqlite3_result_text(context, lowered.baseAddress, Int32(length), transientDestructor)
        }
        return
    }
    let folded = TextFolding.fold(String(decoding: bytes, as: UTF8.self))
    var copy = folded
    copy.withUTF8 { utf8 in
        utf8.withMemoryRebound(to: CChar.self) { pointer in
            sqlite3_result_text(context, pointer.baseAddress, Int32(pointer.count), transientDestructor)
        }
    }
}

/// `rolo_match_key(x)`: NULL for NULL; else the text's match key (a needle from a field).
private func matchKeyFunction(_ context: OpaquePointer?, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>?) {
    guard let argument = arguments?[0], sqlite3_value_type(argument) != SQLITE_NULL, let raw = sqlite3_value_text(argument) else {
        return sqlite3_result_null(context)
    }
    var key = TextFolding.matchKey(String(decoding: UnsafeBufferPointer(start: raw, count: Int(sqlite3_value_bytes(argument))), as: UTF8.self))
    key.withUTF8 { utf8 in
        utf8.withMemoryRebound(to: CChar.self) { pointer in
            sqlite3_result_text(context, pointer.baseAddress, Int32(pointer.count), transientDestructor)
        }
    }
}

/// `rolo_match(x, needle, mode)`: NULL for a NULL text, else 1 or 0.
private func matchFunction(_ context: OpaquePointer?, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>?) {
    guard let arguments, let text = arguments[0], let needle = arguments[1], let modeValue = arguments[2] else {
        return sqlite3_result_null(context)
    }
    if sqlite3_value_type(text) == SQLITE_NULL || sqlite3_value_type(needle) == SQLITE_NULL { return sqlite3_result_null(context) }
    guard let mode = TextFolding.MatchMode(rawValue: sqlite3_value_int64(modeValue)) else { return sqlite3_result_null(context) }
    // Read the needle first: reading the text may convert its value, not the needle's.
    let needleBytes = sqlite3_value_text(needle)
    let needleLength = Int(sqlite3_value_bytes(needle))
    let textBytes = sqlite3_value_text(text)
    let textLength = Int(sqlite3_value_bytes(text))
    let haystack = UnsafeBufferPointer(start: textBytes, count: textBytes == nil ? 0 : textLength)
    let target = UnsafeBufferPointer(start: needleBytes, count: needleBytes == nil ? 0 : needleLength)
    sqlite3_result_int(context, TextFolding.matches(haystack, target, mode) ? 1 : 0)
}
