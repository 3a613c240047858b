/// The CRM's schema: every table, declared once.
///
/// docs/data-model.md describes each table and field; keep the two in step.
public enum CRMSchema {
    /// The schema version this build writes and understands. A database with a higher
    /// version was written by a newer Rolo and is refused.
    public static let version = 8

    /// SQLite's `application_id` for Rolo databases ("ROLO" in ASCII).
    public static let applicationID: Int32 = 0x524F_4C4F

    // MARK: - Enumerations

    public static let dealStages = ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
    public static let leadStatuses = ["new", "contacted", "qualified", "unqualified", "converted", "junk"]
    public static let leadSources = [
        "web", "webinar", "referral", "event", "cold_call", "partner", "advertising", "trade_show",
    ]
    public static let ticketStatuses = ["new", "open", "pending", "resolved", "closed"]
    public static let ticketPriorities = ["low", "normal", "high", "urgent"]
    public static let ticketCategories = [
        "billing", "bug", "how_to", "feature_request", "account_access", "integration", "data_quality",
    ]
    public static let taskStatuses = ["open", "in_progress", "done", "cancelled"]
    public static let activityKinds = ["call", "email", "meeting", "note"]
    public static let campaignChannels = ["email", "webinar", "event", "social", "paid_search", "content"]
    public static let campaignStatuses = ["planned", "active", "completed"]
    public static let memberStatuses = ["invited", "rsvp", "attended", "responded", "bounced"]
    public static let industries = [
        "software", "manufacturing", "retail", "healthcare", "finance", "education", "logistics",
        "energy", "media", "hospitality", "construction", "agriculture",
    ]
    public static let permissionActions = PermissionAction.allCases.map(\.rawValue)
    public static let permissionScopes = ["own", "team", "all"]
    public static let permissionEffects = ["allow", "deny"]
    public static let auditOutcomes = AuditOutcome.allCases.map(\.rawValue)
    /// The outcomes schema versions 1 and 2 allowed (the v3 migration adds `rolled_back`).
    static let auditOutcomesV2 = ["ok", "refused", "error", "dry_run"]

    // MARK: - Common fields

    private static let id = FieldDefinition("id", .integer, required: true, system: true)
    private static let createdAt = FieldDefinition("created_at", .timestamp, required: true, system: true)
    private static let updatedAt = FieldDefinition("updated_at", .timestamp, required: true, system: true)
    private static let owner = FieldDefinition("owner_id", .reference("users"), required: true)

    // MARK: - Security

    public static let teams = EntityDefinition(
        name: "teams", singular: "team",
        fields: [
            id,
            FieldDefinition("name", .text, required: true, unique: true),
            FieldDefinition("description", .text),
            FieldDefinition("manager_id", .reference("users")),
            createdAt,
        ],
        naturalKey: ["name"], listFields: ["id", "name", "manager_id", "description"], titleSQL: SchemaSQL.Title.column("name"),
        kind: .security
    )

    public static let users = EntityDefinition(
        name: "users", singular: "user",
        fields: [
            id,
            FieldDefinition("handle", .text, required: true, unique: true),
            FieldDefinition("name", .text, required: true),
            FieldDefinition("email", .email),
            FieldDefinition("team_id", .reference("teams")),
            FieldDefinition("active", .boolean, required: true, sqlDefault: SchemaSQL.defaultValue(1)),
            createdAt, updatedAt,
        ],
        naturalKey: ["handle"], listFields: ["id", "handle", "name", "team_id", "active"], titleSQL: SchemaSQL.Title.column("handle"),
        indexes: [IndexDefinition(["team_id"])],
        kind: .security
    )

    public static let roles = EntityDefinition(
        name: "roles", singular: "role",
        fields: [
            id,
            FieldDefinition("name", .text, required: true, unique: true),
            FieldDefinition("description", .text),
            FieldDefinition("builtin", .boolean, required: true, sqlDefault: SchemaSQL.defaultValue(0)),
            createdAt,
        ],
        naturalKey: ["name"], listFields: ["id", "name", "description"], titleSQL: SchemaSQL.Title.column("name"),
        kind: .security
    )

