import GRDB

/// One permission rule as shipped: effect × action × entity × scope × optional fields.
public struct PermissionRule: Sendable, Equatable {
    public enum Effect: String, Sendable { case allow, deny }
    public let effect: Effect
    public let action: PermissionAction
    /// A table name, or `*` for every entity.
    public let entity: String
    public let scope: String
    /// Field names the rule is limited to; empty for the whole record.
    public let fields: [String]
    public let reason: String

    public init(
        _ effect: Effect, _ action: PermissionAction, _ entity: String, _ scope: String, fields: [String] = [],
        reason: String
    ) {
        self.effect = effect
        self.action = action
        self.entity = entity
        self.scope = scope
        self.fields = fields
        self.reason = reason
    }
}

/// The nine roles Rolo ships with and their rules, from the CRM roles article (seeds/000).
///
/// docs/roles.md shows this matrix with the reason for each line; keep them in step.
public enum BuiltinRoles {
    public struct Role: Sendable {
        public let name: String
        public let description: String
        public let rules: [PermissionRule]
    }

    static let salesEntities = ["accounts", "contacts", "deals", "activities", "tasks"]
    static let directory = ["users", "teams", "roles"]

    /// Rules added by schema version 5 (`Migrations`), with the actions they came with: sales managers
    /// import contacts and accounts (lists from events, a rep's spreadsheet); what an import may change
    /// is still each row's create, update and assign rights.
    static let salesManagerImports = [
        PermissionRule(.allow, .import, "contacts", "team", reason: "managers load event lists and their reps' spreadsheets"),
        PermissionRule(.allow, .import, "accounts", "team", reason: "managers load event lists and their reps' spreadsheets"),
    ]
    static let adminAuditFields = PermissionRule(
        .allow, .setAuditFields, "*", "all", reason: "the administrator owns the CRM: data governance, processes, training")

    /// Read access to the directory (users, teams, roles) that every role gets.
    static func directoryRules() -> [PermissionRule] {
        directory.map { PermissionRule(.allow, .read, $0, "all", reason: "everyone may see who is who and which roles exist") }
    }

