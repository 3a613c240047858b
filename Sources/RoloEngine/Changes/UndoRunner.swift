import GRDB
import RoloStore
import RoloSyntax

/// `undo` and `undo change N`: reverts a change set as a new change set.
///
/// Refuses, record by record, when a field was changed again after the change set (unless
/// `--force`), and refuses a change set that was already undone.
struct UndoRunner {
    let engine: Engine
    let db: Database
    let recorder: ChangeRecorder

    /// The TEMP table of the change sets after the target that cancel out (`cancelledPairs`).
    static let cancelledTable = "rolo_undo_cancelled"
    /// The TEMP table of every change set that cancels out with another, before the target too.
    static let deadTable = "rolo_undo_dead"

    func run(_ requested: Located<Int>?, force: Bool, range: SourceRange) throws -> ChangeOutcome {
        let target = try findTarget(requested, range: range)
        let tables = [(Self.cancelledTable, target), (Self.deadTable, 0)]
        let outcome: ChangeOutcome
        do {
            for (table, after) in tables {
                try db.execute(SchemaSQL.dropTemporaryTable(table))
                try db.execute(SchemaSQL.createTemporaryTable(table, key: "id", columns: []))
                for id in try cancelledPairs(after: after) {
                    try db.execute(Insert(into: table, [("id", id.databaseValue)]).sql)
                }
            }
            outcome = try run(target, requested, force: force, range: range)
        } catch {
            for (table, _) in tables { try? db.execute(SchemaSQL.dropTemporaryTable(table)) }  // the failure is what is reported
            throw error
        }
        for (table, _) in tables { try db.execute(SchemaSQL.dropTemporaryTable(table)) }
        return outcome
    }

    /// The change sets after `target` that cancel out, so its undo can ignore them: a change set
    /// and its undo, both after it. Undoing an undo redoes the change, so along a chain (M, the
    /// undo of M, the undo of that…) members pair off from the first after `target`; with an odd
    /// count the last, which does what the first did, stays in force. A chain that starts with
    /// the undo of a change set before `target` pairs the same way: that undo's own undo cancels
    /// it. Nothing else cancels: a later change that happens to write the value back is a change.
    private func cancelledPairs(after target: Int64) throws -> [Int64] {
        let undos = try Row.fetchAll(
            db,
            Select(Select.columns(["id", "undoes_id"]), from: "change_sets")
                .where(Sql.compare(Sql.name("id"), .greater, Sql.value(target))).where(Sql.isNotNull(Sql.name("undoes_id"))).sql)
        var undoes: [Int64: Int64] = [:]
        var undoneBy: [Int64: Int64] = [:]
        for row in undos {
            let (undo, undone): (Int64, Int64) = (try row.decode(forColumn: "id"), try row.decode(forColumn: "undoes_id"))
            undoes[undo] = undone
            undoneBy[undone] = undo
        }
        let members = Set(undoes.keys).union(undoes.values.filter { $0 > target })
        var cancelled: [Int64] = []
        for start in members.sorted() where (undoes[start].map { $0 <= target } ?? true) {
            var chain = [start]
            while let next = undoneBy[chain[chain.count - 1]] { chain.append(next) }
            cancelled += chain.prefix(chain.count - chain.count % 2)
        }
        return cancelled
    }

    /// The change sets after the target that are in force: not cancelled, and not this undo.
    private func inForce(_ changeSet: SQLFragment, target: Int64) -> SQLFragment {
        Sql.and(
            Sql.compare(changeSet, .greater, Sql.value(target)),
            Sql.notIn(changeSet, Select(Sql.name("id"), from: Self.cancelledTable).sql),
            Sql.isDistinct(changeSet, Sql.value(recorder.existingChangeSetID.databaseValue)))
    }

