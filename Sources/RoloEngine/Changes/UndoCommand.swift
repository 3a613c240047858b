import GRDB
import RoloStore
import RoloSyntax

/// `undo`: revert a change set as a new one.
///
///     undo := 'undo' [ 'change' NUMBER ]          (--force past conflicts)
struct UndoCommand: Command {
    var changeSet: Located<Int>?

    static let name = "undo"
    static let forms = [
        form("undo") { parser, _ throws(Diagnostic) in
            if parser.acceptWord("change") {
                return UndoCommand(changeSet: try parser.parseInteger(what: "a change set number, e.g. undo change 57"))
            }
            return UndoCommand(changeSet: nil)
        }
    ]
    static let synopsis = "undo [change N] [--force]"
    static let summary =
        "Revert your last change set, or change set N, as a new change set; refuses on conflicts unless --force."
    static let examples = ["undo"]
    static let actions = ["update", "create", "delete"]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        let statement = context.statement
        return try context.engine.performChange(statement, output: context.output) { db, recorder in
            try UndoRunner(engine: context.engine, db: db, recorder: recorder).run(
                changeSet, force: statement.hasOption("force"), range: statement.range)
        }
    }
}

/// `undo` and `undo change N`: reverts a change set as a new change set.
///
/// Refuses, record by record, when a field was changed again after the change set (unless
/// `--force`), and refuses a change set that was already undone.
struct UndoRunner {
    let engine: Engine
    let db: Database
    let recorder: ChangeRecorder

    func run(_ requested: Located<Int>?, force: Bool, range: SourceRange) throws -> ChangeOutcome {
        let target = try findTarget(requested, range: range)
        let row = try Row.fetchOne(db, sql: "SELECT user_id, undone_by_id, command FROM change_sets WHERE id = ?", arguments: [target])
        if let undoneBy: Int64 = row?["undone_by_id"] {
            throw Diagnostic(
                .alreadyUndone, "change \(target) was already undone by change \(undoneBy)", at: requested?.range ?? range,
                help: "`undo change \(undoneBy)` would redo it")
        }
        let author: Int64 = row?["user_id"] ?? 0
        let entities = try String.fetchAll(
            db, sql: "SELECT DISTINCT entity FROM field_history WHERE change_set_id = ?", arguments: [target])
        if author != engine.actor.id {
            for name in entities {
                guard let entity = CRMSchema.entity(named: name) else { continue }
                let decision = try engine.require(.update, entity, at: range)
                if decision.scope != .all {
                    throw Diagnostic(
                        .permissionDenied, "\(engine.actor.handle) may not undo another user's change to \(entity.name)",
                        at: range, help: "undoing someone else's change needs update on all \(entity.name)")
                }
            }
        }
        if !force { try checkConflicts(target, range: range) }
        try checkRights(target, range: range)

        let ops = try Row.fetchAll(
            db, sql: "SELECT entity, op, count(DISTINCT record_id) AS n FROM field_history WHERE change_set_id = ? GROUP BY entity, op",
            arguments: [target])
        var touched = 0
        // 1. Bring deleted records back, with their old numbers — referenced tables first (the
        // schema declares them first), so a campaign member comes back after its lead.
        let order = Dictionary(uniqueKeysWithValues: CRMSchema.entities.enumerated().map { ($1.name, $0) })
        let deletes = ops.filter { ($0["op"] as HistoryOp) == .delete }.sorted {
            (order[$0["entity"] as String] ?? 0) < (order[$1["entity"] as String] ?? 0)
        }
        for op in deletes {
            let name: String = op["entity"]
            guard let entity = CRMSchema.entity(named: name) else { continue }
            let ids = try Int64.fetchAll(
                db,
                sql:
                    "SELECT DISTINCT record_id FROM field_history WHERE change_set_id = ? AND entity = ? AND op = 'delete' ORDER BY record_id",
                arguments: [target, name])
            for id in ids {
                let fields = try Row.fetchAll(
                    db,
                    sql:
                        "SELECT field, old_value FROM field_history WHERE change_set_id = ? AND entity = ? AND record_id = ? AND op = 'delete'",
                    arguments: [target, name, id])
                _ = try recorder.insert(entity, values: fields.map { ($0["field"], $0["old_value"]) })
                touched += 1
            }
        }
        // 2. Put changed fields back.
        let updates = try Row.fetchAll(
            db, sql: "SELECT DISTINCT entity, field FROM field_history WHERE change_set_id = ? AND op = 'update'", arguments: [target])
        var updatedRecords = Set<String>()
        for update in updates {
            let name: String = update["entity"]
            let fieldName: String = update["field"]
            guard let entity = CRMSchema.entity(named: name), let field = entity.field(named: fieldName) else { continue }
            let filter = SQLFragment(
                "t0.id IN (SELECT record_id FROM field_history WHERE change_set_id = ? AND entity = ? AND field = ? AND op = 'update')",
                [target.databaseValue, name.databaseValue, fieldName.databaseValue])
            let oldValue = SQLFragment(
                "(SELECT h.old_value FROM field_history h WHERE h.entity = ? AND h.record_id = t0.id AND h.field = ? AND h.change_set_id = ? AND h.op = 'update' ORDER BY h.id LIMIT 1)",
                [name.databaseValue, fieldName.databaseValue, target.databaseValue])
            _ = try recorder.update(entity, filter: filter, set: [(field, oldValue)])
            let ids = try Int64.fetchAll(
                db, sql: "SELECT DISTINCT record_id FROM field_history WHERE change_set_id = ? AND entity = ? AND op = 'update'",
                arguments: [target, name])
            for id in ids { updatedRecords.insert("\(name):\(id)") }
        }
        touched += updatedRecords.count
        // 3. Remove records the change created.
        for op in ops where (op["op"] as HistoryOp) == .create {
            let name: String = op["entity"]
            guard let entity = CRMSchema.entity(named: name) else { continue }
            touched += try recorder.delete(
                entity,
                filter: SQLFragment(
                    "t0.id IN (SELECT record_id FROM field_history WHERE change_set_id = ? AND entity = ? AND op = 'create')",
                    [target.databaseValue, name.databaseValue]))
        }
        let undoID = try recorder.changeSetID
        try db.execute(sql: "UPDATE change_sets SET undone_by_id = ? WHERE id = ?", arguments: [undoID, target])
        try db.execute(sql: "UPDATE change_sets SET undoes_id = ? WHERE id = ?", arguments: [target, undoID])
        var outcome = ChangeOutcome(
            records: touched, verb: .reverted, entity: CRMSchema.changeSets,
            note: "change \(target) is undone: \(row?["command"] as String? ?? "")")
        outcome.noun = ("record", "records")
        return outcome
    }

