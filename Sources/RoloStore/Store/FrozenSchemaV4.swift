// Written once for schema version 4 and frozen: never edit. A later change to these tables is a
// new named migration (Migrations.swift).

/// The DDL the `v4-validation-rules` migration runs, literally: the validation rules table and
/// its index, and role_permissions' action CHECK before and after `manage_rules`.
enum FrozenSchemaV4 {
    static let statements: [String] = [
        #"""
        CREATE TABLE "validation_rules" (
          "id" INTEGER PRIMARY KEY,
          "entity" TEXT NOT NULL,
          "field" TEXT,
          "kind" TEXT NOT NULL CHECK ("kind" = 'must' OR "kind" = 'require'),
          "rule" TEXT NOT NULL,
          "condition" TEXT NOT NULL,
          "message" TEXT,
          "created_by" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "created_at" TEXT NOT NULL
        )
        """#,
        #"CREATE INDEX "idx_validation_rules_entity" ON "validation_rules"("entity")"#,
    ]

    /// role_permissions' action CHECK as versions 2 and 3 wrote it (and, from a version-1 file
    /// not yet rewritten, as version 1 did).
    static let actionCheckV3 = [
        #"CHECK ("action" = 'read' OR "action" = 'create' OR "action" = 'update' OR "action" = 'delete' OR "action" = 'assign' OR "action" = 'merge' OR "action" = 'export' OR "action" = 'import' OR "action" = 'grant' OR "action" = 'manage_scripts')"#,
        #"CHECK ("action" IN ('read', 'create', 'update', 'delete', 'assign', 'merge', 'export', 'import', 'grant', 'manage_scripts'))"#,
    ]

    /// The CHECK version 4 writes: `manage_rules` added.
    static let actionCheckV4 =
        #"CHECK ("action" = 'read' OR "action" = 'create' OR "action" = 'update' OR "action" = 'delete' OR "action" = 'assign' OR "action" = 'merge' OR "action" = 'export' OR "action" = 'import' OR "action" = 'grant' OR "action" = 'manage_scripts' OR "action" = 'manage_rules')"#
}
