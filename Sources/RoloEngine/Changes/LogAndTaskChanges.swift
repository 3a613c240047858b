import GRDB
import RoloStore
import RoloSyntax

/// `log` and `add task`: an interaction and a follow-up against a record, on the change path.
extension ChangeCommands {
    // MARK: - log and add task

    func log(kind: Located<String>, target: RecordReference, text: Located<String>) throws -> ChangeOutcome {
        guard let activities = CRMSchema.entity(named: "activities") else { throw Diagnostic(.unknownEntity, "no activities table") }
        let entity = try Catalog.entity(target.entity)
        guard let link = activities.fields.first(where: { $0.referencedEntity == entity.name }) else {
            throw Diagnostic(
                .invalidValue, "activities cannot be logged on \(entity.name)", at: target.entity.range,
                help: "log on a contact, account, lead, deal or ticket")
        }
        _ = try engine.access.require(.create, activities, at: kind.range)
        _ = try engine.access.require(.read, entity, at: target.entity.range)
        let id = try RecordLookup.id(of: target.key, in: entity, db: db, readableBy: engine)
        if let max = activities.field(named: "body")?.maxLength, text.value.count > max {
            throw AssignmentBinder.tooLong("the text", count: text.value.count, max: max, at: text.range)
        }
        let firstLine = text.value.split(separator: "\n").first.map(String.init) ?? text.value
        let subject = firstLine.count > 80 ? String(firstLine.prefix(79)) + "…" : firstLine
        let values: [(field: String, value: DatabaseValue)] = [
            ("kind", kind.value.databaseValue), ("subject", subject.databaseValue), ("body", text.value.databaseValue),
            (link.name, id.databaseValue), ("occurred_at", recorder.now.databaseValue), ("owner_id", engine.access.actor.id.databaseValue),
        ]
        let newID = try recorder.insert(activities, values: values)
        return ChangeOutcome(
            records: 1, verb: .logged, entity: activities, note: "\(kind.value) logged on \(entity.singular) \(id) as activity \(newID)")
    }

    func addTask(title: Located<String>, target: RecordReference?, due: Expression?, assignee: Expression?) throws -> ChangeOutcome {
        guard let tasks = CRMSchema.entity(named: "tasks") else { throw Diagnostic(.unknownEntity, "no tasks table") }
        let decision = try engine.access.require(.create, tasks, at: title.range)
        if let max = tasks.field(named: "title")?.maxLength, title.value.count > max {
            throw AssignmentBinder.tooLong("title", count: title.value.count, max: max, at: title.range)
        }
        let scope = engine.access.queryScope(tasks)
        let binder = engine.binder(db, scope: scope)
        var values: [(field: String, value: DatabaseValue)] = [("title", title.value.databaseValue), ("status", "open".databaseValue)]
        if let target {
            let entity = try Catalog.entity(target.entity)
            guard
                let link = tasks.fields.first(where: {
                    $0.referencedEntity == entity.name && $0.name != "assignee_id" && $0.name != "owner_id"
                })
            else {
                throw Diagnostic(
                    .invalidValue, "tasks cannot be attached to \(entity.name)", at: target.entity.range,
                    help: "attach tasks to a contact, account, lead, deal or ticket")
            }
            // A task can only be attached to a record the user may read.
            _ = try engine.access.require(.read, entity, at: target.entity.range)
            let id = try RecordLookup.id(of: target.key, in: entity, db: db, readableBy: engine)
            values.append((link.name, id.databaseValue))
        }
        if let due {
            let bound = try binder.bind(due, expecting: .date)
            guard case .temporal(let value) = bound else {
                throw Diagnostic(.typeMismatch, "due expects a date, e.g. due in 2 days or due 2026-12-01", at: due.range)
            }
            values.append(("due_date", value.storedValue(for: .date).databaseValue))
        }
        var assigneeID = engine.access.actor.id
        if let assignee {
            let bound = try binder.bind(assignee, expecting: .reference("users"))
            guard case .constant(let value, _) = bound, let id = Int64.fromDatabaseValue(value) else {
                throw Diagnostic(.unknownUser, "for takes a user's handle, e.g. for alice", at: assignee.range)
            }
            assigneeID = id
            if id != engine.access.actor.id, let field = tasks.field(named: "assignee_id") {
                let assign = try engine.access.require(.assign, tasks, at: assignee.range)
                try requireTargetInScope(
                    AssignmentBinder.Bound(field: field, value: .value(id), range: assignee.range, constant: value),
                    level: min(assign.scope ?? .own, decision.scope ?? .own))
            }
        }
        values.append(("assignee_id", assigneeID.databaseValue))
        values.append(("owner_id", engine.access.actor.id.databaseValue))
        let id = try recorder.insert(tasks, values: values)
        return ChangeOutcome(records: 1, verb: .created, entity: tasks, note: "new task is number \(id)")
    }
}
