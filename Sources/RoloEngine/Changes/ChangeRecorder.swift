import GRDB
import RoloStore
import RoloSyntax

/// Records one change set: every changing command writes through this, so each change gets a
/// field-history row per changed field (old → new; a new or deleted record one row with all its
/// fields, `recordSnapshot`), one change set and, after it, one audit entry.
///
/// History rows are written *before* the data changes, from the same filter, so they hold the
/// old values; the per-record diffs a command prints are read back from them — for a dry-run too.
final class ChangeRecorder {
    let db: Database
    let userID: Int64
    let impersonator: Int64?
    let command: String
    let now: String
    private var openedID: Int64?

    /// Nothing is written until the first change: a command refused by its checks leaves no trace
    /// but its audit entry.
    /// The acting user's read filter per entity, so diffs never name a record they may not read.
    var readFilter: ((EntityDefinition) -> SQLFragment?)? = nil
    /// Joined an open change set (a script's or transaction's), rather than opening one.
    private(set) var joined = false
    /// History rows of this statement have ids above this (a joined change set holds earlier ones).
    private var historyFloor: Int64 = 0
    /// Deletes so far (nested ones for dependent records included), naming each one's TEMP table.
    private var deletions = 0
    /// Notes which records broke a validation rule before this statement touched them (not for undo).
    var baseline: RuleBaseline? = nil