    public static let rolePermissions = EntityDefinition(
        name: "role_permissions", singular: "role_permission",
        fields: [
            id,
            FieldDefinition("role_id", .reference("roles"), required: true),
            FieldDefinition("effect", .enumeration(permissionEffects), required: true),
            FieldDefinition("action", .enumeration(permissionActions), required: true),
            FieldDefinition("entity", .text, required: true),
            FieldDefinition("scope", .enumeration(permissionScopes), required: true),
            /// Comma-separated field names the rule is limited to; NULL for every field.
            FieldDefinition("fields", .text),
            FieldDefinition("reason", .text),
            createdAt,
        ],
        naturalKey: [], listFields: ["id", "role_id", "effect", "action", "entity", "scope", "fields"],
        titleSQL: SchemaSQL.Title.rule,
        indexes: [IndexDefinition(["role_id"])],
        kind: .security
    )

    public static let userRoles = EntityDefinition(
        name: "user_roles", singular: "user_role",
        fields: [
            id,
            FieldDefinition("user_id", .reference("users"), required: true),
            FieldDefinition("role_id", .reference("roles"), required: true),
            FieldDefinition("granted_by", .reference("users")),
            FieldDefinition("granted_at", .timestamp, required: true),
        ],
        naturalKey: [], listFields: ["id", "user_id", "role_id", "granted_by", "granted_at"],
        titleSQL: SchemaSQL.Title.grant,
        indexes: [IndexDefinition(["role_id"])],
        tableConstraints: [SchemaSQL.unique(["user_id", "role_id"])],
        kind: .security
    )

    // MARK: - Domain

    public static let accounts = EntityDefinition(
        name: "accounts", singular: "account",
        fields: [
            id,
            FieldDefinition("name", .text, required: true),
            FieldDefinition("industry", .enumeration(industries)),
            FieldDefinition("website", .text),
            FieldDefinition("phone", .text),
            FieldDefinition("city", .text),
            FieldDefinition("country", .text),
            FieldDefinition("last_verified_at", .timestamp, since: 8),
            FieldDefinition("annual_revenue", .money),
            FieldDefinition("employees", .integer),
            FieldDefinition("customer_since", .date),
            owner, createdAt, updatedAt,
        ],
        naturalKey: ["name"], listFields: ["id", "name", "industry", "city", "owner_id"], titleSQL: SchemaSQL.Title.column("name"),
        indexes: [
            IndexDefinition(["name"], collateNoCase: true), IndexDefinition(["owner_id"]),
            IndexDefinition(["updated_at"]),
        ]
    )

    public static let contacts = EntityDefinition(
        name: "contacts", singular: "contact",
        fields: [
            id,
            FieldDefinition("first_name", .text),
            FieldDefinition("last_name", .text, required: true),
            FieldDefinition("email", .email),
            FieldDefinition("phone", .text),
            FieldDefinition("title", .text),
            FieldDefinition("job_function", .text),
            /// The company as typed on the record; `account` is the linked account.
            FieldDefinition("company", .text),
            FieldDefinition("account_id", .reference("accounts")),
            /// The postal address (schema version 8): street, city, region, postcode, country.
            FieldDefinition("street", .text, since: 8),
            FieldDefinition("city", .text),
            FieldDefinition("region", .text, since: 8),
            FieldDefinition("postcode", .text, since: 8),
            FieldDefinition("country", .text),
            FieldDefinition("last_verified_at", .timestamp),
            owner, createdAt, updatedAt,
        ],
        naturalKey: ["email"],
        listFields: ["id", "first_name", "last_name", "email", "title", "company"],
        titleSQL: SchemaSQL.Title.fullName,
        indexes: [
            IndexDefinition(["email"], collateNoCase: true), IndexDefinition(["account_id"]),
            IndexDefinition(["owner_id"]), IndexDefinition(["last_name", "first_name"]),
            IndexDefinition(["company"]), IndexDefinition(["updated_at"]),
        ]
    )

