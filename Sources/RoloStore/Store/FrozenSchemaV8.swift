// Written once for schema version 8 and frozen: never edit. A later change to these tables is a
// new named migration (Migrations.swift).

/// What the `v8-addresses-and-audits` migration does, literally: contacts get a postal address
/// (street, region, postcode beside city and country), accounts and leads a `last_verified_at`
/// like contacts', and `audit … --save` a table for its snapshots.
enum FrozenSchemaV8 {
    /// Each table's new columns, in the order ADD COLUMN appends them.
    static let addedColumns: [(table: String, columns: [String])] = [
        ("contacts", ["street", "region", "postcode"]),
        ("accounts", ["last_verified_at"]),
        ("leads", ["last_verified_at"]),
    ]

    static func addColumn(_ table: String, _ column: String) -> String {
        #"ALTER TABLE "\#(table)" ADD COLUMN "\#(column)" TEXT"#
    }

    /// The end of a table's stored text as SQLite's ADD COLUMNs leave it (`\n, "a" TEXT, "b" TEXT)`),
    /// and as `SchemaSQL` writes the same table (`,\n  "a" TEXT,\n  "b" TEXT\n)`): the text is put in
    /// the second form, so an upgraded file and a new one hold the same definition.
    static func addedText(_ columns: [String]) -> String {
        "\n" + columns.map { #", "\#($0)" TEXT"# }.joined() + ")"
    }

    static func canonicalText(_ columns: [String]) -> String {
        columns.map { ",\n  \"\($0)\" TEXT" }.joined() + "\n)"
    }

    static let statements: [String] = [
        #"""
        CREATE TABLE "audit_snapshots" (
          "id" INTEGER PRIMARY KEY,
          "entity" TEXT NOT NULL,
          "records" INTEGER NOT NULL,
          "findings" INTEGER NOT NULL,
          "report" TEXT NOT NULL,
          "created_by" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "created_at" TEXT NOT NULL
        )
        """#,
        #"CREATE INDEX "idx_audit_snapshots_entity_created_at" ON "audit_snapshots"("entity", "created_at")"#,
    ]
}
