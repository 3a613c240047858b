import GRDB

/// The named migrations that build a Rolo database, oldest first.
///
/// Never edit a shipped migration: add a new one and raise `CRMSchema.version`.
enum Migrations {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-identify") { db in
            try db.execute(Sql.set("application_id", Int(CRMSchema.applicationID)))
            try db.execute(Sql.set("user_version", 1))  // later migrations raise it
            try db.execute(sql: FrozenSchemaV1.meta)
        }
        // Frozen DDL: what version 1 created, whatever CRMSchema says today.
        migrator.registerMigration("v1-schema") { db in
            for statement in FrozenSchemaV1.statements {
                try db.execute(sql: statement)
            }
        }
        migrator.registerMigration("v1-builtin-roles") { db in
            try BuiltinRoles.install(in: db, version: 1, rolesExist: false)
        }
        // Immediate foreign-key checks: the rewrite touches no rows, and the deferred default would
        // end with a whole-database foreign_key_check (20 s on a million-contact file).
        migrator.registerMigration("v2-enum-checks", foreignKeyChecks: .immediate) { db in
            try rewriteEnumChecks(db)
            try setVersion(db, 2)
        }
        // A statement of a transaction that was rolled back is audited as `rolled_back`.
        migrator.registerMigration("v3-audit-rolled-back", foreignKeyChecks: .immediate) { db in
            try widenEnumCheck(db, table: "audit_log", column: "outcome", from: CRMSchema.auditOutcomesV2, to: CRMSchema.auditOutcomes)
            try setVersion(db, 3)
        }
        // Validation rules: their table, the `manage_rules` action, and admin's rule granting it.
        migrator.registerMigration("v4-validation-rules", foreignKeyChecks: .immediate) { db in
            try rewriteCheck(db, table: "role_permissions", replacing: FrozenSchemaV4.actionCheckV3, with: FrozenSchemaV4.actionCheckV4)
            for statement in FrozenSchemaV4.statements {
                try db.execute(sql: statement)
            }
            try BuiltinRoles.install(in: db, version: 4, rolesExist: true)
            try setVersion(db, 4)
        }
        // Imports: the `set_audit_fields` action (admins keep a migrated CRM's dates) and sales
        // managers' import rights on contacts and accounts.
        migrator.registerMigration("v5-import-rights", foreignKeyChecks: .immediate) { db in
            try rewriteCheck(db, table: "role_permissions", replacing: [FrozenSchemaV5.actionCheckV4], with: FrozenSchemaV5.actionCheckV5)
            try BuiltinRoles.install(in: db, version: 5, rolesExist: true)
            try setVersion(db, 5)
        }
        // Field history keeps the record's updated_at before each update, so undo puts it back.
        // ADD COLUMN touches no row; its text is then written as CRMSchema declares the table.
        migrator.registerMigration("v6-history-updated-at", foreignKeyChecks: .immediate) { db in
            try db.execute(sql: FrozenSchemaV6.addColumn)
            try rewriteCheck(db, table: "field_history", replacing: [FrozenSchemaV6.addedText], with: FrozenSchemaV6.canonicalText)
            try setVersion(db, 6)
        }
        // Saved scripts keep every version, and what happened to them (`history script NAME`).
        migrator.registerMigration("v7-script-versions", foreignKeyChecks: .immediate) { db in
            for statement in FrozenSchemaV7.statements {
                try db.execute(sql: statement)
            }
            try setVersion(db, 7)
        }
        // Postal addresses on contacts, verification dates on accounts and leads, and the audits
        // `audit --save` keeps (issue 22). ADD COLUMN touches no row: instant on a million contacts.
        migrator.registerMigration("v8-addresses-and-audits", foreignKeyChecks: .immediate) { db in
            for (table, columns) in FrozenSchemaV8.addedColumns {
                for column in columns { try db.execute(sql: FrozenSchemaV8.addColumn(table, column)) }
                try rewriteCheck(
                    db, table: table, replacing: [FrozenSchemaV8.addedText(columns)], with: FrozenSchemaV8.canonicalText(columns))
            }
            for statement in FrozenSchemaV8.statements {
                try db.execute(sql: statement)
            }
            try setVersion(db, 8)
        }
        return migrator
    }()

    /// Records the schema version in the file's header and in `rolo_meta`.
    static func setVersion(_ db: Database, _ version: Int) throws {
        try db.execute(Sql.set("user_version", version))
        try db.execute(
            Update("rolo_meta", set: [("value", Sql.value(String(version)))])
                .where(Sql.equals(Sql.name("key"), Sql.value("schema_version"))).sql)
    }

    /// Lets an enum column take more values: its CHECK over `old` (in either form: version 1's IN
    /// list, or the OR of equalities v2 wrote) becomes one over `new`.
    static func widenEnumCheck(_ db: Database, table: String, column: String, from old: [String], to new: [String]) throws {
        try rewriteCheck(
            db, table: table, replacing: [SchemaSQL.enumCheck(column, old), SchemaSQL.enumCheckV1(column, old)],
            with: SchemaSQL.enumCheck(column, new))
    }

    /// Replaces one CHECK's text in a table's stored CREATE TABLE (the writable_schema procedure
    /// of `rewriteEnumChecks`): a wider CHECK accepts every row the narrower one did.
    static func rewriteCheck(_ db: Database, table: String, replacing old: [String], with new: String) throws {
        guard
            let stored = try String.fetchOne(db, SchemaSQL.storedDefinition(of: table)),
            let range = old.lazy.compactMap({ stored.range(of: $0) }).first
        else { return }
        var sql = stored
        sql.replaceSubrange(range, with: new)
        try SchemaSQL.rewriteStoredDefinitions(db, [(table, sql)])
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
            let stored = try String.fetchOne(db, SchemaSQL.storedDefinition(of: entity.name))
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
        try SchemaSQL.rewriteStoredDefinitions(db, rewritten)
    }
}
