import GRDB
import RoloStore
import RoloSyntax

/// The changing commands: create, update, delete, assign (merge, log and add task, verify and
/// normalize extend it in files of their own).
/// Each binds and checks, then writes only through `ChangeRecorder` inside `performChange`.
struct ChangeCommands {
    let engine: Engine
    let db: Database
    let recorder: ChangeRecorder
    /// `--raw`: text values keep the spaces around them (`AssignmentBinder.keepsSpaces`).
    var keepsSpaces = false

    /// The line saying how many given values lost the spaces around them.
    static func trimmedNote(_ count: Int, of what: String = "value") -> String? {
        count == 0 ? nil : "trimmed the spaces around \(count) \(what)\(count == 1 ? "" : "s") (--raw keeps them)"
    }

    // MARK: - Shared

    /// The filter (over alias t0) for a selector, with the record or records' permission checked.
    /// Records outside the acting user's read scope are never matched, so a refusal only ever
    /// talks about records the user can read.
    func filter(
        for selector: RecordSelector, entity: EntityDefinition, scope: QueryScope, binder: ExpressionBinder,
        action: PermissionAction, decision: AccessPolicy.Decision, level: GrantedRule.Scope, rule: GrantedRule?, range: SourceRange
    ) throws -> SQLFragment? {
        let filter: SQLFragment?
        switch selector {
        case .one(let key):
            let id = try RecordLookup.id(of: key, in: entity, db: db, readableBy: engine)
            filter = Sql.idEquals("t0", id)
        case .matching(let condition):
            var parts: [SQLFragment] = []
            if let condition {
                let sql = try binder.condition(condition)
                if scope.hasJoins {
                    parts.append(Sql.in(Sql.id("t0"), Select(Sql.id("t0"), from: entity.name, as: "t0").joining(scope.joinSQL).where(sql)))
                } else {
                    parts.append(sql)
                }
            }
            if let readable = engine.access.readFilter(entity) { parts.append(readable) }
            filter = parts.isEmpty ? nil : parts.count == 1 ? parts[0] : Sql.all(parts.map(Sql.group))
        }
        try engine.requireAllInScope(entity, filter: filter, action: action, scope: level, rule: rule, db: db, at: range)
        return filter
    }

    /// The scope a change may reach: whole-record allow, or the narrowest field-limited allow covering `fields`.
    func allowedScope(
        _ action: PermissionAction, _ entity: EntityDefinition, fields: [(FieldDefinition, SourceRange)], at range: SourceRange
    ) throws -> (GrantedRule.Scope, GrantedRule?, AccessPolicy.Decision) {
        let decision = try engine.access.require(action, entity, at: range)
        for (field, fieldRange) in fields {
            if let deny = decision.deniedFields[field.name] {
                throw Diagnostic(
                    .permissionDenied, "\(engine.access.actor.handle) may not \(action) \(entity.name).\(field.name)",
                    at: fieldRange, help: "denied by rule \(deny.description)")
            }
        }
        if let scope = decision.scope { return (scope, decision.allowedBy, decision) }
        var narrowest: GrantedRule? = nil
        for (field, fieldRange) in fields {
            guard let rule = decision.fieldAllows[field.name] else {
                let allowed = decision.fieldAllows.keys.sorted().joined(separator: ", ")
                throw Diagnostic(
                    .permissionDenied, "\(engine.access.actor.handle) may not \(action) \(entity.name).\(field.name)",
                    at: fieldRange, help: "\(engine.access.actor.handle) may \(action) only \(allowed) on \(entity.name)")
            }
            if narrowest == nil || rule.scope < (narrowest?.scope ?? .all) { narrowest = rule }
        }
        guard let rule = narrowest else {
            throw Diagnostic(.permissionDenied, "\(engine.access.actor.handle) may not \(action) \(entity.name)", at: range)
        }
        return (rule.scope, rule, decision)
    }

    /// Fields whose change counts as (re)assignment and needs the assign action.
    static let assignmentFields: Set<String> = ["owner_id", "assignee_id"]

    // MARK: - update