    /// What a reverted record's `updated_at` becomes: what it was before the change sets about
    /// it that no longer count — the target and, around it, those that cancel out with another
    /// (`deadTable`, undone out of order too) — back to the last one that counts: the first
    /// `old_updated_at` of the record's update rows after that one. A later change set that still
    /// counts keeps the record's time. Rows written before schema version 6 kept no
    /// `updated_at`: then it is now, as it was. Undo's own history rows say when it ran.
    private func restoredUpdatedAt(_ entity: EntityDefinition, _ target: Int64, undo: Int64) -> SQLFragment {
        let ofRecord = { (alias: String) in
            [
                Sql.equals(Sql.column(alias, "entity"), Sql.value(entity.name)), Sql.equals(Sql.column(alias, "record_id"), Sql.id("t0")),
            ]
        }
        let dead = Select(Sql.name("id"), from: Self.deadTable).sql
        var lastCounting = Select(Sql.aggregate(.max, Sql.column("x", "change_set_id")), from: "field_history", as: "x")
        lastCounting.conditions = ofRecord("x") + [
            Sql.compare(Sql.column("x", "change_set_id"), .less, Sql.value(target)), Sql.notIn(Sql.column("x", "change_set_id"), dead),
        ]
        var before = Select(Sql.column("h", "old_updated_at"), from: "field_history", as: "h").ordered(by: Sql.id("h")).limited(1)
        before.conditions = ofRecord("h") + [
            Sql.equals(Sql.column("h", "op"), Sql.value(HistoryOp.update.rawValue)),
            Sql.compare(Sql.column("h", "change_set_id"), .greater, Sql.coalesce([Sql.subquery(lastCounting), Sql.value(0)])),
        ]
        var later = Select(Sql.true, from: "field_history", as: "l")
        later.conditions = ofRecord("l") + [
            Sql.compare(Sql.column("l", "change_set_id"), .greater, Sql.value(target)), Sql.notIn(Sql.column("l", "change_set_id"), dead),
            Sql.isDistinct(Sql.column("l", "change_set_id"), Sql.value(undo)),
        ]
        return Sql.when(
            [(Sql.exists(later), Sql.column("t0", "updated_at"))], else: Sql.coalesce([Sql.subquery(before), Sql.value(recorder.now)]))
    }