    public static let campaigns = EntityDefinition(
        name: "campaigns", singular: "campaign",
        fields: [
            id,
            FieldDefinition("name", .text, required: true, unique: true),
            FieldDefinition("channel", .enumeration(campaignChannels), required: true),
            FieldDefinition("status", .enumeration(campaignStatuses), required: true),
            FieldDefinition("start_date", .date),
            FieldDefinition("end_date", .date),
            FieldDefinition("budget", .money),
            owner, createdAt, updatedAt,
        ],
        naturalKey: ["name"], listFields: ["id", "name", "channel", "status", "start_date"], titleSQL: SchemaSQL.Title.column("name"),
        indexes: [IndexDefinition(["owner_id"])]
    )

    public static let leads = EntityDefinition(
        name: "leads", singular: "lead",
        fields: [
            id,
            FieldDefinition("first_name", .text),
            FieldDefinition("last_name", .text, required: true),
            FieldDefinition("email", .email),
            FieldDefinition("phone", .text),
            FieldDefinition("company", .text),
            FieldDefinition("title", .text),
            FieldDefinition("source", .enumeration(leadSources), required: true),
            FieldDefinition("status", .enumeration(leadStatuses), required: true, sqlDefault: SchemaSQL.defaultValue("new")),
            FieldDefinition("score", .integer, required: true, sqlDefault: SchemaSQL.defaultValue(0)),
            FieldDefinition("campaign_id", .reference("campaigns")),
            FieldDefinition("last_verified_at", .timestamp, since: 8),
            owner, createdAt, updatedAt,
        ],
        naturalKey: ["email"], listFields: ["id", "first_name", "last_name", "company", "source", "status"],
        titleSQL: SchemaSQL.Title.fullName,
        indexes: [
            IndexDefinition(["email"], collateNoCase: true), IndexDefinition(["owner_id"]),
            IndexDefinition(["status"]), IndexDefinition(["source"]), IndexDefinition(["campaign_id"], sparse: true),
            IndexDefinition(["updated_at"]),
        ]
    )

    public static let deals = EntityDefinition(
        name: "deals", singular: "deal",
        fields: [
            id,
            FieldDefinition("name", .text, required: true),
            FieldDefinition("account_id", .reference("accounts")),
            FieldDefinition("contact_id", .reference("contacts")),
            FieldDefinition("amount", .money, required: true, sqlDefault: SchemaSQL.defaultValue(0)),
            FieldDefinition("stage", .enumeration(dealStages), required: true),
            FieldDefinition("close_date", .date),
            owner, createdAt, updatedAt,
        ],
        naturalKey: ["name"], listFields: ["id", "name", "stage", "amount", "close_date", "owner_id"],
        titleSQL: SchemaSQL.Title.column("name"),
        indexes: [
            IndexDefinition(["account_id"]), IndexDefinition(["contact_id"]), IndexDefinition(["owner_id"]),
            IndexDefinition(["stage"]), IndexDefinition(["close_date"]), IndexDefinition(["updated_at"]),
        ]
    )

    public static let tickets = EntityDefinition(
        name: "tickets", singular: "ticket",
        fields: [
            id,
            FieldDefinition("subject", .text, required: true),
            FieldDefinition("description", .text),
            FieldDefinition("status", .enumeration(ticketStatuses), required: true, sqlDefault: SchemaSQL.defaultValue("new")),
            FieldDefinition("priority", .enumeration(ticketPriorities), required: true, sqlDefault: SchemaSQL.defaultValue("normal")),
            FieldDefinition("category", .enumeration(ticketCategories)),
            FieldDefinition("contact_id", .reference("contacts")),
            FieldDefinition("account_id", .reference("accounts")),
            FieldDefinition("assignee_id", .reference("users")),
            FieldDefinition("opened_at", .timestamp, required: true),
            FieldDefinition("closed_at", .timestamp),
            owner, createdAt, updatedAt,
        ],
        naturalKey: [], listFields: ["id", "subject", "status", "priority", "opened_at"], titleSQL: SchemaSQL.Title.column("subject"),
        indexes: [
            IndexDefinition(["contact_id"]), IndexDefinition(["account_id"]), IndexDefinition(["assignee_id"]),
            IndexDefinition(["owner_id"]), IndexDefinition(["status"]), IndexDefinition(["updated_at"]),
        ]
    )