    func update(entityName: EntityName, selector: RecordSelector, assignments: [Assignment], statement: ParsedStatement) throws
        -> ChangeOutcome
    {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        let scope = engine.access.queryScope(entity)
        let binder = engine.binder(db, scope: scope)
        var assignmentBinder = AssignmentBinder(engine: engine, db: db, entity: entity, binder: binder)
        assignmentBinder.keepsSpaces = keepsSpaces
        var bound: [AssignmentBinder.Bound] = []
        /// Related records' fields the values read, which some records may hide.
        var relatedReads: [QueryScope.ReferencedColumn] = []
        for assignment in assignments {
            let before = scope.referenced.count
            var item = try assignmentBinder.bind(assignment)
            if bound.contains(where: { $0.field.name == item.field.name }) {
                throw Diagnostic(.invalidValue, "\(item.field.name) is set twice", at: assignment.field.range)
            }
            let reads = scope.referenced[before...]
            // A value computed from a field the user may not read would be computed from an empty
            // one: refused rather than written (a fix that blanks data it cannot see).
            if let denied = reads.first(where: { $0.column.denied }) {
                throw Diagnostic(
                    .permissionDenied, "\(engine.access.actor.handle) may not read \(denied.column.path), so set cannot copy it", at: denied.range,
                    help: "set reads only fields \(engine.access.actor.handle) may read")
            }
            // Related records' fields (`set company = account.name`) are read through the scope's
            // joins, which carry the read scope: the value becomes a subquery of the record's own row.
            if reads.contains(where: { $0.column.alias != scope.rootAlias || $0.column.targetAlias != nil }) {
                item = AssignmentBinder.Bound(
                    field: item.field, value: Sql.throughJoins(item.value, scope.joinSQL), range: item.range, constant: nil)
                relatedReads += reads.filter { $0.column.hiddenSQL != nil }
            }
            bound.append(item)
        }
        let plain = bound.filter { !Self.assignmentFields.contains($0.field.name) }
        let owners = bound.filter { Self.assignmentFields.contains($0.field.name) }
        var level = GrantedRule.Scope.all
        var rule: GrantedRule? = nil
        if !plain.isEmpty {
            (level, rule, _) = try allowedScope(.update, entity, fields: plain.map { ($0.field, $0.range) }, at: entityName.range)
        }
        if !owners.isEmpty {
            let (assignLevel, assignRule, _) = try allowedScope(
                .assign, entity, fields: owners.map { ($0.field, $0.range) }, at: entityName.range)
            if assignLevel < level { (level, rule) = (assignLevel, assignRule) }
            for owner in owners {
                if owner.constant == nil, assignLevel != .all {
                    // Read from the records (set owner = account.owner): who gets them cannot be checked first.
                    throw Diagnostic(
                        .permissionDenied,
                        "\(engine.access.actor.handle) may give records only to \(assignLevel == .own ? "themselves" : "members of their team"), so \(owner.field.relationName ?? owner.field.name) takes a user's handle here",
                        at: owner.range, help: "e.g. set \(owner.field.relationName ?? owner.field.name) = \(engine.access.actor.handle)")
                }
                try requireTargetInScope(owner, level: assignLevel)
            }
        }
        let selectionScope = engine.access.queryScope(entity)
        let selectionBinder = engine.binder(db, scope: selectionScope)
        let filter = try self.filter(
            for: selector, entity: entity, scope: selectionScope, binder: selectionBinder, action: .update,
            decision: engine.access.decide(.update, on: entity.name), level: level, rule: rule, range: entityName.range)
        try refuseHiddenReads(entity, relatedReads, scope: scope, filter: filter)
        try validateEmails(entity, bound, filter: filter)
        try validateLengths(entity, bound, filter: filter)
        let count = try recorder.update(entity, filter: filter, set: bound.map { ($0.field, $0.value) })
        var outcome = ChangeOutcome(records: count, verb: .updated, entity: entity)
        if let note = Self.trimmedNote(bound.filter(\.trimmed).count) { outcome.report.append(note) }
        if count == 0 {
            let matched = Select(Sql.countAll, from: entity.name, as: "t0").where(filter)
            outcome.unchangedMatches = try Int.fetchOne(db, matched.sql) ?? 0
        }
        return outcome
    }

    /// An owner or assignee given in a change must be someone the user may hand records to.
    func requireTargetInScope(_ bound: AssignmentBinder.Bound, level: GrantedRule.Scope) throws {
        guard level != .all, let value = bound.constant, let id = Int64.fromDatabaseValue(value) else { return }
        if level == .own, id != engine.access.actor.id {
            throw Diagnostic(.permissionDenied, "\(engine.access.actor.handle) may only give records to themselves", at: bound.range)
        }
        if level == .team {
            let team = try Int64.fetchOne(
                db, RecordLookup.record(CRMSchema.users, id: id.databaseValue, columns: [Sql.column("t0", "team_id")]).sql)
            if team == nil || team != engine.access.actor.teamID {
                throw Diagnostic(
                    .permissionDenied, "\(engine.access.actor.handle) may only give records to members of their team", at: bound.range)
            }
        }
    }

