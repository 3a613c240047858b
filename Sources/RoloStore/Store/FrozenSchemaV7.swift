// Written once for schema version 7 and frozen: never edit. A later change to these tables is a
// new named migration (Migrations.swift).

/// The DDL the `v7-script-versions` migration runs, literally: every saved version of a saved
/// script, and what happened to each script (saved, ran, dropped).
enum FrozenSchemaV7 {
    static let statements: [String] = [
        #"""
        CREATE TABLE "script_versions" (
          "id" INTEGER PRIMARY KEY,
          "script_id" INTEGER NOT NULL REFERENCES "saved_scripts"(id) ON DELETE RESTRICT,
          "version" INTEGER NOT NULL,
          "body" TEXT NOT NULL,
          "description" TEXT,
          "sha256" TEXT NOT NULL,
          "saved_by" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "created_at" TEXT NOT NULL
        )
        """#,
        #"CREATE UNIQUE INDEX "idx_script_versions_script_id_version" ON "script_versions"("script_id", "version")"#,
        #"""
        CREATE TABLE "script_events" (
          "id" INTEGER PRIMARY KEY,
          "script_id" INTEGER NOT NULL REFERENCES "saved_scripts"(id) ON DELETE RESTRICT,
          "version" INTEGER,
          "action" TEXT NOT NULL CHECK ("action" = 'saved' OR "action" = 'ran' OR "action" = 'dropped'),
          "user_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "change_set_id" INTEGER REFERENCES "change_sets"(id) ON DELETE SET NULL,
          "created_at" TEXT NOT NULL
        )
        """#,
        #"CREATE INDEX "idx_script_events_script_id" ON "script_events"("script_id")"#,
    ]
}