    private func findTarget(_ requested: Located<Int>?, range: SourceRange) throws -> Int64 {
        if let requested {
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM change_sets WHERE id = ? AND id IS NOT ?",
                    arguments: [requested.value, recorder.existingChangeSetID]) == true
            else {
                throw Diagnostic(.nothingToUndo, "there is no change \(requested.value)", at: requested.range, help: "`changes` lists them")
            }
            return Int64(requested.value)
        }
        guard
            let id = try Int64.fetchOne(
                db,
                sql: """
                    SELECT id FROM change_sets WHERE user_id = ? AND undone_by_id IS NULL AND undoes_id IS NULL AND id IS NOT ?
                    ORDER BY id DESC LIMIT 1
                    """, arguments: [engine.actor.id, recorder.existingChangeSetID])
        else {
            throw Diagnostic(
                .nothingToUndo, "\(engine.actor.handle) has no change to undo", at: range, help: "`changes` lists recent change sets")
        }
        return id
    }

    /// Undo is a change like any other: it needs the rights the direct commands would need today,
    /// on the records as they are now. Reverting updates needs update (assign for owners and
    /// assignees) over every record it touches; bringing deleted records back needs create;
    /// removing created records needs delete over them. `--force` skips conflicts, not these.
    private func checkRights(_ target: Int64, range: SourceRange) throws {
        let commands = ChangeCommands(engine: engine, db: db, recorder: recorder)
        let ops = try Row.fetchAll(
            db, sql: "SELECT DISTINCT entity, op FROM field_history WHERE change_set_id = ? ORDER BY entity, op", arguments: [target])
        for row in ops {
            let name: String = row["entity"]
            let op: HistoryOp = row["op"]
            guard let entity = CRMSchema.entity(named: name) else { continue }
            func records(_ op: HistoryOp, field: String? = nil) -> SQLFragment {
                var filter = SQLFragment(
                    "t0.id IN (SELECT record_id FROM field_history WHERE change_set_id = ? AND entity = ? AND op = ?",
                    [target.databaseValue, name.databaseValue, op.databaseValue])
                if let field { filter = filter + SQLFragment(" AND field = ?", [field.databaseValue]) }
                return filter + ")"
            }
            switch op {
            case .delete:
                _ = try engine.require(.create, entity, at: range)
            case .create:
                let decision = try engine.require(.delete, entity, at: range)
                try engine.requireAllInScope(
                    entity, filter: records(.create), action: .delete, scope: decision.scope ?? .own, rule: decision.allowedBy,
                    db: db, at: range)
            case .update:
                let fields = try String.fetchAll(
                    db, sql: "SELECT DISTINCT field FROM field_history WHERE change_set_id = ? AND entity = ? AND op = 'update'",
                    arguments: [target, name])
                for fieldName in fields {
                    guard let field = entity.field(named: fieldName) else { continue }
                    let action = ChangeCommands.assignmentFields.contains(fieldName) ? PermissionAction.assign : .update
                    let (level, rule, _) = try commands.allowedScope(action, entity, fields: [(field, range)], at: range)
                    try engine.requireAllInScope(
                        entity, filter: records(.update, field: fieldName), action: action, scope: level, rule: rule, db: db, at: range)
                }
            }
        }
    }

    /// A record conflicts when a field this change set wrote was changed again afterwards.
    private func checkConflicts(_ target: Int64, range: SourceRange) throws {
        let sql = """
            SELECT h.entity, h.record_id, h.field, later.change_set_id AS later_change, u.handle
            FROM field_history h
            JOIN field_history later ON later.entity = h.entity AND later.record_id = h.record_id
                 AND (later.field = h.field OR later.op = 'delete') AND later.change_set_id > h.change_set_id
            LEFT JOIN change_sets cs ON cs.id = later.change_set_id
            LEFT JOIN users u ON u.id = cs.user_id
            WHERE h.change_set_id = ? AND cs.undone_by_id IS NULL
            ORDER BY h.record_id LIMIT 6
            """
        let conflicts = try Row.fetchAll(db, sql: sql, arguments: [target])
        guard let first = conflicts.first else { return }
        let entityName: String = first["entity"]
        let singular = CRMSchema.entity(named: entityName)?.singular ?? entityName
        let records = Set(conflicts.map { "\(($0["record_id"] as Int64))" }).sorted()
        throw Diagnostic(
            .undoConflict,
            "cannot undo change \(target): \(singular) \(first["record_id"] as Int64) \(first["field"] as String) was changed again in change \(first["later_change"] as Int64) by \(first["handle"] as String? ?? "someone")"
                + (records.count > 1 ? " (records in conflict include \(records.joined(separator: ", ")))" : ""),
            at: range, help: "undo the later change first, or add --force to overwrite it")
    }
}

