import GRDB
import RoloStore
import RoloSyntax

/// One rule as loaded for the acting user, with the role it came from.
public struct GrantedRule: Sendable, Equatable {
    public let id: Int64
    public let role: String
    public let effect: PermissionRule.Effect
    public let action: PermissionAction
    public let entity: String
    public let scope: Scope
    public let fields: [String]
    public let reason: String?

    /// How far a rule reaches: own < team < all.
    public enum Scope: Int, Sendable, Comparable, CaseIterable {
        case own = 1, team = 2, all = 3

        public init?(name: String) {
            switch name {
            case "own": self = .own
            case "team": self = .team
            case "all": self = .all
            default: return nil
            }
        }

        public var name: String {
            switch self {
            case .own: return "own"
            case .team: return "team"
            case .all: return "all"
            }
        }

        public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
    }

    func matches(action: PermissionAction, entity: String) -> Bool {
        self.action == action && (self.entity == "*" || self.entity == entity)
    }

    /// `sales_rep: allow update deals scope own`
    public var description: String {
        var text = "\(role): \(effect.rawValue) \(action) \(entity)"
        if !fields.isEmpty { text += "." + fields.joined(separator: ",") }
        if effect == .allow { text += " scope \(scope.name)" }
        return text
    }
}

extension PermissionAction {
    /// The action a command names (`can`, `role … allow`), or E208 with the nearest one.
    static func named(_ word: Located<String>) throws -> PermissionAction {
        guard let action = PermissionAction(rawValue: word.value) else {
            let names = CRMSchema.permissionActions
            throw Diagnostic(
                .unknownValue, "unknown action '\(word.value)'", at: word.range,
                help: Suggestions.nearest(to: word.value, in: names).map { "did you mean '\($0)'?" }
                    ?? "actions are " + names.joined(separator: ", "))
        }
        return action
    }
}

/// What one user may do: the union of their roles' allows, minus their denies (deny wins).
///
/// Scopes become SQL filters that run inside the query, never row by row in Swift.
public struct AccessPolicy: Sendable {
    public let actor: Actor
    public let rules: [GrantedRule]

    public init(actor: Actor, rules: [GrantedRule]) {
        self.actor = actor
        self.rules = rules
    }

    /// Loads the rules of every role the user holds.
    public static func load(for actor: Actor, in db: Database) throws -> AccessPolicy {
        let query =
            ruleQuery
            .joining(Sql.innerJoin("user_roles", as: "ur", on: Sql.equals(Sql.column("ur", "role_id"), Sql.id("r"))))
            .where(Sql.equals(Sql.column("ur", "user_id"), Sql.value(actor.id))).ordered(by: Sql.column("r", "name"), Sql.id("p"))
        let rows = try Row.fetchAll(db, query.sql)
        return AccessPolicy(actor: actor, rules: try rows.map(rule(from:)))
    }

    /// The rules of one role, in the order they were added.
    static func rules(ofRole id: Int64, db: Database) throws -> [GrantedRule] {
        try Row.fetchAll(db, ruleQuery.where(Sql.equals(Sql.column("p", "role_id"), Sql.value(id))).ordered(by: Sql.id("p")).sql)
            .map(rule(from:))
    }

    /// Rules (`p`) with their role's name (`r`), as `rule(from:)` reads them.
    static var ruleQuery: Select {
        let p = { Sql.column("p", $0) }
        return Select(
            [Sql.id("p"), Sql.named(Sql.column("r", "name"), "role")] + ["effect", "action", "entity", "scope", "fields", "reason"].map(p),
            from: "role_permissions", as: "p"
        ).joining(Sql.innerJoin("roles", as: "r", on: Sql.equals(Sql.id("r"), p("role_id"))))
    }