    private func run(_ target: Int64, _ requested: Located<Int>?, force: Bool, range: SourceRange) throws -> ChangeOutcome {
        let row = try Row.fetchOne(
            db,
            Select(Select.columns(["user_id", "undone_by_id", "command"]), from: "change_sets")
                .where(Sql.equals(Sql.name("id"), Sql.value(target))).sql)
        if let undoneBy = try row?.decode(Int64?.self, forColumn: "undone_by_id") {
            throw Diagnostic(
                .alreadyUndone, "change \(target) was already undone by change \(undoneBy)", at: requested?.range ?? range,
                help: "`undo change \(undoneBy)` would redo it")
        }
        let author: Int64 = try row?.decode(Int64?.self, forColumn: "user_id") ?? 0
        let entities = try String.fetchAll(db, Self.history(target, ["entity"]).distinctRows().sql)
        if author != engine.access.actor.id {
            for name in entities {
                guard let entity = CRMSchema.entity(named: name) else { continue }
                let decision = try engine.access.require(.update, entity, at: range)
                if decision.scope != .all {
                    throw Diagnostic(
                        .permissionDenied, "\(engine.access.actor.handle) may not undo another user's change to \(entity.name)",
                        at: range, help: "undoing someone else's change needs update on all \(entity.name)")
                }
            }
        }
        if !force { try checkConflicts(target, range: range) }
        try checkRights(target, range: range)

        var opsQuery = Self.history(target, ["entity", "op"]).grouped(by: Select.columns(["entity", "op"]))
        opsQuery.columns.append(Sql.named(Sql.countDistinct(Sql.name("record_id")), "n"))
        let ops = try Row.fetchAll(db, opsQuery.sql).map {
            (entity: try $0.decode(String.self, forColumn: "entity"), op: try $0.decode(HistoryOp.self, forColumn: "op"))
        }
        var touched = 0
        let creates = ops.filter { $0.op == .create }.compactMap { CRMSchema.entity(named: $0.entity) }
        let created = { (entity: EntityDefinition) in
            Sql.in(Sql.id("t0"), Self.history(target, ["record_id"], ["entity": entity.name, "op": HistoryOp.create]).sql)
        }
        // 0. A record number the change set freed by a delete and gave to a record it created:
        // that record goes first, so the deleted one can have its number back.
        for entity in creates {
            touched += try recorder.delete(entity, filter: Sql.and(created(entity), Sql.in(Sql.id("t0"), restoredIDs(entity, target))))
        }
        // 1. Bring deleted records back, with their old numbers — referenced tables first (the
        // schema declares them first), so a campaign member comes back after its lead.
        let order = Dictionary(uniqueKeysWithValues: CRMSchema.entities.enumerated().map { ($1.name, $0) })
        let deletes = ops.filter { $0.op == .delete }.sorted { (order[$0.entity] ?? 0) < (order[$1.entity] ?? 0) }
        for op in deletes {
            let name = op.entity
            guard let entity = CRMSchema.entity(named: name) else { continue }
            touched += try restoreDeleted(entity, target: target, range: range)
        }
        // 2. Put changed fields back: the first value each field had in the change set, of records
        // that existed before it (an update after a creation is the new record's own business).
        let updates = try Row.fetchAll(db, Self.history(target, ["entity", "field"], ["op": HistoryOp.update]).distinctRows().sql)
        var updatedRecords = Set<String>()
        let undoID = try recorder.changeSetID
        for update in updates {
            let name: String = try update.decode(forColumn: "entity")
            let fieldName: String = try update.decode(forColumn: "field")
            guard let entity = CRMSchema.entity(named: name), let field = entity.field(named: fieldName) else { continue }
            let revertible = Self.beforeCreation(entity, target, op: .update, field: fieldName)
            let filter = Sql.in(Sql.id("t0"), Select([Sql.column("h", "record_id")], fromQuery: revertible, as: "h").sql)
            let h = { Sql.column("h", $0) }
            let oldValue = Sql.subquery(
                Select(h("old_value"), from: "field_history", as: "h").where(Sql.equals(h("entity"), Sql.value(name)))
                    .where(Sql.equals(h("record_id"), Sql.id("t0"))).where(Sql.equals(h("field"), Sql.value(fieldName)))
                    .where(Sql.equals(h("change_set_id"), Sql.value(target))).where(Sql.equals(h("op"), Sql.value("update")))
                    .ordered(by: Sql.id("h")).limited(1))
            let updatedAt = entity.hasUpdatedAt ? restoredUpdatedAt(entity, target, undo: undoID) : nil
            _ = try recorder.update(entity, filter: filter, set: [(field, oldValue)], updatedAt: updatedAt)
            // Counted once: not again when step 1 brought the record back.
            let counted = Select([Sql.column("h", "record_id")], fromQuery: revertible, as: "h")
                .where(Sql.notIn(Sql.column("h", "record_id"), restoredIDs(entity, target))).distinctRows()
            for id in try Int64.fetchAll(db, counted.sql) { updatedRecords.insert("\(name):\(id)") }
        }
        touched += updatedRecords.count
        // 3. Remove the other records the change created (those it also deleted are gone already).
        for entity in creates {
            touched += try recorder.delete(entity, filter: Sql.and(created(entity), Sql.notIn(Sql.id("t0"), restoredIDs(entity, target))))
        }
        for (set, value, id) in [("undone_by_id", undoID, target), ("undoes_id", target, undoID)] {
            try db.execute(
                Update("change_sets", set: [(set, Sql.value(value))]).where(Sql.equals(Sql.name("id"), Sql.value(id))).sql)
        }
        var outcome = ChangeOutcome(
            records: touched, verb: .reverted, entity: CRMSchema.changeSets,
            note: "change \(target) is undone: \(row?["command"] as String? ?? "")")
        outcome.noun = ("record", "records")
        return outcome
    }

