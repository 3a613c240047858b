import GRDB
import RoloStore
import RoloSyntax

/// `grant` and `revoke`: give or take a role.
///
///     grant := 'grant' NAME 'to' NAME | 'revoke' NAME 'from' NAME
struct GrantCommand: Command {
    var grants: Bool
    var role: Located<String>
    var user: Located<String>

    static let name = "grant"
    static let forms = [
        form("grant") { parser, _ throws(Diagnostic) in
            let role = try parser.parseName("a role, e.g. grant data_analyst to dana")
            guard parser.acceptWord("to") else { throw parser.failure(expected: "'to' and a user") }
            return GrantCommand(grants: true, role: role, user: try parser.parseName("a user's handle"))
        },
        form("revoke") { parser, _ throws(Diagnostic) in
            let role = try parser.parseName("a role, e.g. revoke sales_rep from bob")
            guard parser.acceptWord("from") else { throw parser.failure(expected: "'from' and a user") }
            return GrantCommand(grants: false, role: role, user: try parser.parseName("a user's handle"))
        },
    ]
    static let synopsis = "grant ROLE to USER [--dry-run] | revoke ROLE from USER"
    static let summary = "Give or take a role; prints the rules gained or lost and the records newly in reach."
    static let examples = ["grant data_analyst to dana --dry-run", "grant data_analyst to dana", "revoke sales_rep from bob --dry-run"]
    static let actions: [PermissionAction] = [.grant]
    static let arguments: [ArgumentHint] = [.roles]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performSecurityChange(context, reloadingPolicy: true) { security in
            grants ? try security.grant(role, to: user) : try security.revoke(role, from: user)
        }
    }
}

/// Granting and revoking, with the checks every security change shares (`SecurityCommands`).
extension SecurityCommands {
    // MARK: - Grants

    func grant(_ role: Located<String>, to user: Located<String>) throws -> ChangeOutcome {
        try requireGrant(at: role.range)
        let roleID = try self.roleID(role)
        let userID = try self.userID(user)
        try requireHeld(try rules(ofRole: roleID), granting: "role \(role.value)", at: role.range)
        if try Bool.fetchOne(db, Self.grant(user: userID, role: roleID, column: Sql.true).sql) == true {
            throw Diagnostic(.invalidValue, "\(user.value) already holds \(role.value)", at: role.range)
        }
        if try Bool.fetchOne(db, RecordLookup.record(users, id: userID.databaseValue, columns: [Sql.column("t0", "active")]).sql) == false {
            throw Diagnostic(.invalidValue, "\(user.value) is deactivated", at: user.range, help: "activate user \(user.value) first")
        }
        let before = try AccessPolicy.load(for: try actor(userID), in: db)
        _ = try recorder.insert(
            CRMSchema.userRoles,
            values: [
                ("user_id", userID.databaseValue), ("role_id", roleID.databaseValue),
                ("granted_by", engine.access.actor.id.databaseValue), ("granted_at", recorder.now.databaseValue),
            ])
        let after = try AccessPolicy.load(for: try actor(userID), in: db)
        var outcome = ChangeOutcome(records: 1, verb: .granted, entity: CRMSchema.userRoles)
        outcome.noun = ("role", "roles")
        outcome.report = try reach(of: user.value, before: before, after: after)
        return outcome
    }

    func revoke(_ role: Located<String>, from user: Located<String>) throws -> ChangeOutcome {
        try requireGrant(at: role.range)
        let roleID = try self.roleID(role)
        let userID = try self.userID(user)
        guard
            let grant = try Int64.fetchOne(db, Self.grant(user: userID, role: roleID, column: Sql.name("id")).sql)
        else {
            throw Diagnostic(.invalidValue, "\(user.value) does not hold \(role.value)", at: role.range)
        }
        if role.value.lowercased() == Self.adminRole, try otherActiveAdmins(excluding: userID) == 0 {
            throw Diagnostic(
                .escalation, "\(user.value) is the last active admin; revoking admin would leave nobody to manage the CRM",
                at: role.range, help: "grant admin to someone else first")
        }
        let before = try AccessPolicy.load(for: try actor(userID), in: db)
        _ = try recorder.delete(CRMSchema.userRoles, filter: Sql.idEquals("t0", grant))
        let after = try AccessPolicy.load(for: try actor(userID), in: db)
        var outcome = ChangeOutcome(records: 1, verb: .revoked, entity: CRMSchema.userRoles)
        outcome.noun = ("role", "roles")
        outcome.report = try reach(of: user.value, before: before, after: after)
        return outcome
    }

    private func actor(_ id: Int64) throws -> Actor {
        let user = Select(Select.columns(["id", "handle", "name", "team_id"]), from: "users").where(
            Sql.equals(Sql.name("id"), Sql.value(id)))
        guard let row = try Row.fetchOne(db, user.sql) else {
            throw Diagnostic(.unknownUser, "there is no user \(id)")
        }
        return Actor(id: try row.decode(forColumn: "id"), handle: try row.decode(forColumn: "handle"), name: try row.decode(forColumn: "name"), teamID: try row.decode(forColumn: "team_id"))
    }

    /// What a grant or revoke changes: rules gained or lost, and per entity how many records the
    /// user can newly (or no longer) read and update.
    func reach(of handle: String, before: AccessPolicy, after: AccessPolicy) throws -> [String] {
        let describe: (GrantedRule) -> String = { rule in
            var text = "\(rule.effect.rawValue) \(rule.action) \(rule.entity)"
            if !rule.fields.isEmpty { text += "." + rule.fields.joined(separator: ",") }
            if rule.effect == .allow { text += " scope \(rule.scope.name)" }
            return text
        }
        let old = Set(before.rules.map(describe)), new = Set(after.rules.map(describe))
        var lines: [String] = []
        let gained = new.subtracting(old).sorted(), lost = old.subtracting(new).sorted()
        if !gained.isEmpty { lines.append("rules gained by \(handle): " + gained.joined(separator: "; ")) }
        if !lost.isEmpty { lines.append("rules lost by \(handle): " + lost.joined(separator: "; ")) }
        var reachLines: [String] = []
        for entity in CRMSchema.entities where entity.kind == .domain {
            for action in [PermissionAction.read, .update] {
                let a = try reachable(before, action, entity), b = try reachable(after, action, entity)
                if a != b {
                    let change = b > a ? "+\(b - a)" : "-\(a - b)"
                    reachLines.append("  \(action) \(entity.name): \(a) → \(b) (\(change))")
                }
            }
        }
        if !reachLines.isEmpty {
            lines.append("records \(handle) can reach:")
            lines += reachLines
        } else if gained.isEmpty && lost.isEmpty {
            lines.append("\(handle)'s access does not change: other roles already give the same rules")
        }
        return lines
    }

    private func reachable(_ policy: AccessPolicy, _ action: PermissionAction, _ entity: EntityDefinition) throws -> Int {
        let decision = policy.decide(action, on: entity.name)
        guard decision.deniedBy == nil, let scope = decision.scope ?? decision.fieldAllows.values.map(\.scope).max() else { return 0 }
        let filter = policy.scopeFilter(scope, on: entity, alias: "t0")
        return try Int.fetchOne(db, Select(Sql.countAll, from: entity.name, as: "t0").where(filter).sql) ?? 0
    }
}
