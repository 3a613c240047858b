import Foundation
import GRDB

/// Reads a plan's record line (`{"e":"contacts","f":[["title","a","A"]],"id":3,"op":"update"}`)
/// into its parts, as the database's JSON functions would read it: text, whole numbers, reals,
/// null (true and false as 1 and 0). Strict: anything else in a line (another key, a field that is
/// not `[name, old, new]`, a number as the record's id that is not whole, bytes after the object)
/// makes it unreadable, and the plan is refused. Reading in Swift, one pass over the bytes, instead
/// of spreading the lines with SQLite's JSON functions (each line parsed four times and more,
/// through two temporary tables) took a million-record apply's reading from 8 s to about one.
struct PlanLineReader {
    struct Line {
        var entity = ""
        var id: Int64? = nil
        var op = ""
        /// `(field, old, new)`.
        var fields: [(String, DatabaseValue, DatabaseValue)] = []
    }

    struct Unreadable: Error {}

    private let bytes: UnsafeRawBufferPointer
    private var at = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The line's parts; throws `Unreadable` for anything but one record object.
    static func read(_ line: UnsafeRawBufferPointer, into result: inout Line) throws {
        var reader = PlanLineReader(line)
        result.fields.removeAll(keepingCapacity: true)
        result.id = nil
        var seen: (e: Bool, f: Bool, id: Bool, op: Bool) = (false, false, false, false)
        try reader.expect(UInt8(ascii: "{"))
        if try !reader.accept(UInt8(ascii: "}")) {
            repeat {
                let key = try reader.string()
                try reader.expect(UInt8(ascii: ":"))
                switch key {
                case "e" where !seen.e:
                    seen.e = true
                    result.entity = try reader.string()
                case "op" where !seen.op:
                    seen.op = true
                    result.op = try reader.string()
                case "id" where !seen.id:
                    seen.id = true
                    guard case .int64(let id) = try reader.scalar().storage else { throw Unreadable() }
                    result.id = id
                case "f" where !seen.f:
                    seen.f = true
                    try reader.expect(UInt8(ascii: "["))
                    if try !reader.accept(UInt8(ascii: "]")) {
                        repeat {
                            try reader.expect(UInt8(ascii: "["))
                            let field = try reader.string()
                            try reader.expect(UInt8(ascii: ","))
                            let old = try reader.scalar()
                            try reader.expect(UInt8(ascii: ","))
                            let new = try reader.scalar()
                            try reader.expect(UInt8(ascii: "]"))
                            result.fields.append((field, old, new))
                        } while try reader.accept(UInt8(ascii: ","))
                        try reader.expect(UInt8(ascii: "]"))
                    }
                default:
                    throw Unreadable()
                }
            } while try reader.accept(UInt8(ascii: ","))
            try reader.expect(UInt8(ascii: "}"))
        }
        reader.skipSpace()
        guard reader.at == reader.bytes.count, seen.e, seen.op, seen.id, seen.f else { throw Unreadable() }
    }

    // MARK: - Tokens

    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func accept(_ byte: UInt8) throws -> Bool {
        skipSpace()
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard try accept(byte) else { throw Unreadable() }
    }

    /// A JSON scalar as the database's JSON functions give it.
    private mutating func scalar() throws -> DatabaseValue {
        skipSpace()
        guard at < bytes.count else { throw Unreadable() }
        switch bytes[at] {
        case UInt8(ascii: "\""): return try string().databaseValue
        case UInt8(ascii: "n"): try word("null"); return .null
        case UInt8(ascii: "t"): try word("true"); return Int64(1).databaseValue
        case UInt8(ascii: "f"): try word("false"); return Int64(0).databaseValue
        default: return try number()
        }
    }

    private mutating func word(_ text: StaticString) throws {
        let count = text.utf8CodeUnitCount
        guard at + count <= bytes.count else { throw Unreadable() }
        for i in 0..<count where bytes[at + i] != text.utf8Start[i] { throw Unreadable() }
        at += count
    }

    /// A JSON number: whole (fitting 64 bits) as an integer, otherwise a real.
    private mutating func number() throws -> DatabaseValue {
        let start = at
        func digits() -> Int {
            let from = at
            while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
            return at - from
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
        let whole = digits()
        guard whole > 0, !(whole > 1 && bytes[at - whole] == UInt8(ascii: "0")) else { throw Unreadable() }
        var integral = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { throw Unreadable() }
            integral = false
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw Unreadable() }
            integral = false
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        if integral, let n = Int64(text) { return n.databaseValue }
        guard let d = Double(text) else { throw Unreadable() }
        return d.databaseValue
    }

    /// A JSON string, its escapes read.
    private mutating func string() throws -> String {
        skipSpace()
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw Unreadable() }
        at += 1
        let start = at
        // Most strings have no escape: one scan, one copy.
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                at += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw Unreadable() }
            at += 1
        }
        var out = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<at]))
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { throw Unreadable() }
                let escaped = bytes[at]
                at += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A surrogate pair: the second half must follow.
                        guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { throw Unreadable() }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Unreadable() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Unreadable() }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw Unreadable()
                }
            default:
                guard byte >= 0x20 else { throw Unreadable() }
                out.append(byte)
            }
        }
        throw Unreadable()
    }

    private mutating func hex4() throws -> UInt32 {
        guard at + 4 <= bytes.count else { throw Unreadable() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[at]
            at += 1
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw Unreadable()
            }
            value = value << 4 | digit
        }
        return value
    }
}