    public static let activities = EntityDefinition(
        name: "activities", singular: "activity",
        fields: [
            id,
            FieldDefinition("kind", .enumeration(activityKinds), required: true),
            FieldDefinition("subject", .text, required: true),
            FieldDefinition("body", .text),
            FieldDefinition("contact_id", .reference("contacts")),
            FieldDefinition("account_id", .reference("accounts")),
            FieldDefinition("lead_id", .reference("leads")),
            FieldDefinition("deal_id", .reference("deals")),
            FieldDefinition("ticket_id", .reference("tickets")),
            FieldDefinition("occurred_at", .timestamp, required: true),
            owner, createdAt, updatedAt,
        ],
        naturalKey: [], listFields: ["id", "kind", "subject", "occurred_at", "owner_id"], titleSQL: SchemaSQL.Title.column("subject"),
        indexes: [
            IndexDefinition(["contact_id"]), IndexDefinition(["account_id"]), IndexDefinition(["lead_id"], sparse: true),
            IndexDefinition(["deal_id"], sparse: true), IndexDefinition(["ticket_id"], sparse: true), IndexDefinition(["owner_id"]),
            IndexDefinition(["occurred_at"]),
        ]
    )

    public static let tasks = EntityDefinition(
        name: "tasks", singular: "task",
        fields: [
            id,
            FieldDefinition("title", .text, required: true),
            FieldDefinition("status", .enumeration(taskStatuses), required: true, sqlDefault: SchemaSQL.defaultValue("open")),
            FieldDefinition("due_date", .date),
            FieldDefinition("assignee_id", .reference("users")),
            FieldDefinition("contact_id", .reference("contacts")),
            FieldDefinition("account_id", .reference("accounts")),
            FieldDefinition("lead_id", .reference("leads")),
            FieldDefinition("deal_id", .reference("deals")),
            FieldDefinition("ticket_id", .reference("tickets")),
            FieldDefinition("completed_at", .timestamp),
            owner, createdAt, updatedAt,
        ],
        naturalKey: [], listFields: ["id", "title", "status", "due_date", "assignee_id"], titleSQL: SchemaSQL.Title.column("title"),
        indexes: [
            IndexDefinition(["assignee_id", "status"]), IndexDefinition(["owner_id"]),
            IndexDefinition(["contact_id"], sparse: true), IndexDefinition(["deal_id"], sparse: true), IndexDefinition(["due_date"]),
            IndexDefinition(["lead_id"], sparse: true), IndexDefinition(["account_id"], sparse: true),
            IndexDefinition(["ticket_id"], sparse: true),
        ]
    )

    public static let campaignMembers = EntityDefinition(
        name: "campaign_members", singular: "campaign_member",
        fields: [
            id,
            FieldDefinition("campaign_id", .reference("campaigns"), required: true),
            FieldDefinition("lead_id", .reference("leads")),
            FieldDefinition("contact_id", .reference("contacts")),
            FieldDefinition("status", .enumeration(memberStatuses), required: true, sqlDefault: SchemaSQL.defaultValue("invited")),
            FieldDefinition("responded_at", .timestamp),
            owner, createdAt, updatedAt,
        ],
        naturalKey: [], listFields: ["id", "campaign_id", "lead_id", "contact_id", "status"],
        titleSQL: SchemaSQL.Title.numbered("member"),
        indexes: [
            IndexDefinition(["campaign_id", "status"]), IndexDefinition(["lead_id"], sparse: true),
            IndexDefinition(["contact_id"], sparse: true), IndexDefinition(["owner_id"]),
        ],
        tableConstraints: [SchemaSQL.check(SchemaSQL.eitherSet("lead_id", "contact_id"))]
    )

    // MARK: - System

