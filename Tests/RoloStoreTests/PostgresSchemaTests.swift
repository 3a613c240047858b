import Foundation
import GRDB
import RoloTestSupport
import Testing

@testable import RoloStore

/// The schema on a PostgreSQL server: every entity's table with the server's types, and the same
/// unique keys and foreign keys as a file's — read back from the server's catalog and from
/// SQLite's, each by its own SQL, not from the generator that wrote them.
@Suite("PostgreSQL schema", .serialized)
struct PostgresSchemaTests {
    /// The server type each kind of field must get, written out (information_schema's words).
    static let expectedType: [String: String] = [
        "integer": "bigint", "money": "bigint", "reference": "bigint", "duration": "bigint", "boolean": "boolean",
        "text": "text", "email": "text", "enumeration": "text", "date": "date", "timestamp": "timestamp with time zone",
    ]

    static func kind(_ type: FieldType) -> String {
        switch type {
        case .integer: return "integer"
        case .money: return "money"
        case .reference: return "reference"
        case .duration: return "duration"
        case .boolean: return "boolean"
        case .text: return "text"
        case .email: return "email"
        case .enumeration: return "enumeration"
        case .date: return "date"
        case .timestamp: return "timestamp"
        }
    }

    static func server() throws -> (PostgresConnection, () -> Void) {
        let (target, drop) = try PostgresTestServer.freshDatabase("schema")
        let connection = try PostgresConnection(target)
        for statement in PostgresSchemaSQL.createAll(schema: "rolo") { try connection.execute(statement) }
        return (connection, drop)
    }

    @Test("every stored field of every entity is a column of the server's type for its kind")
    func columnsAndTypes() throws {
        let (connection, drop) = try Self.server()
        defer { drop() }
        let rows = try connection.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'rolo'").rows
        var columns: [String: String] = [:]
        for row in rows { columns["\(row[0]!).\(row[1]!)"] = row[2]! }
        var expected: [String: String] = ["rolo_meta.key": "text", "rolo_meta.value": "text"]
        for entity in CRMSchema.entities {
            for field in entity.storedFields {
                let history = entity.name == "field_history" && (field.name == "old_value" || field.name == "new_value")
                expected["\(entity.name).\(field.name)"] = history ? "jsonb" : Self.expectedType[Self.kind(field.type)]!
            }
        }
        #expect(columns == expected)
        #expect(columns.count > 150)
    }

    @Test("the same foreign keys and unique keys as the file's schema")
    func keysMatchTheFile() throws {
        let (connection, drop) = try Self.server()
        defer { drop() }
        let store = try CRMStore.inMemory()
        var fileForeign: Set<String> = [], fileUnique: Set<String> = []
        try store.dbQueue.read { db in
            for entity in CRMSchema.entities {
                for key in try db.foreignKeys(on: entity.name) {
                    for (origin, destination) in key.mapping { fileForeign.insert("\(entity.name).\(origin) -> \(key.destinationTable).\(destination)") }
                }
                for index in try db.indexes(on: entity.name) where index.isUnique && index.origin != .primaryKeyConstraint {
                    fileUnique.insert("\(entity.name)(\(index.columns.joined(separator: ", ")))")
                }
            }
        }
        let foreignRows = try connection.execute("""
            SELECT t.relname, a.attname, ft.relname, fa.attname
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_class ft ON ft.oid = c.confrelid JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND c.connamespace = 'rolo'::regnamespace
            """).rows
        let serverForeign = Set(foreignRows.map { "\($0[0]!).\($0[1]!) -> \($0[2]!).\($0[3]!)" })
        // A unique index's columns, from its definition (a UNIQUE constraint has its index too):
        // `… USING btree (lower(email)) WHERE (email IS NOT NULL)` is the column `email`.
        let uniqueRows = try connection.execute("""
            SELECT t.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            WHERE i.indisunique AND NOT i.indisprimary AND t.relnamespace = 'rolo'::regnamespace
            """).rows
        var serverUnique: Set<String> = []
        for row in uniqueRows {
            let definition = row[1]!
            guard let start = definition.range(of: " USING btree (") else { continue }
            var inside = String(definition[start.upperBound...])
            if let whereRange = inside.range(of: " WHERE ") { inside = String(inside[..<whereRange.lowerBound]) }
            let columns = inside.replacingOccurrences(of: "lower(", with: "").replacingOccurrences(of: ")", with: "")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            serverUnique.insert("\(row[0]!)(\(columns.joined(separator: ", ")))")
        }
        #expect(serverForeign == fileForeign)
        #expect(serverUnique == fileUnique)
        #expect(fileForeign.count > 20 && fileUnique.count >= 5)
    }

    @Test("the server refuses what a file refuses: a second email in another case, an unknown enum value, a missing target, a NULL required field")
    func constraintsHold() throws {
        let (connection, drop) = try Self.server()
        defer { drop() }
        func code(_ sql: String, _ values: [ServerValue] = []) -> String? {
            do {
                try connection.execute(sql, values)
                return nil
            } catch let error as PostgresError {
                return error.sqlState
            } catch {
                return "\(error)"
            }
        }
        let now = ServerValue.text("2026-11-22T10:00:00Z")
        let user = "INSERT INTO rolo.users (handle, name, team_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)"
        #expect(code(user, [.text("ana"), .text("Ana"), .null, now]) == nil)
        #expect(try connection.text("SELECT active::text FROM rolo.users WHERE handle = 'ana'") == "true")
        #expect(try connection.text("SELECT created_at = '2026-11-22 10:00:00+00'::timestamptz FROM rolo.users") == "t")
        #expect(code(user, [.text("ANA"), .text("Ana again"), .null, now]) == "23505")
        #expect(code(user, [.text("bo"), .text("Bo"), .integer(999), now]) == "23503")
        #expect(code(user, [.text("cy"), .null, .null, now]) == "23502")
        let lead = "INSERT INTO rolo.leads (last_name, source, status, owner_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)"
        let owner = ServerValue.integer(Int64(try connection.text("SELECT id FROM rolo.users") ?? "0")!)
        #expect(code(lead, [.text("Smith"), .text(CRMSchema.leadSources[0]), .text("qualified"), owner, now]) == nil)
        #expect(code(lead, [.text("Smith"), .text(CRMSchema.leadSources[0]), .text("warm"), owner, now]) == "23514")
        #expect(try connection.text("SELECT data_type FROM information_schema.columns WHERE table_schema = 'rolo' AND table_name = 'deals' AND column_name = 'amount'") == "bigint")
    }
}