    /// The records of `entity` change set `target` deleted, inserted again as they were before
    /// it, in one statement: each record's fields pivoted out of its first deletion's history
    /// (one row per record, or one per field as older versions wrote them; `HistoryRows` reads
    /// both), then recorded as created. One statement, so a record and one it refers to come
    /// back together.
    private func restoreDeleted(_ entity: EntityDefinition, target: Int64, range: SourceRange) throws -> Int {
        let rows = HistoryRows()
        let deleted = rows.select([
            Sql.named(rows.column("record_id"), "record_id"), Sql.named(rows.field, "field"), Sql.named(rows.oldValue, "old"),
        ])
        let fields = entity.fields.map(\.name)
        // A number a later change gave to a new record (found as a conflict, unless --force,
        // which overwrites later values but never a later record).
        let taken = Select(Sql.id("t0"), from: entity.name, as: "t0").where(Sql.in(Sql.id("t0"), restoredIDs(entity, target)))
        if let id = try Int64.fetchOne(db, taken.ordered(by: Sql.id("t0")).limited(1).sql) {
            throw Diagnostic(
                .undoConflict,
                "cannot undo change \(target): \(entity.singular) \(id)'s number now belongs to a record a later change created; nothing was changed",
                at: range, help: "undo that later change first (`history \(entity.singular) \(id)` shows it)")
        }
        var firsts = deleted
        firsts.conditions += Self.firstDeletions(entity, target, alias: rows.alias)
        let pivot = Select(
            fields.map { field in
                Sql.aggregate(.max, Sql.when([(Sql.equals(Sql.name("field"), Sql.value(field)), Sql.name("old"))], else: Sql.null))
            }, fromQuery: firsts
        ).grouped(by: [Sql.name("record_id")]).ordered(by: Sql.name("record_id"))
        try db.execute(Insert(into: entity.name, columns: fields, select: pivot).sql)
        let restored = db.changesCount
        try recorder.recordSnapshot(entity, .create, fields: fields, conditions: [Sql.in(Sql.id("t0"), restoredIDs(entity, target))])
        return restored
    }

    /// The numbers of the records `restoreDeleted` brings back: those whose first deletion in the
    /// change set came before any creation of that number in it (they existed before it).
    private func restoredIDs(_ entity: EntityDefinition, _ target: Int64) -> SQLFragment {
        var query = Select([Sql.column("h", "record_id")], from: "field_history", as: "h").distinctRows()
        query.conditions = Self.firstDeletions(entity, target, alias: "h")
        return query.sql
    }

    /// Conditions keeping, of the history rows (alias `h`), the deletions of `entity` in `target`
    /// that are a record's first (per field, for older per-field rows; a number can be freed,
    /// reused and deleted again within one change set) and that no creation of it precedes.
    /// The subquery is computed once from the change set's rows (correlated ones were planned
    /// on the change-set index and read the whole change set once per row).
    static func firstDeletions(_ entity: EntityDefinition, _ target: Int64, alias h: String) -> [SQLFragment] {
        let firstPerField = Select(
            [Sql.aggregate(.min, Sql.column("d", "id"))], fromQuery: beforeCreation(entity, target, op: .delete), as: "d"
        )
        .grouped(by: [Sql.column("d", "record_id"), Sql.column("d", "field")])
        return [
            Sql.equals(Sql.column(h, "change_set_id"), Sql.value(target)), Sql.equals(Sql.column(h, "entity"), Sql.value(entity.name)),
            Sql.equals(Sql.column(h, "op"), Sql.value(HistoryOp.delete.rawValue)), Sql.in(Sql.id(h), firstPerField.sql),
        ]
    }

