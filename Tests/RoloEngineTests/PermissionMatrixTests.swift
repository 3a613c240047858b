import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Every built-in role × action × entity on the sample company: what the shipped rules allow
/// succeeds; what they refuse is refused before anything is written, and audited as refused.
///
/// The expectation is worked out here from `BuiltinRoles.all` and the sample data, independently
/// of the engine's policy code.
@Suite("Permission matrix")
struct PermissionMatrixTests {
    static let entities = ["accounts", "contacts", "leads", "deals", "activities", "tasks", "tickets", "campaigns", "campaign_members"]
    static let actions = ["read", "export", "create", "update", "delete", "assign", "merge"]

    /// A field each role that may update the entity at all may update, and a new value for it.
    static let updates: [String: String] = [
        "accounts": #"city = "Matrixville""#, "contacts": #"phone = "+1 555 000 0000""#, "leads": #"title = "Matrix""#,
        "deals": #"name = "Matrix deal""#, "activities": #"subject = "Matrix""#, "tasks": #"title = "Matrix""#,
        "tickets": #"subject = "Matrix""#, "campaigns": "status = planned", "campaign_members": "status = attended",
    ]
    static let creates: [String: String] = [
        "accounts": #"name = "Matrix Ltd""#, "contacts": #"last_name = "Matrix""#,
        "leads": #"last_name = "Matrix" source = web"#, "deals": #"name = "Matrix" stage = proposal amount = 100"#,
        "activities": #"kind = note subject = "Matrix""#, "tasks": #"title = "Matrix""#, "tickets": #"subject = "Matrix""#,
        "campaigns": #"name = "Matrix" channel = email status = planned"#, "campaign_members": "campaign = 1 contact = 1",
    ]

    struct Role: Sendable, CustomStringConvertible {
        let name: String
        var description: String { name }
    }

    static var roles: [Role] { BuiltinRoles.all.map { Role(name: $0.name) } }

    /// The widest scope the role's whole-record allows give, nil if refused; field-limited allows
    /// count when `field` is one of theirs.
    static func expectedScope(_ role: String, _ action: String, _ entity: String, field: String?) -> String? {
        guard let definition = BuiltinRoles.all.first(where: { $0.name == role }) else { return nil }
        let rules = definition.rules.filter { $0.action.rawValue == action && ($0.entity == entity || $0.entity == "*") }
        if rules.contains(where: { $0.effect == .deny && $0.fields.isEmpty }) { return nil }
        let rank = ["own": 1, "team": 2, "all": 3]
        let allows = rules.filter { rule in
            rule.effect == .allow && (rule.fields.isEmpty || (field.map { rule.fields.contains($0) } ?? false))
        }
        return allows.max { rank[$0.scope, default: 0] < rank[$1.scope, default: 0] }?.scope
    }

    /// A record of `entity` the user owns (or is assigned) if any, else one outside their team.
    static func record(_ entity: String, for user: Int64, team: Int64?, db: Database) throws -> (id: Int64, scope: String) {
        let ownership = ["tasks", "tickets"].contains(entity) ? "(owner_id = ? OR assignee_id = ?)" : "(owner_id = ? OR owner_id = ?)"
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM \(entity) WHERE \(ownership) ORDER BY id LIMIT 1", arguments: [user, user])
        {
            return (id, "own")
        }
        let id =
            try Int64.fetchOne(
                db, sql: "SELECT t.id FROM \(entity) t JOIN users u ON u.id = t.owner_id WHERE u.team_id IS NOT ? ORDER BY t.id LIMIT 1",
                arguments: [team]) ?? 1
        return (id, "all")
    }

    static func covers(_ allowed: String?, _ needed: String) -> Bool {
        guard let allowed else { return false }
        let rank = ["own": 1, "team": 2, "all": 3]
        return rank[allowed, default: 0] >= rank[needed, default: 3]
    }

    @Test(arguments: roles)
    func roleMatrix(role: Role) throws {
        let path = try SampleDatabase.freshCopy()
        let store = try CRMStore.open(path: path)
        let (handle, userID, team) = try store.dbQueue.read { db -> (String, Int64, Int64?) in
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT u.handle, u.id, u.team_id FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id WHERE r.name = ? ORDER BY u.id LIMIT 1",
                    arguments: [role.name]))
            return (row[0], row[1], row[2])
        }
        let engine = try Engine(store: store, clock: SampleDatabase.clock, user: handle)
        var checked = 0
        for entity in Self.entities {
            let (id, needed) = try store.dbQueue.read { try Self.record(entity, for: userID, team: team, db: $0) }
            let otherID = try store.dbQueue.read { db in
                try Int64.fetchOne(
                    db, sql: "SELECT id FROM \(entity) WHERE id != ? AND (owner_id = ?) ORDER BY id LIMIT 1", arguments: [id, userID])
                    ?? (id + 1)
            }
            for action in Self.actions {
                let field = action == "update" ? String(Self.updates[entity]?.split(separator: " ").first ?? "") : nil
                var command: String
                var scopeNeeded = "all"
                switch action {
                case "read": command = "count \(entity)"; scopeNeeded = "own"
                case "export": command = "find \(entity) limit 1 as csv"; scopeNeeded = "own"
                case "create": command = "create \(entity) \(Self.creates[entity] ?? "") --dry-run"; scopeNeeded = "own"
                case "update": command = "update \(entity) \(id) set \(Self.updates[entity] ?? "") --dry-run"; scopeNeeded = needed
                case "delete": command = "delete \(entity) \(id) --dry-run"; scopeNeeded = needed
                case "assign": command = "assign \(entity) \(id) to \(handle) --dry-run"; scopeNeeded = needed
                default:
                    command = "merge \(entity) \(otherID) into \(id) --dry-run";
                    scopeNeeded = needed == "own" && otherID != id + 1 ? "own" : "all"
                }
                let allowedScope = Self.expectedScope(role.name, action, entity, field: field)
                let expected = Self.covers(allowedScope, scopeNeeded)
                let before = try totalChanges(store)
                let audits = try auditOutcomes(store).count
                let result = run(engine, command)
                let outcomes = try auditOutcomes(store)
                if expected {
                    #expect(result.error == nil, "\(role.name) should be allowed: \(command) → \(result.error?.message ?? "")")
                } else {
                    // A record outside the read scope is answered as missing (no existence oracle).
                    let hiddenRecord = result.error?.code == .unknownRecord && result.error?.message.contains("may read") == true
                    #expect(
                        result.error?.code == .permissionDenied || hiddenRecord,
                        "\(role.name) should be refused: \(command) → \(result.error?.message ?? "succeeded")")
                    // Nothing was written, not even and then rolled back: the only change is the audit entry.
                    #expect(try totalChanges(store) - before == 1, "\(role.name): \(command) wrote before refusing")
                    #expect(outcomes.count == audits + 1 && outcomes.last == "refused", "\(role.name): \(command) not audited as refused")
                }
                checked += 1
            }
        }
        #expect(checked == Self.entities.count * Self.actions.count)
    }
}