    public static let changeSets = EntityDefinition(
        name: "change_sets", singular: "change_set",
        fields: [
            id,
            FieldDefinition("user_id", .reference("users"), required: true),
            FieldDefinition("impersonator_id", .reference("users")),
            FieldDefinition("command", .text, required: true),
            FieldDefinition("summary", .text),
            FieldDefinition("records", .integer, required: true, sqlDefault: SchemaSQL.defaultValue(0)),
            FieldDefinition("undoes_id", .reference("change_sets")),
            FieldDefinition("undone_by_id", .reference("change_sets")),
            createdAt,
        ],
        naturalKey: [], listFields: ["id", "created_at", "user_id", "records", "command"], titleSQL: SchemaSQL.Title.column("command"),
        kind: .system
    )

    public static let fieldHistory = EntityDefinition(
        name: "field_history", singular: "field_change",
        fields: [
            id,
            FieldDefinition("change_set_id", .reference("change_sets")),
            FieldDefinition("entity", .text, required: true),
            FieldDefinition("record_id", .integer, required: true),
            /// create, update or delete.
            FieldDefinition("op", .enumeration(HistoryOp.allCases.map(\.rawValue)), required: true),
            FieldDefinition("field", .text, required: true),
            // Old and new values keep their storage type (no column affinity), so undo is exact.
            FieldDefinition("old_value", .text),
            FieldDefinition("new_value", .text),
            FieldDefinition("user_id", .reference("users")),
            FieldDefinition("changed_at", .timestamp, required: true),
            /// An update row's record's `updated_at` before the change (version 6), for undo.
            FieldDefinition("old_updated_at", .timestamp),
        ],
        naturalKey: [], listFields: ["changed_at", "user_id", "entity", "record_id", "field", "old_value", "new_value"],
        titleSQL: SchemaSQL.Title.column("field"),
        indexes: [IndexDefinition(["entity", "record_id", "field"]), IndexDefinition(["change_set_id"])],
        kind: .system
    )

    public static let auditLog = EntityDefinition(
        name: "audit_log", singular: "audit",
        fields: [
            id,
            FieldDefinition("at", .timestamp, required: true),
            FieldDefinition("user_id", .reference("users")),
            FieldDefinition("impersonator_id", .reference("users")),
            FieldDefinition("command", .text, required: true),
            FieldDefinition("outcome", .enumeration(auditOutcomes), required: true),
            FieldDefinition("rows", .integer),
            FieldDefinition("message", .text),
            FieldDefinition("change_set_id", .integer),
            FieldDefinition("prev_hash", .text),
            FieldDefinition("hash", .text),
        ],
        naturalKey: [], listFields: ["id", "at", "user_id", "impersonator_id", "outcome", "rows", "command"],
        titleSQL: SchemaSQL.Title.column("command"),
        indexes: [IndexDefinition(["at"]), IndexDefinition(["user_id"])],
        kind: .system
    )

    public static let savedScripts = EntityDefinition(
        name: "saved_scripts", singular: "saved_script",
        fields: [
            id,
            FieldDefinition("name", .text, required: true, unique: true),
            FieldDefinition("body", .text, required: true),
            FieldDefinition("description", .text),
            FieldDefinition("created_by", .reference("users")),
            createdAt, updatedAt,
        ],
        naturalKey: ["name"], listFields: ["id", "name", "description", "updated_at"], titleSQL: SchemaSQL.Title.column("name"),
        kind: .system
    )

    /// Every version of a saved script (`save script NAME from FILE`): saving again adds one and
    /// keeps the others (schema version 7).
    public static let scriptVersions = EntityDefinition(
        name: "script_versions", singular: "script_version",
        fields: [
            id,
            FieldDefinition("script_id", .reference("saved_scripts"), required: true),
            FieldDefinition("version", .integer, required: true),
            FieldDefinition("body", .text, required: true),
            FieldDefinition("description", .text),
            /// The body's SHA-256, hex: what a plan made from this version names.
            FieldDefinition("sha256", .text, required: true),
            FieldDefinition("saved_by", .reference("users")),
            createdAt,
        ],
        naturalKey: [], listFields: ["id", "script_id", "version", "description", "saved_by", "created_at"],
        titleSQL: SchemaSQL.Title.column("version"),
        indexes: [IndexDefinition(["script_id", "version"], unique: true)],
        kind: .system
    )

