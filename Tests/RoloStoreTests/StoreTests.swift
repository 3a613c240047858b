import Foundation
import GRDB
import RoloTestSupport
import Testing

@testable import RoloStore

@Suite("Opening databases")
struct StoreOpeningTests {
    func folder() throws -> String { try SampleDatabase.temporaryFolder() }

    @Test func createsAndReopensARoloDatabase() throws {
        let path = try folder() + "/crm.db"
        _ = try CRMStore.open(path: path, mode: .createIfMissing)
        let store = try CRMStore.open(path: path)
        let roles = try store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM roles") }
        #expect(roles == 9)
        let journal = try store.dbQueue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        let foreignKeys = try store.dbQueue.read { try Int.fetchOne($0, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == 1)
    }

    @Test func missingFolderIsRefused() {
        #expect(throws: StoreError.folderMissing(path: "/no/such/folder/crm.db", folder: "/no/such/folder")) {
            try CRMStore.open(path: "/no/such/folder/crm.db", mode: .createIfMissing)
        }
    }

    @Test func missingFileIsRefusedWithoutCreate() throws {
        let path = try folder() + "/absent.db"
        #expect(throws: StoreError.fileMissing(path: path)) { try CRMStore.open(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func foreignFilesAreLeftUntouched() throws {
        let base = try folder()
        let text = base + "/notes.txt"
        try Data("hello, not a database".utf8).write(to: URL(fileURLWithPath: text))
        let other = base + "/other.db"
        let queue = try DatabaseQueue(path: other)
        try queue.write { try $0.execute(sql: "CREATE TABLE t(x); INSERT INTO t VALUES (1)") }
        try queue.close()
        for path in [text, other] {
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(throws: StoreError.self) { try CRMStore.open(path: path, mode: .createIfMissing) }
            let after = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(before == after)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test func newerSchemaIsRefused() throws {
        let path = try folder() + "/future.db"
        let store = try CRMStore.open(path: path, mode: .createIfMissing)
        try store.dbQueue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 99") }
        try store.checkpoint()
        try store.dbQueue.close()
        #expect(throws: StoreError.newerSchema(path: path, found: 99, supported: CRMSchema.version)) {
            try CRMStore.open(path: path)
        }
    }

    /// A file the way schema version 1 left it (enum CHECKs as IN lists), holding one deal.
    func version1File() throws -> String {
        let path = try folder() + "/v1.db"
        let store = try CRMStore.open(path: path, mode: .createIfMissing)
        try store.dbQueue.writeWithoutTransaction { db in
            // Version 4 added the validation rules table and the manage_rules action (admin's rule);
            // version 5 the set_audit_fields action (deleted below with sales managers' imports).
            try db.execute(sql: "DELETE FROM role_permissions WHERE action = 'manage_rules'")
            try db.execute(sql: "DROP TABLE validation_rules")
            try db.execute(sql: "PRAGMA writable_schema = ON")
            for entity in CRMSchema.entities where entity.name != "validation_rules" {
                var sql = try #require(
                    try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [entity.name]))
                for field in entity.fields {
                    if case .enumeration(let values) = field.type {
                        // Version 1 shipped four audit outcomes (`rolled_back` came with version 3) and
                        // ten actions (`manage_rules` came with version 4, `set_audit_fields` with 5).
                        let shipped =
                            entity.name == "audit_log" && field.name == "outcome"
                            ? ["ok", "refused", "error", "dry_run"]
                            : entity.name == "role_permissions" && field.name == "action"
                                ? PermissionAction.shippedV1.map(\.rawValue) : values
                        sql = sql.replacingOccurrences(
                            of: SchemaSQL.enumCheck(field.name, values), with: SchemaSQL.enumCheckV1(field.name, shipped))
                    }
                }
                try db.execute(sql: "UPDATE sqlite_master SET sql = ? WHERE name = ?", arguments: [sql, entity.name])
            }
            let cookie = try #require(try Int.fetchOne(db, sql: "PRAGMA schema_version"))
            try db.execute(sql: "PRAGMA schema_version = \(cookie + 1)")
            try db.execute(sql: "PRAGMA writable_schema = OFF")
            try db.execute(
                sql:
                    "DELETE FROM grdb_migrations WHERE identifier IN ('v2-enum-checks', 'v3-audit-rolled-back', 'v4-validation-rules', 'v5-import-rights')"
            )
            // The rules version 5 added (version 4's are deleted above).
            try db.execute(
                sql: """
                    DELETE FROM role_permissions WHERE action = 'set_audit_fields'
                       OR (action = 'import' AND role_id = (SELECT id FROM roles WHERE name = 'sales_manager'))
                    """)
            try db.execute(sql: "PRAGMA user_version = 1")
            try db.execute(sql: "UPDATE rolo_meta SET value = '1' WHERE key = 'schema_version'")
            try db.execute(sql: "INSERT INTO users (handle, name, created_at, updated_at) VALUES ('x', 'X', 'now', 'now')")
            try db.execute(
                sql: "INSERT INTO deals (name, amount, stage, owner_id, created_at, updated_at) VALUES ('d', 1, 'won', 1, 'now', 'now')")
        }
        let v1 = try store.dbQueue.read { try String.fetchOne($0, sql: "SELECT sql FROM sqlite_master WHERE name = 'audit_log'") }
        #expect(v1?.contains(#"CHECK ("outcome" IN ('ok', 'refused', 'error', 'dry_run'))"#) == true)
        try store.checkpoint()
        try store.dbQueue.close()
        return path
    }

    /// A file written by schema version 1 (enum CHECKs as IN lists) is upgraded in place on open:
    /// the CHECKs become OR chains, the data stays, and the constraint still holds.
    @Test func upgradesAVersion1Database() throws {
        let path = try version1File()
        #expect(DatabaseFileCheck.inspect(path: path) == .rolo(schemaVersion: 1))
        let upgraded = try CRMStore.open(path: path)
        // The new version is in the file's header, where an older Rolo looks before opening it.
        #expect(DatabaseFileCheck.inspect(path: path) == .rolo(schemaVersion: 5))
        try upgraded.dbQueue.read { db in
            #expect(try Int.fetchOne(db, sql: "PRAGMA user_version") == 5)
            #expect(try String.fetchOne(db, sql: "SELECT value FROM rolo_meta WHERE key = 'schema_version'") == "5")
            // Version 4: admin holds manage_rules, and nobody else does.
            #expect(
                try String.fetchAll(
                    db,
                    sql: "SELECT r.name FROM role_permissions p JOIN roles r ON r.id = p.role_id WHERE p.action = 'manage_rules'")
                    == ["admin"])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM validation_rules") == 0)
            // Version 5's rules: admins keep imported dates, sales managers import contacts and accounts.
            let added = try String.fetchAll(
                db,
                sql: """
                    SELECT r.name || ' ' || p.action || ' ' || p.entity || ' ' || p.scope FROM role_permissions p
                    JOIN roles r ON r.id = p.role_id WHERE p.action = 'set_audit_fields' OR (p.action = 'import' AND r.name = 'sales_manager')
                    ORDER BY p.id
                    """)
            #expect(added == ["admin set_audit_fields * all", "sales_manager import contacts team", "sales_manager import accounts team"])
            let audit = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'audit_log'")!
            #expect(
                audit.contains(
                    #"CHECK ("outcome" = 'ok' OR "outcome" = 'refused' OR "outcome" = 'error' OR "outcome" = 'dry_run' OR "outcome" = 'rolled_back')"#
                ))
            for entity in CRMSchema.entities {
                let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [entity.name])!
                #expect(sql == SchemaSQL.createTable(entity), "\(entity.name) after the upgrade")
            }
            #expect(try String.fetchOne(db, sql: "SELECT stage FROM deals WHERE name = 'd'") == "won")
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            // The point of the change: no temporary b-tree is built to check a written row.
            let plan = try Row.fetchAll(
                db, sql: "EXPLAIN INSERT INTO audit_log (at, command, outcome) VALUES ('now', 'count deals', 'ok')"
            ).map { $0["opcode"] as String }
            #expect(plan.contains("Insert"))
            #expect(!plan.contains("OpenEphemeral"))
        }
        #expect(throws: DatabaseError.self) {
            try upgraded.dbQueue.write { db in
                try db.execute(sql: "UPDATE deals SET stage = 'maybe' WHERE name = 'd'")
            }
        }
        try upgraded.dbQueue.write { db in try db.execute(sql: "UPDATE deals SET stage = 'lost' WHERE name = 'd'") }
    }

    /// An upgrade that cannot get the write lock (another program is writing) says so, after the
    /// busy timeout, and leaves the file at version 1.
    @Test func aLockedUpgradeSaysSoAndChangesNothing() throws {
        let path = try version1File()
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true  // the lock stays held across accesses
        let other = try DatabaseQueue(path: path, configuration: holding)
        try other.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
        #expect(throws: StoreError.locked(path: path)) { try CRMStore.open(path: path) }
        try other.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
        try other.close()
        #expect(DatabaseFileCheck.inspect(path: path) == .rolo(schemaVersion: 1))
        #expect(StoreError.locked(path: path).description.contains("another program is writing to it"))
    }

    @Test func schemaHasConstraintsAndIndexes() throws {
        let store = try CRMStore.inMemory()
        try store.dbQueue.read { db in
            let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contacts'")
            #expect(indexes.contains("idx_contacts_email"))
            #expect(indexes.contains("idx_contacts_owner_id"))
        }
        #expect(throws: DatabaseError.self) {
            try store.dbQueue.write { db in
                try db.execute(sql: "INSERT INTO users (handle, name, created_at, updated_at) VALUES ('x', 'X', 'now', 'now')")
                try db.execute(
                    sql:
                        "INSERT INTO deals (name, amount, stage, owner_id, created_at, updated_at) VALUES ('d', 1, 'maybe', 1, 'now', 'now')"
                )
            }
        }
    }
}