    public static let all: [Role] = [
        Role(
            name: "admin", description: "CRM manager: everything, including users, roles, grants, imports and saved scripts",
            rules: PermissionAction.allCases.map {
                PermissionRule(.allow, $0, "*", "all", reason: "the administrator owns the CRM: data governance, processes, training")
            }
        ),
        Role(
            name: "sales_manager",
            description: "Leads a sales team: team metrics, delegates tasks, updates and overrides accounts and contacts",
            rules: directoryRules() + [
                PermissionRule(.allow, .read, "accounts", "all", reason: "managers see the whole customer base"),
                PermissionRule(.allow, .read, "contacts", "all", reason: "managers see the whole customer base"),
                PermissionRule(.allow, .read, "leads", "all", reason: "managers follow the pipeline from lead to close"),
                PermissionRule(.allow, .read, "deals", "all", reason: "team metrics and forecasts"),
                PermissionRule(.allow, .read, "activities", "all", reason: "managers review their reps' interactions"),
                PermissionRule(.allow, .read, "tasks", "all", reason: "managers review follow-ups"),
                PermissionRule(.allow, .read, "tickets", "all", reason: "managers see customer issues before calls"),
                PermissionRule(.allow, .read, "campaigns", "all", reason: "managers see which campaigns feed the pipeline"),
                PermissionRule(.allow, .read, "campaign_members", "all", reason: "managers see which campaigns feed the pipeline"),
                PermissionRule(.allow, .create, "accounts", "all", reason: "managers add accounts"),
                PermissionRule(.allow, .create, "contacts", "all", reason: "managers add contacts"),
                PermissionRule(.allow, .create, "deals", "all", reason: "managers open deals for the team"),
                PermissionRule(.allow, .create, "activities", "all", reason: "managers log their own interactions"),
                PermissionRule(.allow, .create, "tasks", "all", reason: "managers delegate tasks to reps"),
                PermissionRule(.allow, .update, "accounts", "team", reason: "managers update and override their team's accounts"),
                PermissionRule(.allow, .update, "contacts", "team", reason: "managers update and override their team's contacts"),
                PermissionRule(.allow, .update, "deals", "team", reason: "managers adjust their team's deals"),
                PermissionRule(.allow, .update, "tasks", "team", reason: "managers re-plan their team's tasks"),
                PermissionRule(.allow, .update, "leads", "team", reason: "managers qualify their team's leads"),
                PermissionRule(.allow, .assign, "accounts", "team", reason: "managers move accounts between reps"),
                PermissionRule(.allow, .assign, "contacts", "team", reason: "managers move contacts between reps"),
                PermissionRule(.allow, .assign, "deals", "team", reason: "managers hand deals to another rep"),
                PermissionRule(.allow, .assign, "tasks", "team", reason: "managers delegate tasks to reps"),
                PermissionRule(.allow, .assign, "leads", "team", reason: "managers route leads to reps"),
                PermissionRule(.allow, .merge, "contacts", "team", reason: "managers clean up duplicates in their book"),
                PermissionRule(.allow, .merge, "accounts", "team", reason: "managers clean up duplicates in their book"),
                PermissionRule(.allow, .delete, "tasks", "team", reason: "managers drop obsolete follow-ups"),
                PermissionRule(.allow, .export, "deals", "team", reason: "team reports"),
                PermissionRule(.allow, .export, "accounts", "team", reason: "team reports"),
                PermissionRule(.allow, .export, "contacts", "team", reason: "team call lists"),
            ] + salesManagerImports
        ),
        Role(
            name: "sales_rep",
            description: "The most restricted: tracks interactions, keeps contacts current, tasks and reminders, own deals",
            rules: directoryRules() + [
                PermissionRule(.allow, .read, "accounts", "all", reason: "reps look up any customer before a call"),
                PermissionRule(.allow, .read, "contacts", "all", reason: "reps look up any contact before a call"),
                PermissionRule(.allow, .read, "deals", "own", reason: "reps work their own deals only"),
                PermissionRule(.allow, .read, "leads", "own", reason: "reps work the leads routed to them"),
                PermissionRule(.allow, .read, "activities", "all", reason: "the interaction history of a customer is shared"),
                PermissionRule(.allow, .read, "tasks", "own", reason: "reps see their own tasks and reminders"),
                PermissionRule(.allow, .read, "tickets", "all", reason: "reps see open issues before calling a customer"),
                PermissionRule(.allow, .read, "campaigns", "all", reason: "reps know which campaign a lead came from"),
                PermissionRule(.allow, .create, "contacts", "all", reason: "reps add the people they meet"),
                PermissionRule(.allow, .create, "activities", "all", reason: "reps track their interactions"),
                PermissionRule(.allow, .create, "tasks", "all", reason: "reps set their own reminders"),
                PermissionRule(.allow, .create, "deals", "all", reason: "reps open deals they will own"),
                PermissionRule(.allow, .update, "contacts", "own", reason: "reps keep their contacts current"),
                PermissionRule(.allow, .update, "deals", "own", reason: "reps move their own deals through the stages"),
                PermissionRule(.allow, .update, "tasks", "own", reason: "reps close their own tasks"),
                PermissionRule(.allow, .update, "leads", "own", reason: "reps qualify the leads routed to them"),
                PermissionRule(.allow, .update, "activities", "own", reason: "reps correct their own notes"),
            ]
        ),
        Role(
            name: "support_rep", description: "Tickets; supports the contacts of accounts; spots high-value customers",
            rules: directoryRules() + [
                PermissionRule(.allow, .read, "tickets", "all", reason: "support works the whole queue"),
                PermissionRule(.allow, .create, "tickets", "all", reason: "support opens tickets for callers"),
                PermissionRule(.allow, .update, "tickets", "team", reason: "support updates tickets in its team's queue"),
                PermissionRule(.allow, .assign, "tickets", "team", reason: "support hands tickets within the team"),
                PermissionRule(.allow, .read, "contacts", "all", reason: "support needs the caller's details"),
                PermissionRule(
                    .allow, .update, "contacts", "all", fields: ["phone", "email", "title", "last_verified_at"],
                    reason: "support corrects contact details callers give"),
                PermissionRule(.allow, .read, "accounts", "all", reason: "support spots high-value customers"),
                PermissionRule(.allow, .read, "deals", "all", reason: "support sees what a customer is worth"),
                PermissionRule(.allow, .read, "activities", "all", reason: "support sees the customer's history"),
                PermissionRule(.allow, .create, "activities", "all", reason: "support logs calls and emails"),
                PermissionRule(.allow, .read, "tasks", "own", reason: "support follows up on its own tasks"),
                PermissionRule(.allow, .create, "tasks", "all", reason: "support sets follow-ups"),
                PermissionRule(.allow, .update, "tasks", "own", reason: "support closes its own tasks"),
            ]
        ),
        Role(
            name: "marketing_manager", description: "Leads and their quality (MQL to close), campaigns, marketing-to-CRM flows",
            rules: directoryRules() + [
                PermissionRule(.allow, .read, "leads", "all", reason: "marketing owns lead quality"),
                PermissionRule(.allow, .create, "leads", "all", reason: "marketing brings leads in"),
                PermissionRule(.allow, .update, "leads", "all", reason: "marketing scores and qualifies leads"),
                PermissionRule(.allow, .assign, "leads", "all", reason: "marketing routes leads to sales"),
                PermissionRule(.allow, .delete, "leads", "all", reason: "marketing removes junk leads"),
                PermissionRule(.allow, .merge, "leads", "all", reason: "marketing merges duplicate leads"),
                PermissionRule(.allow, .import, "leads", "all", reason: "webinar and event lists arrive as files"),
                PermissionRule(.allow, .export, "leads", "all", reason: "segmented lists for campaigns"),
                PermissionRule(.allow, .read, "campaigns", "all", reason: "marketing runs the campaigns"),
                PermissionRule(.allow, .create, "campaigns", "all", reason: "marketing runs the campaigns"),
                PermissionRule(.allow, .update, "campaigns", "all", reason: "marketing runs the campaigns"),
                PermissionRule(.allow, .read, "campaign_members", "all", reason: "invitations, RSVPs and attendance"),
                PermissionRule(.allow, .create, "campaign_members", "all", reason: "invitations, RSVPs and attendance"),
                PermissionRule(.allow, .update, "campaign_members", "all", reason: "invitations, RSVPs and attendance"),
                PermissionRule(.allow, .import, "campaign_members", "all", reason: "attendee lists arrive as files"),
                PermissionRule(.allow, .read, "contacts", "all", reason: "segmenting customers for outreach"),
                PermissionRule(.allow, .export, "contacts", "all", reason: "segmented lists for campaigns"),
                PermissionRule(.allow, .read, "accounts", "all", reason: "segmenting by industry and size"),
                PermissionRule(.allow, .read, "deals", "all", reason: "measuring MQL to close"),
                PermissionRule(.allow, .read, "activities", "all", reason: "measuring marketing touches"),
                PermissionRule(.allow, .read, "tasks", "own", reason: "campaign follow-ups"),
                PermissionRule(.allow, .create, "tasks", "all", reason: "campaign follow-ups"),
                PermissionRule(.allow, .update, "tasks", "own", reason: "campaign follow-ups"),
            ]
        ),
        Role(
            name: "marketing_rep", description: "Outreach to customers and partners, campaign tasks, pulling segmented lists",
            rules: directoryRules() + [
                PermissionRule(.allow, .read, "leads", "all", reason: "outreach works from the lead list"),
                PermissionRule(.allow, .create, "leads", "all", reason: "outreach adds the leads it finds"),
                PermissionRule(.allow, .update, "leads", "own", reason: "reps update the leads they own"),
                PermissionRule(.allow, .read, "campaigns", "all", reason: "reps work on campaigns"),
                PermissionRule(.allow, .read, "campaign_members", "all", reason: "reps track invitations and RSVPs"),
                PermissionRule(.allow, .create, "campaign_members", "all", reason: "reps invite people"),
                PermissionRule(.allow, .update, "campaign_members", "own", reason: "reps record RSVPs and attendance"),
                PermissionRule(.allow, .read, "contacts", "all", reason: "outreach to customers and partners"),
                PermissionRule(.allow, .export, "contacts", "all", reason: "pulling segmented lists"),
                PermissionRule(.allow, .export, "leads", "all", reason: "pulling segmented lists"),
                PermissionRule(.allow, .read, "accounts", "all", reason: "segmenting by industry"),
                PermissionRule(.allow, .read, "tasks", "own", reason: "campaign tasks"),
                PermissionRule(.allow, .create, "tasks", "all", reason: "campaign tasks"),
                PermissionRule(.allow, .update, "tasks", "own", reason: "campaign tasks"),
                PermissionRule(.allow, .create, "activities", "all", reason: "logging outreach"),
            ]
        ),
        Role(
            name: "data_analyst", description: "Reads and exports everything, audits data for cleanliness; no edits",
            rules: [
                PermissionRule(.allow, .read, "*", "all", reason: "analysis and data audits need every table, the audit log included"),
                PermissionRule(.allow, .export, "*", "all", reason: "analysis happens in other tools"),
            ]
        ),
        Role(
            name: "cfo", description: "High-level revenue and pipeline figures; no need for contact details",
            rules: directoryRules() + [
                PermissionRule(.allow, .read, "deals", "all", reason: "revenue and pipeline"),
                PermissionRule(.allow, .read, "accounts", "all", reason: "revenue by customer"),
                PermissionRule(.allow, .export, "deals", "all", reason: "finance models"),
                PermissionRule(.allow, .export, "accounts", "all", reason: "finance models"),
                PermissionRule(.allow, .read, "contacts", "all", reason: "deal contacts by name"),
                PermissionRule(
                    .deny, .read, "contacts", "all", fields: ["email", "phone"], reason: "finance has no need for contact details"),
            ]
        ),
        Role(
            name: "executive", description: "High-level revenue, pipeline and service figures; no need for contact details",
            rules: directoryRules() + [
                PermissionRule(.allow, .read, "deals", "all", reason: "pipeline and revenue"),
                PermissionRule(.allow, .read, "accounts", "all", reason: "the customer base"),
                PermissionRule(.allow, .read, "leads", "all", reason: "marketing funnel"),
                PermissionRule(.allow, .read, "campaigns", "all", reason: "marketing funnel"),
                PermissionRule(.allow, .read, "tickets", "all", reason: "service levels"),
                PermissionRule(.allow, .read, "contacts", "all", reason: "key contacts by name"),
                PermissionRule(
                    .deny, .read, "contacts", "all", fields: ["email", "phone"], reason: "executives have no need for contact details"),
                PermissionRule(
                    .deny, .read, "leads", "all", fields: ["email", "phone"], reason: "executives have no need for contact details"),
            ]
        ),
    ]

