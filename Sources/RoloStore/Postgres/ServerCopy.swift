import Foundation
import GRDB

/// Copies a CRM kept in a file onto a PostgreSQL server, table by table with COPY, in one server
/// transaction: the schema (`PostgresSchemaSQL`) and Rolo's functions (`PostgresFunctions`)
/// first, then every row of every table with its record number, then each identity moved past
/// the largest number copied. Nothing is left on the server if any table fails.
///
/// Values become what the server's columns read: yes/no `0`/`1` are read as booleans, moments
/// stay ISO 8601 text (read as `timestamptz`), field history's values become JSON keeping their
/// type (`5`, `"Acme"`; SQL NULL stays NULL). `rolo_meta` is copied but for the audit spool's
/// secret, which belongs to the file's machine (`AuditSpoolSecret`).
///
/// The groundwork of `rolo copy` (issue 23, item 1): the command itself waits for the engine to
/// run on a server, so that `verify audit` can check the copy.
public enum ServerCopy {
    /// The rows copied, by table.
    public struct Report: Sendable, Equatable {
        public var rows: [String: Int] = [:]
    }

    /// Copies `store` into `schema` (which must not exist yet) on `connection`.
    public static func copy(
        from store: CRMStore, to connection: PostgresConnection, schema: String = "rolo",
        entities: [EntityDefinition] = CRMSchema.entities
    ) throws -> Report {
        var report = Report()
        try connection.execute(PostgresSQL.begin)
        do {
            for statement in PostgresSchemaSQL.createTables(schema: schema, entities: entities) { try connection.execute(statement) }
            for statement in PostgresFunctions.definitions(schema: schema) { try connection.execute(statement) }
            try store.dbQueue.read { db in
                for entity in entities {
                    let fields = entity.storedFields
                    let query = Select(fields.map { Sql.name($0.name) }, from: entity.name).ordered(by: Sql.name("id"))
                    let cursor = try Row.fetchCursor(db, query.sql)
                    var readError: Error?
                    let rows = AnySequence {
                        AnyIterator { () -> [String?]? in
                            do {
                                guard let row = try cursor.next() else { return nil }
                                let values = Array(row.databaseValues)
                                return fields.indices.map { text(values[$0], fields[$0], entity) }
                            } catch {
                                readError = error
                                return nil
                            }
                        }
                    }
                    report.rows[entity.name] = try connection.copy(
                        PostgresSQL.copyIn(PostgresSchemaSQL.table(entity.name, schema: schema), columns: fields.map(\.name)), rows: rows)
                    if let readError { throw readError }
                    if fields.contains(where: { $0.name == "id" }) {
                        try connection.execute(PostgresSQL.moveIdentityPastLargest(PostgresSchemaSQL.table(entity.name, schema: schema)))
                    }
                }
                let meta = try Row.fetchAll(db, Select(Sql.name("key"), Sql.name("value"), from: "rolo_meta").ordered(by: Sql.name("key")).sql)
                    .compactMap { row -> [String?]? in
                        let key: String = try row.decode(atIndex: 0)
                        return key == AuditSpoolSecret.metaKey ? nil : [key, try row.decode(atIndex: 1)]
                    }
                report.rows["rolo_meta"] = try connection.copy(
                    PostgresSQL.copyIn(PostgresSchemaSQL.table("rolo_meta", schema: schema), columns: ["key", "value"]), rows: meta)
            }
            // Keys checked and indexes built once, over every row.
            for statement in PostgresSchemaSQL.constraints(schema: schema, entities: entities) { try connection.execute(statement) }
            try connection.execute(PostgresSQL.commit)
        } catch {
            _ = try? connection.execute(PostgresSQL.rollback)
            throw error
        }
        return report
    }

    /// One value as COPY text for its column on the server.
    static func text(_ value: DatabaseValue, _ field: FieldDefinition, _ entity: EntityDefinition) -> String? {
        if entity.name == "field_history", field.name == "old_value" || field.name == "new_value" {
            return json(value)
        }
        switch value.storage {
        case .null: return nil
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .blob(let data): return "\\x" + data.map { String(format: "%02x", $0) }.joined()
        }
    }

    /// A history value as JSON keeping its type; SQL NULL stays NULL.
    static func json(_ value: DatabaseValue) -> String? {
        switch value.storage {
        case .null: return nil
        case .int64(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : nil
        case .string(let s):
            let encoded = try? JSONEncoder().encode(s)
            return encoded.map { String(decoding: $0, as: UTF8.self) }
        case .blob(let data): return "\"" + data.base64EncodedString() + "\""
        }
    }
}
