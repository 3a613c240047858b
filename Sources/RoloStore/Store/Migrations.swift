import GRDB

/// The named migrations that build a Rolo database, oldest first.
///
/// Never edit a shipped migration: add a new one and raise `CRMSchema.version`.
enum Migrations {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-identify") { db in
            try db.execute(sql: "PRAGMA application_id = \(CRMSchema.applicationID)")
            try db.execute(sql: "PRAGMA user_version = 1")  // later migrations raise it
            try db.execute(
                sql: """
                    CREATE TABLE rolo_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    INSERT INTO rolo_meta (key, value) VALUES ('application', 'rolo'), ('schema_version', '1');
                    """)
        }
        // Frozen DDL: what version 1 created, whatever CRMSchema says today.
        migrator.registerMigration("v1-schema") { db in
            for statement in FrozenSchemaV1.statements {
                try db.execute(sql: statement)
            }
        }
        migrator.registerMigration("v1-builtin-roles") { db in
            try BuiltinRoles.install(in: db)
        }
        // Immediate foreign-key checks: the rewrite touches no rows, and the deferred default would
        // end with a whole-database foreign_key_check (20 s on a million-contact file).
        migrator.registerMigration("v2-enum-checks", foreignKeyChecks: .immediate) { db in
            try rewriteEnumChecks(db)
            try db.execute(sql: "PRAGMA user_version = 2")
            try db.execute(sql: "UPDATE rolo_meta SET value = '2' WHERE key = 'schema_version'")
        }
        // A statement of a transaction that was rolled back is audited as `rolled_back`.
        migrator.registerMigration("v3-audit-rolled-back", foreignKeyChecks: .immediate) { db in
            try rewriteCheck(
                db, table: "audit_log",
                replacing: [
                    SchemaSQL.enumCheck("outcome", CRMSchema.auditOutcomesV2),
                    SchemaSQL.enumCheckV1("outcome", CRMSchema.auditOutcomesV2),
                ],
                with: SchemaSQL.enumCheck("outcome", CRMSchema.auditOutcomes))
            try db.execute(sql: "PRAGMA user_version = 3")
            try db.execute(sql: "UPDATE rolo_meta SET value = '3' WHERE key = 'schema_version'")
        }
        return migrator
    }()

    /// Replaces one CHECK's text in a table's stored CREATE TABLE (the writable_schema procedure
    /// of `rewriteEnumChecks`): a wider CHECK accepts every row the narrower one did.
    static func rewriteCheck(_ db: Database, table: String, replacing old: [String], with new: String) throws {
        guard
            let stored = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]),
            let range = old.lazy.compactMap({ stored.range(of: $0) }).first
        else { return }
        var sql = stored
        sql.replaceSubrange(range, with: new)
        let schemaVersion = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        defer { try? db.execute(sql: "PRAGMA writable_schema = OFF") }
        try db.execute(sql: "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", arguments: [sql, table])
        try db.execute(sql: "PRAGMA schema_version = \(schemaVersion + 1)")
        _ = try Row.fetchOne(db, sql: "SELECT * FROM \(SchemaSQL.quote(table)) LIMIT 1")
    }

    /// Version 2 writes each enum CHECK as an OR of equalities instead of an IN list (see
    /// `SchemaSQL.enumCheck`). The two accept exactly the same values and a CHECK does not change
    /// how rows are stored, so the stored CREATE TABLE text is rewritten in place — the procedure
    /// SQLite documents for constraint-only changes (https://sqlite.org/lang_altertable.html,
    /// "writable_schema") — rather than copying every table: the million-contact bench file
    /// upgraded in 1.7 s, first query included. A table whose text is not in the version-1 form
    /// (edited by hand) keeps its CHECK, which accepts the same values.
    static func rewriteEnumChecks(_ db: Database) throws {
        var rewritten: [(table: String, sql: String)] = []
        for entity in CRMSchema.entities {
            let stored = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [entity.name])
            guard let stored else { continue }
            var sql = stored
            for field in entity.fields {
                guard case .enumeration(let values) = field.type,
                    let range = sql.range(of: SchemaSQL.enumCheckV1(field.name, values))
                else { continue }
                sql.replaceSubrange(range, with: SchemaSQL.enumCheck(field.name, values))
            }
            if sql != stored { rewritten.append((entity.name, sql)) }
        }
        guard !rewritten.isEmpty else { return }
        let schemaVersion = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        defer { try? db.execute(sql: "PRAGMA writable_schema = OFF") }
        for (table, sql) in rewritten {
            try db.execute(
                sql: "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", arguments: [sql, table])
        }
        // A new schema cookie makes every connection, this one included, re-read the schema.
        try db.execute(sql: "PRAGMA schema_version = \(schemaVersion + 1)")
        // The new text must parse and every table must still be readable.
        for (table, _) in rewritten {
            _ = try Row.fetchOne(db, sql: "SELECT * FROM \(SchemaSQL.quote(table)) LIMIT 1")
        }
    }
}
