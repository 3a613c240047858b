import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// Users, teams, roles and rules: every change goes through the change recorder like any other,
/// with the escalation rules checked first — only users allowed to grant may grant, revoke or
/// edit roles; nobody grants a role or rule they do not hold; the last active admin stays.
struct SecurityCommands {
    let engine: Engine
    let db: Database
    let recorder: ChangeRecorder

    static let adminRole = "admin"

    var users: EntityDefinition { CRMSchema.users }
    var roles: EntityDefinition { CRMSchema.roles }

    // MARK: - Lookups

    func userID(_ handle: Located<String>) throws -> Int64 {
        try RecordLookup.userID(handle: handle.value, at: handle.range, db: db)
    }

    func roleID(_ name: Located<String>) throws -> Int64 {
        try Self.namedID(name, table: "roles", code: .unknownRole, db: db)
    }

    func teamID(_ name: Located<String>) throws -> Int64 {
        try Self.namedID(name, table: "teams", code: .unknownTeam, db: db)
    }

    /// A role's or team's id by name, or an error naming the nearest one.
    static func namedID(_ name: Located<String>, table: String, code: DiagnosticCode, db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db, RecordLookup.named(table, name.value).sql) {
            return id
        }
        let names = try String.fetchAll(db, RecordLookup.names(table).sql)
        throw Diagnostic(
            code, "unknown \(table.dropLast()) '\(name.value)'", at: name.range,
            help: Suggestions.nearest(to: name.value, in: names).map { "did you mean '\($0)'?" } ?? "`\(table)` lists them")
    }

    /// The one permission behind grant, revoke and editing roles.
    func requireGrant(at range: SourceRange?) throws {
        let decision = engine.access.decide(.grant, on: "roles")
        if let deny = decision.deniedBy {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not grant or edit roles", at: range,
                help: "denied by rule \(deny.description)")
        }
        guard decision.scope == .all else {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not grant or edit roles", at: range,
                help: "granting needs a rule like `admin: allow grant * scope all`")
        }
    }

    /// Nobody hands out what they do not hold: every allow rule must be within the granter's own rights.
    func requireHeld(_ rules: [GrantedRule], granting what: String, at range: SourceRange?) throws {
        for rule in rules where rule.effect == .allow {
            let entities = rule.entity == "*" ? ["*"] : [rule.entity]
            for entity in entities {
                let mine = engine.access.decide(rule.action, on: entity)
                let covered: Bool
                if !rule.fields.isEmpty {
                    covered =
                        mine.deniedBy == nil
                        && (mine.scope.map { $0 >= rule.scope } ?? false
                            || rule.fields.allSatisfy { field in mine.fieldAllows[field].map { $0.scope >= rule.scope } ?? false })
                } else {
                    covered = mine.deniedBy == nil && mine.deniedFields.isEmpty && (mine.scope.map { $0 >= rule.scope } ?? false)
                }
                if !covered {
                    throw Diagnostic(
                        .escalation,
                        "\(engine.access.actor.handle) may not grant \(what): it allows \(rule.action) \(rule.entity) scope \(rule.scope.name), which \(engine.access.actor.handle) does not hold",
                        at: range, help: "only someone who holds a right may hand it on")
                }
            }
        }
    }

    func rules(ofRole id: Int64) throws -> [GrantedRule] {
        try AccessPolicy.rules(ofRole: id, db: db)
    }

    /// The grant of `role` to `user` (user_roles), `column` of it.
    static func grant(user: Int64, role: Int64, column: SQLFragment) -> Select {
        Select(column, from: "user_roles").where(Sql.equals(Sql.name("user_id"), Sql.value(user)))
            .where(Sql.equals(Sql.name("role_id"), Sql.value(role)))
    }

    /// Active users holding the admin role, other than `excluding`.
    func otherActiveAdmins(excluding user: Int64) throws -> Int {
        var others = Engine.activeHolders(of: Self.adminRole).where(Sql.compare(Sql.id("u"), .notEqual, Sql.value(user)))
        others.columns = [Sql.countAll]
        others.orderBy = []
        return try Int.fetchOne(db, others.sql) ?? 0
    }

    func isAdmin(_ user: Int64) throws -> Bool {
        var held = RecordLookup.grants(user: Sql.value(user), column: Sql.true).where(
            Sql.equals(Sql.column("r", "name"), Sql.value(Self.adminRole)))
        held.orderBy = []
        return try Bool.fetchOne(db, held.sql) ?? false
    }

    // MARK: - Users and teams

    func createUser(_ handle: Located<String>, _ assignments: [Assignment]) throws -> ChangeOutcome {
        _ = try engine.access.require(.create, users, at: handle.range)
        guard handle.value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }), !handle.value.isEmpty else {
            throw Diagnostic(.invalidValue, "a handle is one word of letters, digits, '.', '_' or '-'", at: handle.range)
        }
        if try Bool.fetchOne(db, RecordLookup.named("users", handle.value, column: "handle").sql) != nil {
            throw Diagnostic(
                .invalidValue, "there is already a user '\(handle.value)'", at: handle.range, help: "show user \(handle.value)")
        }
        let binder = AssignmentBinder(engine: engine, db: db, entity: users, binder: engine.binder(db, scope: engine.access.queryScope(users)))
        var values: [(field: String, value: DatabaseValue)] = [("handle", handle.value.databaseValue)]
        for assignment in assignments {
            let bound = try binder.bind(assignment)
            guard let constant = bound.constant else {
                throw Diagnostic(.invalidValue, "give a value", at: bound.range)
            }
            if bound.field.name == "handle" || bound.field.name == "active" {
                throw Diagnostic(.readOnlyField, "\(bound.field.name) is set by the command itself", at: assignment.field.range)
            }
            values.append((bound.field.name, constant))
        }
        if !values.contains(where: { $0.field == "name" }) { values.append(("name", handle.value.databaseValue)) }
        values.append(("active", 1.databaseValue))
        let id = try recorder.insert(users, values: values)
        return ChangeOutcome(
            records: 1, verb: .created, entity: users, note: "user \(handle.value) has no roles yet: grant ROLE to \(handle.value)"
        )
        .numbered(id)
    }

    func setActive(_ handle: Located<String>, active: Bool) throws -> ChangeOutcome {
        let decision = try engine.access.require(.update, users, at: handle.range)
        guard decision.scope == .all else {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not \(active ? "activate" : "deactivate") users", at: handle.range)
        }
        let id = try userID(handle)
        if !active {
            if id == engine.access.actor.id {
                throw Diagnostic(.escalation, "\(engine.access.actor.handle) may not deactivate themselves", at: handle.range)
            }
            if try isAdmin(id), try otherActiveAdmins(excluding: id) == 0 {
                throw Diagnostic(
                    .escalation, "\(handle.value) is the last active admin and cannot be deactivated", at: handle.range,
                    help: "grant admin to someone else first")
            }
        }
        let count = try recorder.update(
            users, filter: Sql.idEquals("t0", id),
            set: [(try field(users, "active"), .value(active ? 1 : 0))])
        return ChangeOutcome(records: count, verb: active ? .activated : .deactivated, entity: users)
    }

    func move(_ handle: Located<String>, to team: Located<String>) throws -> ChangeOutcome {
        let decision = try engine.access.require(.update, users, at: handle.range)
        guard decision.scope == .all else {
            throw Diagnostic(.permissionDenied, "\(engine.access.actor.handle) may not move users between teams", at: handle.range)
        }
        let id = try userID(handle)
        let team = try teamID(team)
        let count = try recorder.update(
            users, filter: Sql.idEquals("t0", id),
            set: [(try field(users, "team_id"), .value(team))])
        return ChangeOutcome(records: count, verb: .moved, entity: users)
    }

    func createTeam(_ name: Located<String>, _ assignments: [Assignment]) throws -> ChangeOutcome {
        let teams = CRMSchema.teams
        _ = try engine.access.require(.create, teams, at: name.range)
        if try Int64.fetchOne(db, RecordLookup.named("teams", name.value).sql) != nil {
            throw Diagnostic(.invalidValue, "there is already a team '\(name.value)'", at: name.range)
        }
        let binder = AssignmentBinder(engine: engine, db: db, entity: teams, binder: engine.binder(db, scope: engine.access.queryScope(teams)))
        var values: [(field: String, value: DatabaseValue)] = [("name", name.value.databaseValue)]
        for assignment in assignments {
            let bound = try binder.bind(assignment)
            guard let constant = bound.constant else { throw Diagnostic(.invalidValue, "give a value", at: bound.range) }
            values.append((bound.field.name, constant))
        }
        let id = try recorder.insert(teams, values: values)
        return ChangeOutcome(records: 1, verb: .created, entity: teams).numbered(id)
    }

    // MARK: - Roles and rules

    func createRole(_ name: Located<String>, like: Located<String>?) throws -> ChangeOutcome {
        try requireGrant(at: name.range)
        guard name.value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !name.value.isEmpty else {
            throw Diagnostic(.invalidValue, "a role name is one word of letters, digits and '_'", at: name.range)
        }
        if try Int64.fetchOne(db, RecordLookup.named("roles", name.value).sql) != nil {
            throw Diagnostic(.invalidValue, "there is already a role '\(name.value)'", at: name.range, help: "show role \(name.value)")
        }
        var copied: [GrantedRule] = []
        if let like {
            copied = try rules(ofRole: try roleID(like))
            try requireHeld(copied, granting: "a copy of \(like.value)", at: like.range)
        }
        let description = like.map { "Like \($0.value)" } ?? "Custom role"
        let id = try recorder.insert(
            roles,
            values: [
                ("name", name.value.databaseValue), ("description", description.databaseValue), ("builtin", 0.databaseValue),
            ])
        for rule in copied {
            _ = try recorder.insert(
                CRMSchema.rolePermissions,
                values: ruleValues(role: id, rule.effect.rawValue, rule.action, rule.entity, rule.scope.name, rule.fields, rule.reason))
        }
        var outcome = ChangeOutcome(records: 1, verb: .created, entity: roles)
        outcome.note =
            like.map { "role \(name.value) starts with the \(copied.count) rules of \($0.value)" }
            ?? "role \(name.value) has no rules yet: allow \(name.value) ACTION ENTITY scope own|team|all"
        return outcome
    }

    func dropRole(_ name: Located<String>) throws -> ChangeOutcome {
        try requireGrant(at: name.range)
        let id = try roleID(name)
        if try Bool.fetchOne(db, RecordLookup.record(roles, id: id.databaseValue, columns: [Sql.column("t0", "builtin")]).sql) == true {
            throw Diagnostic(.invalidValue, "\(name.value) is a built-in role and cannot be dropped", at: name.range)
        }
        let holders = try String.fetchAll(db, RecordLookup.holders(role: id).sql)
        if !holders.isEmpty {
            throw Diagnostic(
                .invalidValue, "\(name.value) is held by \(holders.joined(separator: ", "))", at: name.range,
                help: "revoke it from them first; dropping it would take their rights away unseen")
        }
        _ = try recorder.delete(CRMSchema.rolePermissions, filter: Sql.equals(Sql.column("t0", "role_id"), Sql.value(id)))
        let count = try recorder.delete(roles, filter: Sql.idEquals("t0", id))
        return ChangeOutcome(records: count, verb: .dropped, entity: roles)
    }

    func rule(
        effect: Located<String>, role: Located<String>, action: Located<String>, entity: EntityName,
        fields: [Located<String>], scope: Located<String>?
    ) throws -> ChangeOutcome {
        try requireGrant(at: effect.range)
        let roleID = try self.roleID(role)
        let permission = try PermissionAction.named(action)
        let entityName: String
        if entity.value == "*" || entity.value == "all" {
            entityName = "*"
        } else {
            let definition = try Catalog.entity(entity)
            entityName = definition.name
            for field in fields where definition.field(named: field.value) == nil && definition.relation(named: field.value) == nil {
                throw Diagnostic(
                    .unknownField, "unknown field '\(field.value)' on \(definition.name)", at: field.range,
                    help: Suggestions.nearest(to: field.value, in: Catalog.fieldNames(of: definition)).map { "did you mean '\($0)'?" })
            }
        }
        let scopeName = scope?.value ?? "all"
        guard let scopeLevel = GrantedRule.Scope(name: scopeName) else {
            throw Diagnostic(.unknownValue, "unknown scope '\(scopeName)'", at: scope?.range, help: "scopes are own, team and all")
        }
        let fieldNames = fields.map { field -> String in
            if let definition = CRMSchema.entity(named: entityName), let relation = definition.relation(named: field.value) {
                return relation.name
            }
            return field.value
        }
        let newRule = GrantedRule(
            id: 0, role: role.value, effect: effect.value == "allow" ? .allow : .deny, action: permission,
            entity: entityName, scope: scopeLevel, fields: fieldNames, reason: nil)
        try requireHeld([newRule], granting: "the rule", at: effect.range)
        let values = ruleValues(
            role: roleID, effect.value, permission, entityName, scopeName, fieldNames, "added by \(engine.access.actor.handle)")
        _ = try recorder.insert(CRMSchema.rolePermissions, values: values)
        var outcome = ChangeOutcome(records: 1, verb: .added, entity: CRMSchema.rolePermissions)
        outcome.noun = ("rule", "rules")
        outcome.note =
            "\(role.value): \(newRule.description.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "")"
        return outcome
    }

    private func ruleValues(
        role: Int64, _ effect: String, _ action: PermissionAction, _ entity: String, _ scope: String, _ fields: [String], _ reason: String?
    ) -> [(field: String, value: DatabaseValue)] {
        [
            ("role_id", role.databaseValue), ("effect", effect.databaseValue), ("action", action.databaseValue),
            ("entity", entity.databaseValue), ("scope", scope.databaseValue),
            ("fields", fields.isEmpty ? .null : fields.joined(separator: ",").databaseValue), ("reason", reason.databaseValue),
        ]
    }

    private func field(_ entity: EntityDefinition, _ name: String) throws -> FieldDefinition {
        guard let field = entity.field(named: name) else { throw Diagnostic(.unknownField, "no field \(name) on \(entity.name)") }
        return field
    }
}

extension ChangeOutcome {
    func numbered(_ id: Int64) -> ChangeOutcome {
        var copy = self
        copy.note = (note.map { $0 + "\n" } ?? "") + "new \(entity.singular) is number \(id)"
        return copy
    }
}

extension Engine {
    /// A change to users, teams, roles or grants, on the one change path; the acting user's rules
    /// are reloaded afterwards when the change may have altered them (grants and rules).
    func performSecurityChange(
        _ context: CommandContext, reloadingPolicy: Bool = false, body: (SecurityCommands) throws -> ChangeOutcome
    ) throws -> CommandResult {
        let result = try performChange(context.statement, output: context.output) { db, recorder in
            try body(SecurityCommands(engine: self, db: db, recorder: recorder))
        }
        if reloadingPolicy { try reloadPolicy() }
        return result
    }
}
