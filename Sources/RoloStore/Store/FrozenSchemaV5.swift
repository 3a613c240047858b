/// What schema version 5 changed, frozen: `role_permissions.action` also takes `set_audit_fields`.
/// Never edit: a later change is a new migration.
enum FrozenSchemaV5 {
    /// The action CHECK as version 4 left it.
    static let actionCheckV4 = FrozenSchemaV4.actionCheckV4

    static let actionCheckV5 =
        #"CHECK ("action" = 'read' OR "action" = 'create' OR "action" = 'update' OR "action" = 'delete' OR "action" = 'assign' OR "action" = 'merge' OR "action" = 'export' OR "action" = 'import' OR "action" = 'grant' OR "action" = 'manage_scripts' OR "action" = 'manage_rules' OR "action" = 'set_audit_fields')"#
}
