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

    /// Whether `text` folds to itself byte for byte when lower-cased as ASCII (no normalisation needed).
    public static func isASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }

    static func install(in db: Database) {
        sqlite3_create_function_v2(
            db.sqliteConnection, "rolo_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nil, foldFunction, nil, nil, nil)
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