/// `changes [N]`: recent change sets, newest first.
struct ChangesRunner {
    let engine: Engine
    let db: Database

    func run(limit: Int?, format: OutputFormat, output: OutputSink) throws -> CommandResult {
        try engine.requireExport(CRMSchema.changeSets, format: format, at: nil)
        var sql = SQLFragment(
            """
            SELECT c.id, c.created_at, u.handle, c.records, c.command,
                   CASE WHEN c.undone_by_id IS NOT NULL THEN 'undone by ' || c.undone_by_id
                        WHEN c.undoes_id IS NOT NULL THEN 'undoes ' || c.undoes_id ELSE '' END
            FROM change_sets c LEFT JOIN users u ON u.id = c.user_id
            """)
        if !engine.decide(.read, on: "change_sets").isAllowed {
            sql = sql + SQLFragment(" WHERE c.user_id = ?", [engine.actor.id.databaseValue])
        }
        sql = sql + " ORDER BY c.id DESC LIMIT " + SQLFragment.value(limit ?? 20)
        let columns = [
            ResultColumn("change", .integer), ResultColumn("when", .timestamp), ResultColumn("who", .text),
            ResultColumn("records", .integer), ResultColumn("command", .text), ResultColumn("status", .text),
        ]
        var writer = ResultWriters.make(format, output: output)
        var result = CommandResult()
        result.rows = try stream(CompiledQuery(sql: sql, columns: columns, hiddenNote: nil), into: &writer, db: db)
        return result
    }
}