    /// Refuses an update whose value reads a related record the user may not read on one of the
    /// records it matches (it would read as empty there), naming the record.
    private func refuseHiddenReads(
        _ entity: EntityDefinition, _ reads: [QueryScope.ReferencedColumn], scope: QueryScope, filter: SQLFragment?
    ) throws {
        for read in reads {
            guard let hidden = read.column.hiddenSQL else { continue }
            let probe = Select(Sql.id("t0"), from: entity.name, as: "t0").joining(scope.joinSQL).where(filter.map(Sql.group))
                .where(Sql.group(SQLFragment(hidden))).limited(1)
            if let id = try Int64.fetchOne(db, probe.sql) {
                let hop = read.column.path.split(separator: ".").first.map(String.init) ?? read.column.path
                throw Diagnostic(
                    .permissionDenied,
                    "\(entity.singular) \(id)'s \(read.column.path) is hidden from \(engine.access.actor.handle): the related record is outside what they may read",
                    at: read.range,
                    help:
                        "set reads only what \(engine.access.actor.handle) may read; narrow the where clause to records whose \(hop) they can see")
            }
        }
    }

    /// Refuses a bulk change that would turn valid emails invalid, naming a record.
    private func validateEmails(_ entity: EntityDefinition, _ bound: [AssignmentBinder.Bound], filter: SQLFragment?) throws {
        for item in bound where item.field.type == .email && item.constant == nil {
            let column = Sql.column("t0", item.field.name)
            let broken = Select(Sql.id("t0"), item.value, from: entity.name, as: "t0").where(filter.map(Sql.group))
                .where(Sql.isTrue(AssignmentBinder.validEmailSQL(column)))
                .where(Sql.not(Sql.trueUnlessFalse(AssignmentBinder.validEmailSQL(item.value)))).limited(1)
            if let row = try Row.fetchOne(db, broken.sql) {
                let id: Int64 = try row.decode(atIndex: 0)
                let value: String? = try row.decode(atIndex: 1)
                throw Diagnostic(
                    .invalidValue, "this would make \(entity.singular) \(id)'s email invalid (\"\(value ?? "")\")",
                    at: item.range, help: "narrow the where clause, or fix that record first")
            }
        }
    }

    /// Refuses a bulk change whose computed text would pass a field's limit, naming a record.
    private func validateLengths(_ entity: EntityDefinition, _ bound: [AssignmentBinder.Bound], filter: SQLFragment?) throws {
        for item in bound where item.constant == nil {
            guard let max = item.field.maxLength else { continue }
            let long = Select(Sql.id("t0"), Sql.length(item.value), from: entity.name, as: "t0").where(filter.map(Sql.group))
                .where(Sql.compare(Sql.length(item.value), .greater, Sql.value(max))).limited(1)
            if let row = try Row.fetchOne(db, long.sql) {
                let id: Int64 = try row.decode(atIndex: 0)
                let count: Int = try row.decode(atIndex: 1)
                throw AssignmentBinder.tooLong(
                    "\(entity.singular) \(id)'s \(item.field.relationName ?? item.field.name)", count: count, max: max, at: item.range)
            }
        }
    }

    func requireWritable(_ entity: EntityDefinition, at range: SourceRange) throws {
        if entity.kind == .system {
            throw Diagnostic(.readOnlyField, "\(entity.name) is kept by Rolo and cannot be changed by hand", at: range)
        }
        if entity.kind == .security {
            throw Diagnostic(
                .readOnlyField, "\(entity.name) change through the user and role commands (grant, revoke, create user…)", at: range)
        }
    }

    // MARK: - create