    /// A rule from a row with id, role, effect, action, entity, scope, fields and reason.
    static func rule(from row: Row) throws -> GrantedRule {
        GrantedRule(
            id: try row.decode(forColumn: "id"), role: try row.decode(forColumn: "role"),
            effect: PermissionRule.Effect(rawValue: try row.decode(forColumn: "effect")) ?? .deny,
            action: try row.decode(forColumn: "action"), entity: try row.decode(forColumn: "entity"),
            scope: GrantedRule.Scope(name: try row.decode(forColumn: "scope")) ?? .own,
            fields: (try row.decode(String?.self, forColumn: "fields"))?.split(separator: ",").map(String.init) ?? [],
            reason: try row.decode(forColumn: "reason"))
    }

    /// The outcome of asking whether an action on an entity is allowed. A class: decisions are
    /// remembered and handed out for every query, and a reference copies cheaply.
    public final class Decision: Sendable {
        /// The widest scope allowed for whole records, or nil if none.
        public let scope: GrantedRule.Scope?
        /// The allow rule that gave that scope.
        public let allowedBy: GrantedRule?
        /// A deny rule on the whole entity, which wins.
        public let deniedBy: GrantedRule?
        /// Fields the user may not touch for this action (field-limited denies).
        public let deniedFields: [String: GrantedRule]
        /// Field-limited allows: field → scope, when there is no whole-record allow.
        public let fieldAllows: [String: GrantedRule]

        public var isAllowed: Bool { deniedBy == nil && (scope != nil || !fieldAllows.isEmpty) }

        init(
            scope: GrantedRule.Scope?, allowedBy: GrantedRule?, deniedBy: GrantedRule?, deniedFields: [String: GrantedRule],
            fieldAllows: [String: GrantedRule]
        ) {
            self.scope = scope
            self.allowedBy = allowedBy
            self.deniedBy = deniedBy
            self.deniedFields = deniedFields
            self.fieldAllows = fieldAllows
        }
    }

    public func decide(_ action: PermissionAction, on entity: String) -> Decision {
        var best: GrantedRule? = nil
        var deniedBy: GrantedRule? = nil
        var deniedFields: [String: GrantedRule] = [:]
        var fieldAllows: [String: GrantedRule] = [:]
        for rule in rules where rule.matches(action: action, entity: entity) {
            switch (rule.effect, rule.fields.isEmpty) {
            case (.allow, true):
                if rule.scope > (best?.scope ?? .own) || best == nil { best = rule }
            case (.allow, false):
                for field in rule.fields where fieldAllows[field].map({ $0.scope < rule.scope }) ?? true {
                    fieldAllows[field] = rule
                }
            case (.deny, true):
                deniedBy = deniedBy ?? rule
            case (.deny, false):
                for field in rule.fields { deniedFields[field] = deniedFields[field] ?? rule }
            }
        }
        return Decision(
            scope: best?.scope, allowedBy: best, deniedBy: deniedBy, deniedFields: deniedFields,
            fieldAllows: fieldAllows)
    }

    /// The SQL filter limiting `entity` (aliased `alias`) to the given scope; nil for all.
    public func scopeFilter(_ scope: GrantedRule.Scope, on entity: EntityDefinition, alias: String) -> SQLFragment? {
        if scope == .all { return nil }
        let me = actor.id.databaseValue
        var columns: [String] = []
        if entity.hasOwner { columns.append("owner_id") }
        if entity.hasAssignee { columns.append("assignee_id") }
        if columns.isEmpty {
            if entity.name == "users" {
                columns = ["id"]
            } else if let field = ["user_id", "created_by"].first(where: { entity.field(named: $0) != nil }) {
                columns = [field]
            } else {
                return nil  // nothing to own: scope does not narrow it
            }
        }
        let parts: [SQLFragment]
        if scope == .team, let team = actor.teamID {
            let members = Select(Sql.name("id"), from: "users").where(Sql.equals(Sql.name("team_id"), Sql.value(team))).sql
            parts = columns.map { Sql.in(Sql.column(alias, $0), members) }
        } else {
            parts = columns.map { Sql.equals(Sql.column(alias, $0), Sql.value(me)) }
        }
        return parts.count == 1 ? parts[0] : Sql.any(parts)
    }
}
