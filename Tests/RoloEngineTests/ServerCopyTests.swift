import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloTestSupport
import Testing

/// A file's CRM copied onto a PostgreSQL server (`ServerCopy`, the groundwork of `rolo copy`):
/// every row of every table arrives with its record number and the same values, compared value
/// by value through SQL of each side's own (booleans, moments and history values read back in a
/// common spelling), and the server's identities continue after the copied numbers.
@Suite("Copying a CRM to a PostgreSQL server", .serialized)
struct ServerCopyTests {
    /// One value in a spelling both sides can be brought to.
    static func canonical(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .blob(let b): return "blob:\(b.count)"
        }
    }

    @Test("every table's rows arrive whole, history values keep their type, numbering continues")
    func copiesEveryRow() throws {
        let path = try SampleDatabase.freshCopy()
        let engine = try Engine(store: try CRMStore.open(path: path), clock: SampleDatabase.clock, user: "admin")
        // Changes, so that field history holds numbers, texts and NULLs, and the audit log grows.
        for command in [
            "update contacts where id <= 5 set title = \"VP Sales\"", "update deals where id = 1 set amount = 12345.67",
            "update contacts where id = 6 set phone = null", "create contact first_name=\"Zoë\" last_name=\"O'Tab\"",
        ] {
            let (_, error) = run(engine, command)
            #expect(error == nil, "\(command): \(String(describing: error))")
        }
        let (target, drop) = try PostgresTestServer.freshDatabase("copy")
        defer { drop() }
        let connection = try PostgresConnection(target)
        let report = try ServerCopy.copy(from: engine.store, to: connection)
        try connection.execute("SET TimeZone = 'UTC'")

        var compared = 0
        for entity in CRMSchema.entities {
            let fields = entity.storedFields
            let file: [[String]] = try engine.store.dbQueue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM \"\(entity.name)\" ORDER BY id").map { row in
                    fields.map { Self.canonical(row[$0.name] as DatabaseValue) }
                }
            }
            // The server's values spelled as the file spells them: booleans 0/1, moments ISO 8601
            // in UTC, history values from their JSON (a text unquoted). Ordered by the number,
            // not by its text (`t.id`: a bare `id` is the output column, a text).
            let columns = fields.map { field -> String in
                let name = "\"\(field.name)\""
                if entity.name == "field_history", field.name == "old_value" || field.name == "new_value" {
                    return "CASE jsonb_typeof(\(name)) WHEN 'string' THEN \(name) #>> '{}' ELSE \(name)::text END"
                }
                switch field.type {
                case .boolean: return "\(name)::int::text"
                case .timestamp: return "to_char(\(name), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                default: return "\(name)::text"
                }
            }
            let server = try connection.execute(
                "SELECT \(columns.joined(separator: ", ")) FROM rolo.\"\(entity.name)\" AS t ORDER BY t.id"
            ).rows.map { $0.map { $0 ?? "NULL" } }
            #expect(server.count == file.count, "\(entity.name): \(server.count) rows on the server, \(file.count) in the file")
            #expect(report.rows[entity.name] == file.count)
            for (index, row) in file.enumerated() where index < server.count && server[index] != row {
                Issue.record("\(entity.name) row \(index + 1): file \(row), server \(server[index])")
                break
            }
            compared += file.count * fields.count
        }
        #expect(compared > 100_000)
        // History kept a number as a number and a text as a text.
        #expect(try connection.text("SELECT count(*) FROM rolo.field_history WHERE jsonb_typeof(new_value) = 'number'") != "0")
        #expect(try connection.text("SELECT count(*) FROM rolo.field_history WHERE jsonb_typeof(new_value) = 'string'") != "0")
        // The next record gets the next number, not one already copied.
        let largest = try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT max(id) FROM contacts") } ?? 0
        let next = try connection.text(
            "INSERT INTO rolo.contacts (last_name, owner_id, created_at, updated_at) VALUES ('New', 1, now(), now()) RETURNING id")
        #expect(next == String(largest + 1))
        // The meta settings came along, but not the file's own spool secret.
        #expect(try connection.text("SELECT value FROM rolo.rolo_meta WHERE key = 'schema_version'") == String(CRMSchema.version))
        #expect(try connection.text("SELECT count(*) FROM rolo.rolo_meta WHERE key = 'audit_spool_secret'") == "0")
    }

    @Test("a copy that fails leaves nothing on the server")
    func failedCopyLeavesNothing() throws {
        let engine = try SampleDatabase.engine()
        let (target, drop) = try PostgresTestServer.freshDatabase("copyfail")
        defer { drop() }
        let connection = try PostgresConnection(target)
        // The schema is already there: the copy must refuse and leave what was there alone.
        try connection.execute("CREATE SCHEMA rolo")
        try connection.execute("CREATE TABLE rolo.keep_me (id int)")
        #expect(throws: PostgresError.self) { try ServerCopy.copy(from: engine.store, to: connection) }
        #expect(try connection.text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'rolo'") == "1")
        #expect(connection.isOpen)
    }
}