    func create(entityName: EntityName, assignments: [Assignment]) throws -> ChangeOutcome {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        let scope = engine.access.queryScope(entity)
        let binder = engine.binder(db, scope: scope)
        var assignmentBinder = AssignmentBinder(engine: engine, db: db, entity: entity, binder: binder)
        assignmentBinder.keepsSpaces = keepsSpaces
        var values: [(field: String, value: DatabaseValue)] = []
        var bound: [AssignmentBinder.Bound] = []
        for assignment in assignments {
            let item = try assignmentBinder.bind(assignment)
            guard let constant = item.constant else {
                throw Diagnostic(.invalidValue, "a new record has no fields to compute from; give a value", at: item.range)
            }
            if values.contains(where: { $0.field == item.field.name }) {
                throw Diagnostic(.invalidValue, "\(item.field.name) is given twice", at: assignment.field.range)
            }
            values.append((item.field.name, constant))
            bound.append(item)
        }
        let plain = bound.filter { !Self.assignmentFields.contains($0.field.name) }
        _ = try allowedScope(.create, entity, fields: plain.map { ($0.field, $0.range) }, at: entityName.range)
        // Handing a new record to someone else is an assignment: it needs the assign right, and
        // the new owner or assignee must be within its scope (own: oneself; team: one's team).
        for given in bound where Self.assignmentFields.contains(given.field.name) {
            guard let value = given.constant, Int64.fromDatabaseValue(value) != engine.access.actor.id else { continue }
            let (assignLevel, _, _) = try allowedScope(.assign, entity, fields: [(given.field, given.range)], at: given.range)
            try requireTargetInScope(given, level: assignLevel)
        }
        if entity.hasOwner, !bound.contains(where: { $0.field.name == "owner_id" }) {
            values.append(("owner_id", engine.access.actor.id.databaseValue))
        }
        if entity.name == "tickets", !values.contains(where: { $0.field == "opened_at" }) {
            values.append(("opened_at", recorder.now.databaseValue))
        }
        if entity.name == "activities", !values.contains(where: { $0.field == "occurred_at" }) {
            values.append(("occurred_at", recorder.now.databaseValue))
        }
        let missing = entity.fields.filter { field in
            field.required && !field.system && field.sqlDefault == nil && !values.contains(where: { $0.field == field.name })
        }
        if !missing.isEmpty {
            let names = missing.map { $0.relationName ?? $0.name }
            throw Diagnostic(
                .requiredField, "a new \(entity.singular) needs \(names.joined(separator: ", "))", at: entityName.range,
                help: "e.g. create \(entity.singular) " + names.map { "\($0)=…" }.joined(separator: " "))
        }
        let id = try recorder.insert(entity, values: values)
        var outcome = ChangeOutcome(records: 1, verb: .created, entity: entity, note: "new \(entity.singular) is number \(id)")
        if let note = Self.trimmedNote(bound.filter(\.trimmed).count) { outcome.report.append(note) }
        return outcome
    }

    // MARK: - delete

    func delete(entityName: EntityName, selector: RecordSelector) throws -> ChangeOutcome {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        let decision = try engine.access.require(.delete, entity, at: entityName.range)
        let scope = engine.access.queryScope(entity)
        let binder = engine.binder(db, scope: scope)
        let filter = try self.filter(
            for: selector, entity: entity, scope: scope, binder: binder, action: .delete, decision: decision,
            level: decision.scope ?? .own, rule: decision.allowedBy, range: entityName.range)
        let count = try recorder.delete(entity, filter: filter ?? Sql.true)
        return ChangeOutcome(records: count, verb: .deleted, entity: entity)
    }

    // MARK: - assign

    func assign(entityName: EntityName, selector: RecordSelector, to user: Expression) throws -> ChangeOutcome {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        guard let field = entity.field(named: entity.hasAssignee ? "assignee_id" : "owner_id") else {
            throw Diagnostic(.invalidValue, "\(entity.name) have no owner to assign", at: entityName.range)
        }
        let decision = try engine.access.require(.assign, entity, at: entityName.range)
        let scope = engine.access.queryScope(entity)
        let binder = engine.binder(db, scope: scope)
        let target = try binder.bind(user, expecting: .reference("users"))
        guard case .constant(let value, _) = target, let userID = Int64.fromDatabaseValue(value) else {
            throw Diagnostic(.unknownUser, "assign … to takes a user's handle, e.g. to carol", at: user.range)
        }
        let level = decision.scope ?? .own
        try requireTargetInScope(
            AssignmentBinder.Bound(field: field, value: .value(userID), range: user.range, constant: value), level: level)
        let filter = try self.filter(
            for: selector, entity: entity, scope: scope, binder: binder, action: .assign, decision: decision,
            level: level, rule: decision.allowedBy, range: entityName.range)
        let count = try recorder.update(entity, filter: filter, set: [(field, .value(userID))])
        return ChangeOutcome(records: count, verb: .assigned, entity: entity)
    }
}
