import GRDB

/// The named migrations that build a Rolo database, oldest first.
///
/// Never edit a shipped migration: add a new one and raise `CRMSchema.version`.
enum Migrations {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-identify") { db in
            try db.execute(sql: "PRAGMA application_id = \(CRMSchema.applicationID)")
            try db.execute(sql: "PRAGMA user_version = \(CRMSchema.version)")
            try db.execute(
                sql: """
                    CREATE TABLE rolo_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    INSERT INTO rolo_meta (key, value) VALUES ('application', 'rolo'), ('schema_version', '1');
                    """)
        }
        migrator.registerMigration("v1-schema") { db in
            for entity in CRMSchema.entities {
                try db.execute(sql: SchemaSQL.createTable(entity))
                for index in SchemaSQL.createIndexes(entity) {
                    try db.execute(sql: index)
                }
            }
        }
        migrator.registerMigration("v1-builtin-roles") { db in
            try BuiltinRoles.install(in: db)
        }
        return migrator
    }()
}