    /// The schema version that brought a built-in rule: `manage_rules` came with 4, admin's
    /// `set_audit_fields` and sales managers' imports with 5, everything else with 1. Each
    /// migration installs its version's rules, so a new file and an upgraded one hold the same.
    static func version(of rule: PermissionRule) -> Int {
        if rule.action == .manageRules { return 4 }
        if rule.action == .setAuditFields || salesManagerImports.contains(rule) { return 5 }
        return 1
    }

    /// Inserts the built-in roles' rules of schema `version`, and the roles themselves unless
    /// `rolesExist` (a later migration adding rules to the shipped roles).
    static func install(in db: Database, version: Int, rolesExist: Bool) throws {
        for role in all {
            let roleID: Int64
            if rolesExist {
                guard
                    let id = try Int64.fetchOne(
                        db,
                        Select(Sql.name("id"), from: "roles").where(Sql.equals(Sql.name("name"), Sql.value(role.name)))
                            .where(Sql.equals(Sql.name("builtin"), Sql.value(1))).sql)
                else { continue }
                roleID = id
            } else {
                try db.execute(
                    Insert(
                        into: "roles",
                        [
                            ("name", role.name.databaseValue), ("description", role.description.databaseValue),
                            ("builtin", 1.databaseValue), ("created_at", "2026-01-01T00:00:00Z".databaseValue),
                        ]
                    ).sql)
                roleID = db.lastInsertedRowID
            }
            for rule in role.rules where Self.version(of: rule) == version {
                try db.execute(
                    sql: Insert.prepared(
                        into: "role_permissions",
                        columns: ["role_id", "effect", "action", "entity", "scope", "fields", "reason", "created_at"]
                    ).sql,
                    arguments: [
                        roleID, rule.effect.rawValue, rule.action, rule.entity, rule.scope,
                        rule.fields.isEmpty ? nil : rule.fields.joined(separator: ","), rule.reason,
                        "2026-01-01T00:00:00Z",
                    ])
            }
        }
    }
}