    /// With `joining`, the statement's changes go into that change set: a script or a
    /// `begin … commit` is one change set, undone as one.
    init(db: Database, actor: Actor, impersonator: Int64?, command: String, now: String, joining: Int64? = nil) throws {
        self.db = db
        self.userID = actor.id
        self.impersonator = impersonator
        self.command = command
        self.now = now
        if let joining {
            openedID = joining
            joined = true
            historyFloor = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: "field_history").sql) ?? 0
        }
    }

    /// The change set's number, opening it on first use.
    var changeSetID: Int64 {
        get throws {
            if let openedID { return openedID }
            try db.execute(
                Insert(
                    into: "change_sets",
                    [
                        ("user_id", userID.databaseValue), ("impersonator_id", impersonator.databaseValue),
                        ("command", command.databaseValue), ("records", 0.databaseValue), ("created_at", now.databaseValue),
                    ]
                ).sql)
            openedID = db.lastInsertedRowID
            return db.lastInsertedRowID
        }
    }

    /// The change set's number if anything has been written.
    var existingChangeSetID: Int64? { openedID }

    /// References whose records cannot live without the deleted one: they are deleted with it.
    static let dependentReferences: Set<String> = [
        "campaign_members.lead_id", "campaign_members.contact_id", "campaign_members.campaign_id",
    ]

    static let historyColumns = [
        "change_set_id", "entity", "record_id", "op", "field", "old_value", "new_value", "user_id", "changed_at", "old_updated_at",
    ]

    /// An update row's `old_updated_at`: the record's `updated_at` before the change, for undo.
    static func oldUpdatedAt(_ entity: EntityDefinition, op: String) -> SQLFragment {
        entity.hasUpdatedAt && op == HistoryOp.update.rawValue ? Sql.column("t0", "updated_at") : Sql.null
    }

    /// `INSERT INTO field_history … SELECT` one row per record of `entity` (alias t0) matching
    /// `conditions`: the bulk path, one statement for any number of records.
    func recordHistory(
        _ entity: EntityDefinition, op: String, field: FieldDefinition, old: SQLFragment, new: SQLFragment, conditions: [SQLFragment]
    ) throws {
        var rows = Select(
            [
                Sql.value(try changeSetID), Sql.value(entity.name), Sql.id("t0"), Sql.value(op), Sql.value(field.name), old, new,
                Sql.value(userID), Sql.value(now), Self.oldUpdatedAt(entity, op: op),
            ], from: entity.name, as: "t0")
        rows.conditions = conditions
        try db.execute(Insert(into: "field_history", columns: Self.historyColumns, select: rows).sql)
    }

    /// Updates the records matching `filter` (over alias t0), recording each changed field.
    /// `updatedAt` is what the records' `updated_at` becomes (now, unless given: undo puts back
    /// what it was).
    /// - Returns: how many records changed (records whose new values equal the old are left alone).
    func update(
        _ entity: EntityDefinition, filter: SQLFragment?, set assignments: [(field: FieldDefinition, value: SQLFragment)],
        updatedAt: SQLFragment? = nil
    ) throws -> Int {
        try baseline?.beforeUpdate(entity, filter: filter)
        for (field, value) in assignments {
            let column = Sql.column("t0", field.name)
            try recordHistory(
                entity, op: "update", field: field, old: column, new: value,
                conditions: [Sql.group(Sql.isDistinct(value, column))] + (filter.map { [$0] } ?? []))
        }
        let changed = Sql.any(assignments.map { Sql.isDistinct($0.value, Sql.column("t0", $0.field.name)) })
        var sets = assignments.map { (column: $0.field.name, value: $0.value) }
        if entity.hasUpdatedAt, !assignments.contains(where: { $0.field.name == "updated_at" }) {
            sets.append(("updated_at", updatedAt ?? Sql.value(now)))
        }
        try db.execute(Update(entity.name, as: "t0", set: sets).where(changed).where(filter).sql)
        return db.changesCount
    }

    /// Inserts one record, recording it as created with its non-empty fields.
    func insert(_ entity: EntityDefinition, values: [(field: String, value: DatabaseValue)]) throws -> Int64 {
        var values = values
        for system in ["created_at", "updated_at"]
        where entity.field(named: system) != nil && !values.contains(where: { $0.field == system }) {
            values.append((system, now.databaseValue))
        }
        try db.execute(Insert(into: entity.name, values.map { (column: $0.field, value: $0.value) }).sql)
        let id = db.lastInsertedRowID
        try baseline?.created(entity, id: id)
        try recordSnapshot(
            entity, .create, fields: values.filter { !$0.value.isNull }.map(\.field), conditions: [Sql.idEquals("t0", id)])
        return id
    }

    /// `INSERT INTO field_history … SELECT` one row per record of `entity` (alias t0) matching
    /// `conditions`, created (after the insert) or about to be deleted: `field` is `*` and the new
    /// value of a creation, or the old value of a deletion, is the record's `fields` as stored, as
    /// one JSON object in that order (`HistoryRows` spreads it back into fields for readers).
    func recordSnapshot(_ entity: EntityDefinition, _ op: HistoryOp, fields: [String], conditions: [SQLFragment]) throws {
        let snapshot = Sql.jsonObject(fields.map { (key: $0, value: Sql.column("t0", $0)) })
        var rows = Select(
            [
                Sql.value(try changeSetID), Sql.value(entity.name), Sql.id("t0"), Sql.value(op.rawValue),
                Sql.value(HistoryRows.wholeRecord), op == .delete ? snapshot : Sql.null, op == .delete ? Sql.null : snapshot,
                Sql.value(userID), Sql.value(now), Sql.null,
            ], from: entity.name, as: "t0")
        rows.conditions = conditions
        try db.execute(Insert(into: "field_history", columns: Self.historyColumns, select: rows).sql)
    }

    /// Deletes the records matching `filter`, keeping every field's old value (one row per record)
    /// so undo can restore them.
    /// References to them from other records are cleared first, through history too.
    func delete(_ entity: EntityDefinition, filter: SQLFragment) throws -> Int {
        // The doomed records' numbers, found once (a TEMP table), so each step below reads them
        // instead of evaluating the filter again, and clearing references cannot change the set.
        deletions += 1
        let table = "rolo_doomed_\(deletions)"
        try db.execute(SchemaSQL.dropTemporaryTable(table))
        try db.execute(SchemaSQL.createTemporaryTable(table, key: "id", columns: []))
        let deleted: Int
        do {
            try db.execute(
                Insert(into: table, columns: ["id"], select: Select(Sql.id("t0"), from: entity.name, as: "t0").where(filter)).sql)
            deleted = try delete(entity, doomed: Select(Sql.name("id"), from: table).sql)
        } catch {
            try? db.execute(SchemaSQL.dropTemporaryTable(table))  // the failure is what is reported
            throw error
        }
        // Not `try?`: Ctrl-C landing on this statement must still stop the command.
        try db.execute(SchemaSQL.dropTemporaryTable(table))
        return deleted
    }

    /// `delete` once the doomed records' numbers are in a table (`doomed` selects them).
    private func delete(_ entity: EntityDefinition, doomed: SQLFragment) throws -> Int {
        let filter = Sql.in(Sql.id("t0"), doomed)
        // Clear nullable references to the doomed records (recorded, so undo restores them).
        for other in CRMSchema.entities where other.kind != .system {
            // Records that must point at a doomed one (an owner, a role's rules) block the delete.
            for field in other.fields
            where field.referencedEntity == entity.name && field.required
                && !Self.dependentReferences.contains("\(other.name).\(field.name)")
            {
                let blocking = Select(Sql.countAll, from: other.name, as: "t0").where(Sql.in(Sql.column("t0", field.name), doomed))
                let count = try Int.fetchOne(db, blocking.sql) ?? 0
                if count > 0 {
                    throw Diagnostic(
                        .constraintViolated,
                        "\(count) \(other.name) still need the \(entity.name) being deleted (their \(field.relationName ?? field.name))",
                        help: "reassign or delete those \(other.name) first")
                }
            }
            for field in other.fields
            where field.referencedEntity == entity.name
                && (!field.required
                    || Self.dependentReferences.contains("\(other.name).\(field.name)"))
            {
                let inDoomed = Sql.in(Sql.column("t0", field.name), doomed)
                if Self.dependentReferences.contains("\(other.name).\(field.name)") {
                    _ = try delete(other, filter: inDoomed)
                } else {
                    _ = try update(other, filter: inDoomed, set: [(field, Sql.null)])
                }
            }
        }
        try recordSnapshot(entity, .delete, fields: entity.fields.map(\.name), conditions: [filter])
        try db.execute(Delete(from: entity.name, as: "t0").where(filter).sql)
        return db.changesCount
    }

    /// Closes the change set with its record count and a one-line summary.
    func finish(records: Int, summary: String) throws {
        guard let changeSetID = openedID else { return }
        let count = joined ? Sql.plus(Sql.name("records"), Sql.value(records)) : Sql.value(records)
        try db.execute(
            Update("change_sets", set: [("records", count), ("summary", Sql.value(summary))])
                .where(Sql.equals(Sql.name("id"), Sql.value(changeSetID))).sql)
    }

    // MARK: - Diffs

    /// Prints per-record diffs from the history of this change set, abridged after `limit` records.
    /// Records of `primary` (the command's own entity) come first; records of other entities the
    /// change reached (links cleared by a delete, records moved by a merge) after them, counted.
    func printDiffs(output: OutputSink, total: Int, primary: String? = nil, limit: Int = 12) throws {
        guard let changeSetID = openedID else { return }
        // The first records in the order they were changed, read from the head of the history
        // (an index range scan), not by grouping all of it: a million-row change prints at once.
        var records: [(entity: String, id: Int64)] = []
        var seen = Set<String>()
        var hasMore = false
        for pass in primary == nil ? [nil] : [true, false] as [Bool?] {
            var query = history(changeSetID, ["entity", "record_id"])
            if let pass, let primary {
                query = query.where(Sql.compare(Sql.name("entity"), pass ? .equal : .notEqual, Sql.value(primary)))
            }
            let cursor = try Row.fetchCursor(db, query.ordered(by: Sql.name("id")).sql)
            while let row = try cursor.next() {
                let entity: String = try row.decode(atIndex: 0)
                let id: Int64 = try row.decode(atIndex: 1)
                guard seen.insert("\(entity):\(id)").inserted else { continue }
                if records.count == limit {
                    hasMore = true
                    break
                }
                records.append((entity, id))
            }
            if hasMore { break }
        }
        var others = 0
        if let primary {
            let elsewhere = Sql.compare(Sql.name("entity"), .notEqual, Sql.value(primary))
            if try Bool.fetchOne(db, history(changeSetID, []).where(elsewhere).limited(1).sql) == true {
                others = try Int.fetchOne(db, history(changeSetID, ["entity", "record_id"]).where(elsewhere).distinctRows().counted) ?? 0
            }
        }
        for record in records {
            let entityName = record.entity
            let id = record.id
            guard let entity = CRMSchema.entity(named: entityName) else { continue }
            let rows = HistoryRows()
            let changes = try Row.fetchAll(
                db,
                rows.select([
                    rows.column("op"), Sql.named(rows.field, "field"), Sql.named(rows.oldValue, "old_value"),
                    Sql.named(rows.newValue, "new_value"),
                ])
                .where(Sql.equals(rows.column("change_set_id"), Sql.value(changeSetID)))
                .where(Sql.compare(Sql.id(rows.alias), .greater, Sql.value(historyFloor)))
                .where(Sql.equals(rows.column("entity"), Sql.value(entityName))).where(Sql.equals(rows.column("record_id"), Sql.value(id)))
                .ordered(by: rows.order).sql)
            // A record changed and then deleted in one change set (an undo, a script) shows as deleted.
            let ops = try changes.map { try $0.decode(HistoryOp.self, forColumn: "op") }
            let op: HistoryOp = ops.contains(.delete) ? .delete : ops.first ?? .update
            var title = ValueFormatter.display(try String.fetchOne(db, RecordLookup.titleQuery(entity, id: id.databaseValue).sql) ?? "")
            // A deleted record by the name its deletion's history holds: `contact 3007 (Ana Ruiz, deleted)`.
            if op == .delete {
                let name = ValueFormatter.display(try String.fetchOne(db, RecordLookup.deletedTitleQuery(entity, id: id.databaseValue).sql) ?? "")
                title = name.isEmpty ? "deleted" : name + ", deleted"
            }
            let header = "  \(entity.singular) \(id)" + (title.isEmpty ? "" : " (\(title))")
            switch op {
            case .create:
                let fields = try changes.compactMap { row -> String? in
                    let field: String = try row.decode(forColumn: "field")
                    guard field != "created_at", field != "updated_at" else { return nil }
                    let definition = entity.field(named: field)
                    return "\(definition?.relationName ?? field) = " + (try describe(try row.decode(DatabaseValue.self, forColumn: "new_value"), definition))
                }
                output.line(header + ": created with " + fields.joined(separator: ", "))
            case .delete:
                output.line(header)
            case .update:
                let parts = try changes.map { row -> String in
                    let field: String = try row.decode(forColumn: "field")
                    let definition = entity.field(named: field)
                    return "\(definition?.relationName ?? field) " + (try describe(try row.decode(DatabaseValue.self, forColumn: "old_value"), definition)) + " → "
                        + (try describe(try row.decode(DatabaseValue.self, forColumn: "new_value"), definition))
                }
                output.line(header + ": " + parts.joined(separator: ", "))
            }
        }
        let shown = records.count
        if total + others > shown {
            var line = "  … and \(total + others - shown) more"
            if others > 0 {
                line +=
                    " (\(total) \(total == 1 ? "record" : "records") and \(others) linked \(others == 1 ? "record" : "records") they touched)"
            } else {
                line += " (\(total) records in all)"
            }
            output.line(line)
        } else if hasMore {
            output.line("  … and more related records")
        }
    }

    /// A value in a diff; a related record by its title (`owner bob → maria`), or `(hidden)` when
    /// the acting user may not read it.
    func describe(_ value: DatabaseValue, _ field: FieldDefinition?) throws -> String {
        guard let field, !value.isNull, let target = field.referencedEntity, let entity = CRMSchema.entity(named: target) else {
            return Self.show(value, field?.type)
        }
        let lookup = RecordLookup.titleQuery(entity, id: value).where(readFilter?(entity) ?? nil)
        guard let row = try Row.fetchOne(db, lookup.sql) else {
            let exists = try Bool.fetchOne(db, RecordLookup.record(entity, id: value).sql) == true
            if exists { return Visibility.hiddenMarker }
            // Named from its deletion's history for those who read every record (as `history` of a
            // deleted record is): `contact 43 (Victor Turner, deleted)`.
            let number = ValueFormatter.display(value, .integer)
            guard readFilter?(entity) == nil,
                let name = try String.fetchOne(db, RecordLookup.deletedTitleQuery(entity, id: value).sql), !name.isEmpty
            else { return "\(number) (deleted)" }
            return "\(number) (\(ValueFormatter.display(name)), deleted)"
        }
        let title = ValueFormatter.display((try row.decode(String?.self, atIndex: 0)) ?? "")
        switch entity.name {
        case "users", "teams", "roles": return title.isEmpty ? ValueFormatter.display(value, .integer) : title
        default: return Self.quoted(title.isEmpty ? "\(entity.singular) \(ValueFormatter.display(value, .integer))" : title)
        }
    }

    /// The records of `entity` this statement created or changed (its own history rows; a
    /// joined change set's earlier statements excluded): a subquery of ids, for rule checks.
    func touchedIDs(of entity: EntityDefinition) -> SQLFragment? {
        guard let changeSetID = openedID else { return nil }
        return history(changeSetID, ["record_id"]).where(Sql.equals(Sql.name("entity"), Sql.value(entity.name)))
            .where(Sql.compare(Sql.name("op"), .notEqual, Sql.value(HistoryOp.delete.rawValue))).sql
    }

    /// This statement's history rows of the change set: `columns` (or `1`) of field_history.
    private func history(_ changeSetID: Int64, _ columns: [String]) -> Select {
        Select(columns.isEmpty ? [Sql.true] : Select.columns(columns), from: "field_history")
            .where(Sql.equals(Sql.name("change_set_id"), Sql.value(changeSetID)))
            .where(Sql.compare(Sql.name("id"), .greater, Sql.value(historyFloor)))
    }

    static func show(_ value: DatabaseValue, _ type: FieldType?) -> String {
        if value.isNull { return "(empty)" }
        let text = ValueFormatter.display(value, type)
        switch type {
        case .money, .integer, .boolean, .enumeration, .reference, .date, .timestamp: return text
        default: return quoted(text)
        }
    }

    /// Text in quotes as Rolo writes strings: `"` and `\\` escaped, so a value can't pass for the end of one,
    /// and sanitised as display text (an import's problems quote the file's cells with it).
    static func quoted(_ text: String) -> String {
        let safe = ValueFormatter.display(text)
        let clipped = safe.count > 40 ? String(safe.prefix(39)) + "…" : safe
        var escaped = ""
        for character in clipped {
            if character == "\"" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "\"" + escaped + "\""
    }
}
