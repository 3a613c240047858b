import GRDB
import RoloStore
import RoloSyntax

/// `can USER ACTION ENTITY [KEY]` and `show role NAME`: explaining access.
struct AccessCommands {
    let engine: Engine
    let db: Database

    /// Answers yes or no, naming the role and rule that decided — and for no, the missing rule and
    /// the nearest rule (held by some role) that would allow it.
    func can(user: Located<String>, action: Located<String>, entity entityName: EntityName, key: Located<RecordKey>?, output: OutputSink)
        throws -> CommandResult
    {
        let entity = try Catalog.entity(entityName)
        let permission = try PermissionAction.named(action)
        let target = try AccessControl.loadActor(handle: user.value, db: db, allowInactive: true)
        let policy = try AccessPolicy.load(for: target.actor, in: db)
        let decision = policy.decide(permission, on: entity.name)
        let who = target.actor.handle
        var result = CommandResult()
        result.rows = 1
        if !target.active {
            output.line("no: \(who) is deactivated and cannot act")
            return result
        }
        if let deny = decision.deniedBy {
            output.line("no: \(who) may not \(action.value) \(entity.name) — denied by \(deny.description)")
            return result
        }
        guard let scope = decision.scope ?? decision.fieldAllows.values.map(\.scope).max() else {
            let roles = Array(Set(policy.rules.map(\.role))).sorted()
            output.line(
                "no: none of \(who)'s roles (\(roles.isEmpty ? "no roles" : roles.joined(separator: ", "))) allows \(action.value) on \(entity.name)"
            )
            // For one record, the narrowest scope that reaches it: `scope own` does not cover
            // someone else's contact 42.
            var needed = GrantedRule.Scope.own
            if let key {
                let id = try RecordLookup.id(of: key, in: entity, db: db, readableBy: engine)
                needed =
                    try GrantedRule.Scope.allCases.first { try RecordLookup.isInScope(id, of: entity, level: $0, policy: policy, db: db) }
                    ?? .all
            }
            output.line("  missing rule: allow \(action.value) \(entity.name)" + (key == nil ? "" : " scope \(needed.name)"))
            if let nearest = try nearestRule(action: permission.rawValue, entity: entity.name, covering: needed) {
                output.line("  nearest rule that would: \(nearest.description) (grant \(nearest.role) to \(who))")
            }
            return result
        }
        let rule = decision.allowedBy ?? decision.fieldAllows.values.first
        let fieldsNote = decision.scope == nil ? " (only " + decision.fieldAllows.keys.sorted().joined(separator: ", ") + ")" : ""
        let deniedNote =
            decision.deniedFields.isEmpty
            ? "" : "; except " + decision.deniedFields.keys.sorted().map { "\(entity.name).\($0)" }.joined(separator: ", ")
        if let key {
            let id = try RecordLookup.id(of: key, in: entity, db: db, readableBy: engine)
            if try !RecordLookup.isInScope(id, of: entity, level: scope, policy: policy, db: db) {
                let owner =
                    try RecordLookup.ownerHandle(of: id, in: entity, db: db).map { "\(entity.singular) \(id) belongs to \($0); " } ?? ""
                output.line(
                    "no: \(owner)\(rule?.description ?? "") covers only \(scope == .own ? "their own" : "their team's") \(entity.name)")
                return result
            }
            output.line("yes: \(who) may \(action.value) \(entity.singular) \(id) — \(rule?.description ?? "")\(fieldsNote)\(deniedNote)")
            return result
        }
        output.line(
            "yes: \(who) may \(action.value) \(entity.name) (scope \(scope.name)) — \(rule?.description ?? "")\(fieldsNote)\(deniedNote)")
        return result
    }

    /// The rule some role holds that allows `action` on `entity` with at least the scope `covering`:
    /// the entity's own before `*`, the narrowest scope first.
    private func nearestRule(action: String, entity: String, covering: GrantedRule.Scope = .own) throws -> GrantedRule? {
        let p = { Sql.column("p", $0) }
        let everything = Sql.equals(p("entity"), Sql.value("*"))
        let wideEnough = GrantedRule.Scope.allCases.filter { $0 >= covering }.map { Sql.value($0.name) }
        let query = AccessPolicy.ruleQuery.where(Sql.equals(p("effect"), Sql.value("allow")))
            .where(Sql.in(p("scope"), wideEnough))
            .where(Sql.equals(p("action"), Sql.value(action))).where(Sql.any(Sql.equals(p("entity"), Sql.value(entity)), everything))
            .where(Sql.isNull(p("fields")))
            .ordered(
                by: Sql.when([(everything, Sql.literal(1))], else: Sql.literal(0)), Sql.declaredOrder(p("scope"), ["own", "team", "all"]),
                Sql.column("r", "name")
            )
            .limited(1)
        let rows = try Row.fetchAll(db, query.sql)
        return try rows.first.map(AccessPolicy.rule(from:))
    }

    /// A role's permission matrix: entities down, actions across, each cell the scope (or `-`).
    func showRole(_ name: Located<String>, output: OutputSink) throws -> CommandResult {
        let id = try SecurityCommands.namedID(name, table: "roles", code: .unknownRole, db: db)
        let role = Select(Select.columns(["name", "description"]), from: "roles").where(Sql.equals(Sql.name("id"), Sql.value(id)))
        guard let row = try Row.fetchOne(db, role.sql) else {
            throw Diagnostic(.unknownRole, "unknown role '\(name.value)'", at: name.range)
        }
        let roleName: String = try row.decode(forColumn: "name")
        let rules = try AccessPolicy.rules(ofRole: id, db: db)
        let holders = try String.fetchAll(db, RecordLookup.holders(role: id).sql)
        output.line("role \(roleName): \(row["description"] as String? ?? "")")
        output.line("held by: " + (holders.isEmpty ? "nobody" : holders.joined(separator: ", ")))
        let policy = AccessPolicy(actor: Actor(id: 0, handle: roleName, name: roleName, teamID: nil), rules: rules)
        let actions = PermissionAction.onRecords
        var columns = [ResultColumn("entity", .text)]
        columns += actions.map { ResultColumn($0.rawValue, .text) }
        var writer: any ResultWriter = TableWriter(output: output)
        writer.begin(columns)
        var count = 0
        for entity in CRMSchema.entities where entity.kind != .system || entity.name == "audit_log" {
            var cells: [DatabaseValue] = [entity.name.databaseValue]
            var any = false
            for action in actions {
                let decision = policy.decide(action, on: entity.name)
                var cell = "-"
                if decision.deniedBy != nil {
                    cell = "denied"
                } else if let scope = decision.scope {
                    cell = scope.name
                    any = true
                } else if !decision.fieldAllows.isEmpty {
                    cell = decision.fieldAllows.values.map(\.scope).max().map { $0.name } ?? "" + " (some fields)"
                    cell += " (" + decision.fieldAllows.keys.sorted().joined(separator: ",") + ")"
                    any = true
                }
                if !decision.deniedFields.isEmpty, cell != "-" {
                    cell += " but not " + decision.deniedFields.keys.sorted().joined(separator: ",")
                }
                cells.append(cell.databaseValue)
            }
            if any {
                writer.row(cells)
                count += 1
            }
        }
        writer.end(note: nil)
        let other = rules.filter { !actions.contains($0.action) }
        if !other.isEmpty {
            output.line("also: " + other.map { "\($0.action) \($0.entity) (\($0.scope.name))" }.joined(separator: ", "))
        }
        output.line("rules:")
        for rule in rules {
            output.line("  " + rule.description.dropFirst(roleName.count + 2) + (rule.reason.map { "  — \($0)" } ?? ""))
        }
        var result = CommandResult()
        result.rows = count
        return result
    }
}