    /// The `op` rows of `entity` in `target` (`id`, `record_id`, `field`, `old_value`) written
    /// before the change set first created that record number, if it did: what they say is
    /// about the record that was there before the change set.
    static func beforeCreation(_ entity: EntityDefinition, _ target: Int64, op: HistoryOp, field: String? = nil) -> Select {
        let inChangeSet = { (alias: String, op: HistoryOp) in
            [
                Sql.equals(Sql.column(alias, "change_set_id"), Sql.value(target)),
                Sql.equals(Sql.column(alias, "entity"), Sql.value(entity.name)),
                Sql.equals(Sql.column(alias, "op"), Sql.value(op.rawValue)),
            ]
        }
        var creations = Select(
            [Sql.column("c", "record_id"), Sql.named(Sql.aggregate(.min, Sql.id("c")), "first")], from: "field_history", as: "c"
        ).grouped(by: [Sql.column("c", "record_id")])
        creations.conditions = inChangeSet("c", .create)
        var rows = Select(Select.columns(["id", "record_id", "field", "old_value"], of: "r"), from: "field_history", as: "r")
            .joining(Sql.leftJoin(query: creations, as: "f", on: Sql.equals(Sql.column("f", "record_id"), Sql.column("r", "record_id"))))
        rows.conditions =
            inChangeSet("r", op) + [
                Sql.any(Sql.isNull(Sql.column("f", "first")), Sql.compare(Sql.id("r"), .less, Sql.column("f", "first")))
            ]
        if let field { rows.conditions.append(Sql.equals(Sql.column("r", "field"), Sql.value(field))) }
        return rows
    }