    /// What happened to a saved script, for `history script NAME`: saved, ran (a run that was
    /// kept, with its change set) or dropped (schema version 7).
    public static let scriptEvents = EntityDefinition(
        name: "script_events", singular: "script_event",
        fields: [
            id,
            FieldDefinition("script_id", .reference("saved_scripts"), required: true),
            FieldDefinition("version", .integer),
            FieldDefinition("action", .enumeration(["saved", "ran", "dropped"]), required: true),
            FieldDefinition("user_id", .reference("users")),
            FieldDefinition("change_set_id", .reference("change_sets")),
            createdAt,
        ],
        naturalKey: [], listFields: ["id", "script_id", "version", "action", "user_id", "created_at"],
        titleSQL: SchemaSQL.Title.column("action"),
        indexes: [IndexDefinition(["script_id"])],
        kind: .system
    )

    /// The audits kept by `audit … --save` (schema version 8): one row a run, its report as JSON,
    /// for `audit history` (the data-governance article's seventh step: repeat).
    public static let auditSnapshots = EntityDefinition(
        name: "audit_snapshots", singular: "audit_snapshot",
        fields: [
            id,
            /// The entity audited: contacts, accounts or leads.
            FieldDefinition("entity", .text, required: true),
            FieldDefinition("records", .integer, required: true),
            /// The findings' counts added up: how much there is to fix.
            FieldDefinition("findings", .integer, required: true),
            /// The whole report, as `audit … as json` prints it.
            FieldDefinition("report", .text, required: true),
            FieldDefinition("created_by", .reference("users")),
            createdAt,
        ],
        naturalKey: [], listFields: ["id", "entity", "records", "findings", "created_by", "created_at"],
        titleSQL: SchemaSQL.Title.column("entity"),
        indexes: [IndexDefinition(["entity", "created_at"])],
        kind: .system
    )

    /// Validation rules (`rule …`): stored as Rolo source text and bound when enforced.
    public static let validationRules = EntityDefinition(
        name: "validation_rules", singular: "validation_rule",
        fields: [
            id,
            FieldDefinition("entity", .text, required: true),
            /// The field a `must` or `require` rule is about; NULL for a rule on the whole record.
            FieldDefinition("field", .text),
            FieldDefinition("kind", .enumeration(RuleKind.allCases.map(\.rawValue)), required: true),
            /// The rule as written after `rule` (without its message): `contacts.email must be valid email`.
            FieldDefinition("rule", .text, required: true),
            /// The condition every record of the entity must meet, in Rolo's condition language.
            FieldDefinition("condition", .text, required: true),
            FieldDefinition("message", .text),
            FieldDefinition("created_by", .reference("users")),
            createdAt,
        ],
        naturalKey: [], listFields: ["id", "entity", "rule", "message"], titleSQL: SchemaSQL.Title.column("rule"),
        indexes: [IndexDefinition(["entity"])],
        kind: .system
    )

    /// Every table, in creation order (referenced tables first, except the users ↔ teams cycle,
    /// which SQLite allows because foreign keys are checked on write, not on CREATE).
    public static let entities: [EntityDefinition] = [
        teams, users, roles, rolePermissions, userRoles,
        accounts, contacts, campaigns, leads, deals, tickets, activities, tasks, campaignMembers,
        changeSets, fieldHistory, auditLog, savedScripts, validationRules, scriptVersions, scriptEvents, auditSnapshots,
    ]

    /// Looks up an entity by plural or singular name.
    public static func entity(named name: String) -> EntityDefinition? {
        byName[name] ?? byName[name.lowercased()]
    }

    /// Plural and singular names to entities (looked up for every query).
    private static let byName: [String: EntityDefinition] = {
        var names: [String: EntityDefinition] = [:]
        for entity in entities {
            names[entity.name] = names[entity.name] ?? entity
            names[entity.singular] = names[entity.singular] ?? entity
        }
        return names
    }()
}
