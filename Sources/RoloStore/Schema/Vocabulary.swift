import GRDB

/// What a permission rule allows or denies. The raw values are the words rules are written and stored
/// with (`role_permissions.action`), in the order the schema lists them.
public enum PermissionAction: String, CaseIterable, Sendable, DatabaseValueConvertible, CustomStringConvertible {
    case read, create, update, delete, assign, merge, export
    case `import`
    case grant
    case manageScripts = "manage_scripts"
    /// Creating and dropping validation rules (`rule …`, `drop rule N`); added in schema version 4.
    case manageRules = "manage_rules"
    /// Keep `created_at` and `updated_at` from an imported file (Salesforce's "Set Audit Fields");
    /// added in schema version 5.
    case setAuditFields = "set_audit_fields"

    /// The actions on records, one column each in `role` and `can`; `grant`, `manage_scripts`,
    /// `manage_rules` and `set_audit_fields` are on the CRM as a whole.
    public static let onRecords: [PermissionAction] = [.read, .create, .update, .delete, .assign, .merge, .export, .import]

    /// The actions schema version 1 shipped (role_permissions' CHECK until the v4 migration).
    public static let shippedV1: [PermissionAction] = [
        .read, .create, .update, .delete, .assign, .merge, .export, .import, .grant, .manageScripts,
    ]
}

/// How a command ended, as `audit_log.outcome` keeps it.
public enum AuditOutcome: String, CaseIterable, Sendable, Codable, DatabaseValueConvertible, CustomStringConvertible {
    case ok
    case refused
    case error
    /// A dry-run: previewed and rolled back.
    case dryRun = "dry_run"
    /// Ran in a transaction that was rolled back afterwards.
    case rolledBack = "rolled_back"
}

/// What kind of validation rule a row of `validation_rules` holds: `rule contacts.email must …`
/// (a field's values must meet a condition) or `rule deals require close_date …` (a field must be filled).
public enum RuleKind: String, CaseIterable, Sendable, DatabaseValueConvertible, CustomStringConvertible {
    case must, require
    public var description: String { rawValue }
}

/// What a row of `field_history` records.
public enum HistoryOp: String, CaseIterable, Sendable, DatabaseValueConvertible, CustomStringConvertible {
    case create, update, delete
}

extension PermissionAction {
    /// The stored word, so that messages read `may not manage_scripts`.
    public var description: String { rawValue }
}

extension AuditOutcome {
    public var description: String { rawValue }
}

extension HistoryOp {
    public var description: String { rawValue }
}