@Suite("Dates")
struct CivilDateTests {
    @Test func roundTripsDays() {
        for days in stride(from: -800_000, to: 800_000, by: 997) {
            #expect(CivilDate(daysSinceEpoch: days).daysSinceEpoch == days)
        }
        #expect(CivilDate("2024-02-29")?.adding(months: 12).description == "2025-02-28")
        #expect(CivilDate("2026-02-30") == nil)
        #expect(CivilDate(year: 2026, month: 11, day: 23).weekday == 0)
        #expect(Timestamp("2026-11-22T10:00:00Z")?.description == "2026-11-22T10:00:00Z")
    }
}

/// Shipped migrations are frozen; a schema change must come as a new named migration.
@Suite("Frozen migrations")
struct FrozenMigrationTests {
    /// A database built by the migrations, from nothing, has exactly CRMSchema's tables, columns,
    /// constraints and indexes: a field added to CRMSchema alone (without a migration) fails here.
    @Test func aFreshlyMigratedDatabaseMatchesTheSchema() throws {
        let store = try CRMStore.inMemory()
        try store.dbQueue.read { db in
            let tables = try String.fetchAll(
                db,
                sql:
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('grdb_migrations', 'rolo_meta') ORDER BY name"
            )
            #expect(tables == CRMSchema.entities.map(\.name).sorted())
            for entity in CRMSchema.entities {
                let stored = try String.fetchOne(
                    db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [entity.name])
                #expect(
                    stored == SchemaSQL.createTable(entity),
                    "\(entity.name): the migrations build a different table than CRMSchema declares; add a migration")
                let indexes = try String.fetchAll(
                    db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
                    arguments: [entity.name])
                #expect(indexes == SchemaSQL.createIndexes(entity).sorted(), "\(entity.name): indexes differ from CRMSchema's")
            }
        }
    }
}
