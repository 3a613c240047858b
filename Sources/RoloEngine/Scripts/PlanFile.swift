import Crypto
import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// A plan file (`plan FILE.rolo … to fix.plan`), terraform's plan/apply for a Rolo script: the
/// change plan of the script's dry-run — every record it would create, update or delete, each
/// touched field's value before and after — with what it was made from, sealed with SHA-256.
///
/// The file is JSON lines: a header (the database's identity, the schema version, the script's
/// path and SHA-256, the parameters, who made it and when), one line per record, and a last line
/// holding the SHA-256 of every byte before it. `apply` refuses a file whose seal does not match
/// (it was edited or cut), made on another database, with another schema, or whose script has
/// changed since; then re-checks every record's values before against the database.
struct PlanFile {
    struct Header: Codable, Equatable {
        var plan = "rolo"
        var format = 1
        var database: String
        var schema: Int
        var script: String
        var scriptSHA256: String
        var parameters: [String: String]
        var madeBy: String
        var madeAt: String
        var records: Int
        var fields: Int
    }

    /// One value as JSON: SQLite's storage classes a plan can hold.
    enum Value: Codable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)

        init(_ value: DatabaseValue) {
            switch value.storage {
            case .null: self = .null
            case .int64(let n): self = .integer(n)
            case .double(let d): self = .real(d)
            case .string(let s): self = .text(s)
            case .blob(let b): self = .text(b.base64EncodedString())
            }
        }

        var databaseValue: DatabaseValue {
            switch self {
            case .null: return .null
            case .integer(let n): return n.databaseValue
            case .real(let d): return d.databaseValue
            case .text(let s): return s.databaseValue
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let n = try? container.decode(Int64.self) {
                self = .integer(n)
            } else if let d = try? container.decode(Double.self) {
                self = .real(d)
            } else {
                self = .text(try container.decode(String.self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .integer(let n): try container.encode(n)
            case .real(let d): try container.encode(d)
            case .text(let s): try container.encode(s)
            }
        }
    }

    /// One record's net change: created (its values), updated (each field's first old and last
    /// new value) or deleted (its values before).
    struct Record: Codable, Equatable {
        var entity: String
        var id: Int64
        var op: String
        /// `[field, old, new]`.
        var fields: [[Value]]

        enum CodingKeys: String, CodingKey {
            case entity = "e", id, op, fields = "f"
        }
    }

    struct Seal: Codable {
        var sha256: String
    }

    // MARK: - Identity

    /// The database's identity: derived from its per-database secret (never the secret itself).
    static func databaseIdentity(_ db: Database) throws -> String? {
        guard let secret = try AuditSpoolSecret.read(db) else { return nil }
        let digest = SHA256.hash(data: Data("rolo database identity".utf8) + Data(secret))
        return digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The database's identity, its secret made first if this older file has none.
    static func ensureDatabaseIdentity(_ store: CRMStore) throws -> String {
        try store.inDatabase { db -> String in
            if let known = try databaseIdentity(db) { return known }
            try db.inTransaction(.immediate) {
                _ = try AuditSpoolSecret.ensure(db)
                return .commit
            }
            return try databaseIdentity(db) ?? ""
        }
    }

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    // MARK: - Writing

    /// Writes the change plan of change set `changeSet` (the open dry-run transaction's) to `file`.
    /// - Returns: how many records and fields it holds.
    static func write(
        header: Header, changeSet: Int64?, db: Database, to file: OutputFile
    ) throws -> (records: Int, fields: Int) {
        // The records first, to count them for the header: kept as lines (one buffer, not an
        // object a line) until written.
        var lines: [UInt8] = []
        var records = 0
        var fields = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let changeSet {
            try eachRecord(changeSet: changeSet, db: db) { record in
                records += 1
                fields += record.fields.count
                line(record, into: &lines)
                lines.append(UInt8(ascii: "\n"))
            }
        }
        var header = header
        header.records = records
        header.fields = fields
        var hasher = SHA256()
        func emit(_ line: Data) {
            var line = line
            line.append(UInt8(ascii: "\n"))
            hasher.update(data: line)
            line.withUnsafeBytes { file.write(bytes: $0) }
        }
        emit(try encoder.encode(header))
        hasher.update(data: lines)
        lines.withUnsafeBytes { file.write(bytes: $0) }
        let seal = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        var last = try encoder.encode(Seal(sha256: seal))
        last.append(UInt8(ascii: "\n"))
        last.withUnsafeBytes { file.write(bytes: $0) }
        return (records, fields)
    }

    /// A record as its line: what `JSONEncoder` with sorted keys writes, written directly (a
    /// million records take a second, not fifteen).
    static func line(_ record: Record) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + record.fields.count * 48)
        line(record, into: &out)
        return out
    }

    /// Appends a record's line (without its newline) to `out`.
    static func line(_ record: Record, into out: inout [UInt8]) {
        func append(_ text: String) { out.append(contentsOf: text.utf8) }
        func string(_ text: String) {
            out.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""): append("\\\"")
                case UInt8(ascii: "\\"): append("\\\\")
                case 0..<0x20:
                    let hex = String(byte, radix: 16)
                    append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        func value(_ value: Value) {
            switch value {
            case .null: append("null")
            case .integer(let n): append(String(n))
            case .real(let d): append(d.isFinite ? "\(d)" : "null")
            case .text(let t): string(t)
            }
        }
        append("{\"e\":")
        string(record.entity)
        append(",\"f\":[")
        for (index, field) in record.fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            for (position, item) in field.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                value(item)
            }
            out.append(UInt8(ascii: "]"))
        }
        append("],\"id\":" + String(record.id) + ",\"op\":")
        string(record.op)
        out.append(UInt8(ascii: "}"))
    }

    /// The change set's history, one net change per record, in the order records were first changed.
    static func eachRecord(changeSet: Int64, db: Database, _ body: (Record) throws -> Void) throws {
        let rows = HistoryRows()
        let query = rows.select([
            rows.column("entity"), rows.column("record_id"), rows.column("op"), Sql.named(rows.field, "field"),
            Sql.named(rows.oldValue, "old_value"), Sql.named(rows.newValue, "new_value"),
        ])
        .where(Sql.equals(rows.column("change_set_id"), Sql.value(changeSet)))
        .ordered(by: [rows.column("entity"), rows.column("record_id")] + rows.order)
        let cursor = try Row.fetchCursor(db, query.sql)
        var current: (entity: String, id: Int64, ops: NetOps, fields: [(String, DatabaseValue, DatabaseValue)])? = nil
        func flush() throws {
            guard let done = current, let record = net(done.entity, done.id, done.ops, done.fields) else { return }
            try body(record)
        }
        while let row = try cursor.next() {
            let entity: String = try row.decode(atIndex: 0)
            let id: Int64 = try row.decode(atIndex: 1)
            let op: String = try row.decode(atIndex: 2)
            let field: String = try row.decode(atIndex: 3)
            let old: DatabaseValue = try row.decode(atIndex: 4)
            let new: DatabaseValue = try row.decode(atIndex: 5)
            if current?.entity != entity || current?.id != id {
                try flush()
                current = (entity, id, NetOps(), [])
            }
            current?.ops.insert(op)
            current?.fields.append((field, old, new))
        }
        try flush()
    }

    /// The operations a record's history rows hold (a set of three words, without a `Set`).
    struct NetOps {
        private var created = false, deleted = false
        mutating func insert(_ op: String) {
            if op == "create" { created = true } else if op == "delete" { deleted = true }
        }
        func contains(_ op: String) -> Bool { op == "create" ? created : op == "delete" ? deleted : false }
    }

    /// A record's rows made one net change: created then deleted is nothing; a field changed twice
    /// keeps its first old and last new value; a field that ends as it began is left out.
    static func net(_ entity: String, _ id: Int64, _ ops: NetOps, _ rows: [(String, DatabaseValue, DatabaseValue)]) -> Record? {
        let op: String
        if ops.contains("create") {
            if ops.contains("delete") { return nil }
            op = "create"
        } else if ops.contains("delete") {
            op = "delete"
        } else {
            op = "update"
        }
        var fields: [[Value]] = []
        func add(_ field: String, _ old: DatabaseValue, _ new: DatabaseValue) {
            let new = op == "delete" ? DatabaseValue.null : new
            if op == "update", old == new { return }
            if op == "create", new.isNull { return }
            fields.append([.text(field), Value(op == "create" ? .null : old), Value(new)])
        }
        if rows.count == 1 {
            // The usual record (one field updated once): no dictionaries.
            add(rows[0].0, rows[0].1, rows[0].2)
        } else {
            var order: [String] = []
            var first: [String: DatabaseValue] = [:]
            var last: [String: DatabaseValue] = [:]
            for (field, old, new) in rows {
                if first[field] == nil {
                    order.append(field)
                    first[field] = old
                }
                last[field] = new
            }
            for field in order { add(field, first[field] ?? .null, last[field] ?? .null) }
        }
        guard op != "update" || !fields.isEmpty else { return nil }
        return Record(entity: entity, id: id, op: op, fields: fields)
    }

    // MARK: - Reading

    /// The header and records of the file at `path`, its seal checked.
    static func read(_ path: Located<String>) throws -> (header: Header, records: [Record]) {
        let (header, lines) = try verify(path)
        let decoder = JSONDecoder()
        var records: [Record] = []
        records.reserveCapacity(header.records)
        for line in lines {
            guard let record = try? decoder.decode(Record.self, from: Data(line)) else { throw refused(path, "a record line cannot be read") }
            records.append(record)
        }
        return (header, records)
    }

    /// A plan file `apply` will not use.
    static func refused(_ path: Located<String>, _ why: String) -> Diagnostic {
        Diagnostic(
            .planRefused, "\(path.value) is refused: \(why); nothing was changed", at: path.range,
            help: "make the plan again: plan SCRIPT.rolo to \(path.value)")
    }

    /// The file's header and its record lines (not decoded), its seal and record count checked.
    static func verify(_ path: Located<String>) throws -> (header: Header, lines: [Data.SubSequence]) {
        var info = stat()
        guard stat(path.value, &info) == 0 else {
            throw Diagnostic(.fileNotFound, "no such plan file: \(path.value)", at: path.range, help: "plan FILE.rolo to \(path.value) makes one")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG, let data = try? Data(contentsOf: URL(fileURLWithPath: path.value), options: .alwaysMapped) else {
            throw Diagnostic(.fileUnreadable, "cannot read the plan file \(path.value)", at: path.range)
        }
        let decoder = JSONDecoder()
        // The lines, found with memchr (Data's generic split took seconds for a million lines).
        var ranges: [Range<Int>] = []
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Void in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            while start < bytes.count {
                var end = bytes.count
                if let found = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start) {
                    end = UnsafeRawPointer(found) - base
                }
                if end > start { ranges.append(start..<end) }
                start = end + 1
            }
        }
        var lines = ranges.map { data[data.startIndex + $0.lowerBound..<data.startIndex + $0.upperBound] }
        guard let sealLine = lines.popLast(), let seal = try? decoder.decode(Seal.self, from: Data(sealLine)) else {
            if lines.first.map({ $0.starts(with: Array(MergePlan.firstLinePrefix.utf8)) }) == true {
                // A merge plan is a Rolo script, run as one; `apply` reads the plans `plan` writes.
                throw Diagnostic(
                    .planRefused, "\(path.value) is refused: it is a merge plan (a Rolo script), not a plan file; nothing was changed",
                    at: path.range, help: "run it: run \"\(path.value)\" --dry-run, then run \"\(path.value)\"")
            }
            throw refused(path, "it is not a Rolo plan file, or its end is missing")
        }
        var hasher = SHA256()
        hasher.update(data: data[data.startIndex..<sealLine.startIndex])
        guard hasher.finalize().map({ String(format: "%02x", $0) }).joined() == seal.sha256 else {
            throw refused(path, "its SHA-256 does not match its contents: it was edited or damaged since it was made")
        }
        guard let first = lines.first, let header = try? decoder.decode(Header.self, from: Data(first)), header.plan == "rolo" else {
            throw refused(path, "it is not a Rolo plan file")
        }
        guard header.format == 1 else { throw refused(path, "it is of plan format \(header.format), which this Rolo does not read") }
        let records = lines.dropFirst()
        guard records.count == header.records else {
            throw refused(path, "it holds \(records.count) records where its header says \(header.records)")
        }
        return (header, Array(records))
    }

    /// Shows a value as diffs do: text quoted, numbers as they are, null as (empty).
    static func shown(_ value: Value) -> String {
        switch value {
        case .null: return "(empty)"
        case .integer(let n): return String(n)
        case .real(let d): return String(d)
        case .text(let s): return "\"" + s + "\""
        }
    }
}