    private func findTarget(_ requested: Located<Int>?, range: SourceRange) throws -> Int64 {
        if let requested {
            let exists = Select(Sql.true, from: "change_sets").where(Sql.equals(Sql.name("id"), Sql.value(requested.value)))
                .where(Sql.isDistinct(Sql.name("id"), Sql.value(recorder.existingChangeSetID.databaseValue)))
            guard try Bool.fetchOne(db, exists.sql) == true else {
                throw Diagnostic(.nothingToUndo, "there is no change \(requested.value)", at: requested.range, help: "`changes` lists them")
            }
            return Int64(requested.value)
        }
        let latest = Select(Sql.name("id"), from: "change_sets").where(Sql.equals(Sql.name("user_id"), Sql.value(engine.access.actor.id)))
            .where(Sql.isNull(Sql.name("undone_by_id"))).where(Sql.isNull(Sql.name("undoes_id")))
            .where(Sql.isDistinct(Sql.name("id"), Sql.value(recorder.existingChangeSetID.databaseValue)))
            .ordered(by: Sql.descending(Sql.name("id"))).limited(1)
        guard let id = try Int64.fetchOne(db, latest.sql) else {
            throw Diagnostic(
                .nothingToUndo, "\(engine.access.actor.handle) has no change to undo", at: range, help: "`changes` lists recent change sets")
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
            db, Self.history(target, ["entity", "op"]).distinctRows().ordered(by: Select.columns(["entity", "op"])).sql)
        for row in ops {
            let name: String = try row.decode(forColumn: "entity")
            let op: HistoryOp = try row.decode(forColumn: "op")
            guard let entity = CRMSchema.entity(named: name) else { continue }
            func records(_ op: HistoryOp, field: String? = nil) -> SQLFragment {
                var equal: KeyValuePairs<String, any DatabaseValueConvertible> = ["entity": name, "op": op]
                if let field { equal = ["entity": name, "op": op, "field": field] }
                return Sql.in(Sql.id("t0"), Self.history(target, ["record_id"], equal).sql)
            }
            switch op {
            case .delete:
                _ = try engine.access.require(.create, entity, at: range)
            case .create:
                let decision = try engine.access.require(.delete, entity, at: range)
                try engine.requireAllInScope(
                    entity, filter: records(.create), action: .delete, scope: decision.scope ?? .own, rule: decision.allowedBy,
                    db: db, at: range)
            case .update:
                let fields = try String.fetchAll(
                    db, Self.history(target, ["field"], ["entity": name, "op": HistoryOp.update]).distinctRows().sql)
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

    /// A record conflicts when a field this change set wrote was changed again afterwards, when
    /// it was deleted or its number given to a new record since, or, for a record this change set
    /// created (which undo deletes), when anything about it changed since — by a change set still
    /// in force: a later change set and its undo cancel out (`cancelledPairs`).
    private func checkConflicts(_ target: Int64, range: SourceRange) throws {
        let h = { Sql.column("h", $0) }
        let later = { Sql.column("later", $0) }
        let isOp = { (column: SQLFragment, op: HistoryOp) in Sql.equals(column, Sql.value(op.rawValue)) }
        let laterChange = Sql.and(
            Sql.equals(later("entity"), h("entity")), Sql.equals(later("record_id"), h("record_id")),
            Sql.any(
                Sql.equals(later("field"), h("field")), isOp(later("op"), .delete), isOp(later("op"), .create), isOp(h("op"), .create)),
            inForce(later("change_set_id"), target: target))
        let conflicts = Select(
            [
                h("entity"), h("record_id"),
                Sql.named(
                    Sql.when([(Sql.equals(h("field"), Sql.value(HistoryRows.wholeRecord)), later("field"))], else: h("field")), "field"),
                Sql.named(later("op"), "later_op"), Sql.named(later("change_set_id"), "later_change"), Sql.column("u", "handle"),
            ],
            from: "field_history", as: "h"
        )
        .joining(Sql.innerJoin("field_history", as: "later", on: laterChange))
        .joining(Sql.leftJoin("change_sets", as: "cs", on: Sql.equals(Sql.id("cs"), later("change_set_id"))))
        .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.id("u"), Sql.column("cs", "user_id"))))
        .where(Sql.equals(h("change_set_id"), Sql.value(target)))
        guard let first = try Row.fetchOne(db, conflicts.ordered(by: h("record_id"), Sql.id("later")).limited(1).sql) else { return }
        let records = Select([Sql.name("record_id")], fromQuery: conflicts)
        let sample = try Int64.fetchAll(db, records.distinctRows().ordered(by: Sql.name("record_id")).limited(6).sql)
        let entityName: String = try first.decode(forColumn: "entity")
        let singular = CRMSchema.entity(named: entityName)?.singular ?? entityName
        let record = "\(singular) \(try first.decode(Int64.self, forColumn: "record_id"))"
        let laterSet = try first.decode(Int64.self, forColumn: "later_change")
        let when = "in change \(laterSet) by \(try first.decode(String?.self, forColumn: "handle") ?? "someone")"
        let what: String
        switch try first.decode(HistoryOp.self, forColumn: "later_op") {
        case .delete: what = "\(record) was deleted \(when)"
        case .create: what = "\(record)'s number was given to a new record \(when)"
        case .update: what = "\(record) \(try first.decode(String.self, forColumn: "field")) was changed again \(when)"
        }
        throw Diagnostic(
            .undoConflict,
            "cannot undo change \(target): \(what)"
                + (sample.count > 1 ? " (records in conflict include \(sample.map(String.init).joined(separator: ", ")))" : ""),
            at: range, help: "undo the later change first, or add --force to overwrite it")
    }

    /// The history rows of change set `target`: `columns`, where each field equals its value.
    static func history(
        _ target: Int64, _ columns: [String], _ equal: KeyValuePairs<String, any DatabaseValueConvertible> = [:]
    ) -> Select {
        var query = Select(Select.columns(columns), from: "field_history")
            .where(Sql.equals(Sql.name("change_set_id"), Sql.value(target)))
        for (field, value) in equal { query = query.where(Sql.equals(Sql.name(field), Sql.value(value.databaseValue))) }
        return query
    }
}
