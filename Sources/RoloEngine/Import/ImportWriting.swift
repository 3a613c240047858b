import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// The import's writes: new records, matched records' changes, and the rejects file.
extension ImportJob {
    /// Writes the staged rows: the new records, then the matched records' changes, in chunks of
    /// lines (`WriteProgress`).
    ///
    /// With validation rules on the entity the writes go into a savepoint and the records they
    /// leave are checked (the records the change path checks: those with history in this
    /// statement, so a skipped or unchanged record is not one). Clean, they are kept; otherwise
    /// each breaking record's row is logged as a problem, in file order (thrown at once unless
    /// collecting), the writes are rolled back, those rows taken out, and the rest written again.
    /// New records are numbered past the highest in file order, so the k-th new number is the
    /// k-th new row; a matched record's row is the one that names it. `engine.performChange`
    /// checks the rules again after, as for every change.
    mutating func write(
        columns: [Column], keyField: FieldDefinition?, updating: Bool, meter: ProgressMeter?
    ) throws -> (created: Int, updated: Int, perField: [(String, Int)]) {
        let rules = try ValidationRule.load(db, entity: entity)
        let write = { [self] () throws -> (created: Int, updated: Int, perField: [(String, Int)]) in
            let progress = try WriteProgress(db: db, meter: meter, passes: updating ? 3 : 1, stop: stopIfInterrupted)
            let created = try createRecords(columns: columns, progress: progress)
            guard updating else { return (created, 0, []) }
            let (updated, perField) = try updateRecords(columns: columns, keyField: keyField, progress: progress)
            return (created, updated, perField)
        }
        guard !rules.isEmpty else { return try write() }
        _ = try recorder.changeSetID  // opened outside the savepoint, so it outlives a rolled-back try
        while true {
            let highest = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: entity.name).sql) ?? 0
            var written = (created: 0, updated: 0, perField: [(String, Int)]())
            var breaking: [(id: Int64, rule: ValidationRule)] = []
            try db.inSavepoint {
                written = try write()
                if let touched = recorder.touchedIDs(of: entity) {
                    let scope = engine.ruleScope(entity)
                    for rule in rules {
                        let ids = try Int64.fetchAll(db, try engine.recordsBreaking(rule, db: db, scope: scope, within: touched).sql)
                        breaking += ids.map { ($0, rule) }
                    }
                }
                return breaking.isEmpty ? .commit : .rollback
            }
            if breaking.isEmpty { return written }
            let rejected = problems.rejected
            try logRowsBreakingRules(breaking, highest: highest)
            // A record no row can be blamed for: written as it is, the change path's own check refuses it.
            if problems.rejected == rejected { return try write() }
            try dropRejected()
        }
    }

    /// The new records, in file order, each recorded as created as `create` records it.
    func createRecords(columns: [Column], progress: WriteProgress) throws -> Int {
        let fresh = Sql.isNull(Sql.column("s", Self.targetColumn))
        let now = Sql.value(recorder.now)
        var names: [String] = []
        var values: [SQLFragment] = []
        for column in columns where column.field.name != "id" {
            names.append(column.field.name)
            let staged = Sql.column("s", column.field.name)
            switch column.field.name {
            case "owner_id": values.append(Sql.coalesce([staged, Sql.value(engine.access.actor.id)]))
            case "created_at", "updated_at": values.append(Sql.coalesce([staged, now]))
            default:
                // An empty cell takes the field's default (a lead's status `new`), as a missing column does.
                if let fallback = Self.defaultValue(of: column.field) {
                    values.append(Sql.coalesce([staged, Sql.value(fallback)]))
                } else {
                    values.append(staged)
                }
            }
        }
        var defaults: [(String, SQLFragment)] = []
        if entity.hasOwner, !names.contains("owner_id") { defaults.append(("owner_id", Sql.value(engine.access.actor.id))) }
        for system in ["created_at", "updated_at"] where entity.field(named: system) != nil && !names.contains(system) {
            defaults.append((system, now))
        }
        if entity.name == "tickets", !names.contains("opened_at") { defaults.append(("opened_at", now)) }
        if entity.name == "activities", !names.contains("occurred_at") { defaults.append(("occurred_at", now)) }
        for (name, value) in defaults {
            names.append(name)
            values.append(value)
        }
        let fields = names.filter { entity.field(named: $0) != nil }
        var created = 0
        try progress.pass { lines in
            let before = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: entity.name).sql) ?? 0
            let newRows = Select(values, from: Self.staging, as: "s").where(fresh).where(lines(Sql.column("s", Self.lineColumn)))
                .ordered(by: Sql.column("s", Self.lineColumn))
            try db.execute(Insert(into: entity.name, columns: names, select: newRows).sql)
            guard db.changesCount > 0 else { return }
            created += db.changesCount
            // Under the write lock, the new records are exactly those numbered past the old
            // highest: one creation row each, with the fields the import wrote (`HistoryRows`).
            try recorder.recordSnapshot(
                entity, .create, fields: fields, conditions: [Sql.compare(Sql.id("t0"), .greater, Sql.value(before))])
        }
        return created
    }

    /// A field's declared default as a value (`'new'` → new, `0` → 0), to bind.
    static func defaultValue(of field: FieldDefinition) -> DatabaseValue? {
        guard let text = field.sqlDefault else { return nil }
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 {
            return String(text.dropFirst().dropLast()).databaseValue
        }
        return Int64(text)?.databaseValue
    }

    /// The matched records' fields that the file gives and that differ, with their history as
    /// `update` writes it (old → new, before the change); empty cells leave a field alone.
    /// The key is left as the record has it: it matched (for text, whatever its case).
    ///
    /// The history is one pass over the matched rows crossed with the file's fields, record by
    /// record; the `UPDATE … FROM` then sets only the fields that changed somewhere (a field set
    /// to itself would still rewrite each index on it).
    func updateRecords(columns: [Column], keyField: FieldDefinition?, progress: WriteProgress) throws -> (Int, [(String, Int)]) {
        let updatable = columns.filter { !$0.field.system && $0.field !== keyField }.map(\.field)
        guard !updatable.isEmpty else {
            progress.skipPass(2)
            return (0, [])
        }
        let staged = { (field: FieldDefinition) in Sql.column("s", field.name) }
        let current = { (field: FieldDefinition) in Sql.column("t0", field.name) }
        let differs = { (field: FieldDefinition) in Sql.all([Sql.isNotNull(staged(field)), Sql.isDistinct(staged(field), current(field))]) }
        let joined = Sql.innerJoin(Self.staging, as: "s", on: Sql.equals(Sql.column("s", Self.targetColumn), Sql.id("t0")))
        let before = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: "field_history").sql) ?? 0
        try db.execute(SchemaSQL.dropTemporaryTable(Self.fieldList))
        try db.execute(SchemaSQL.createTemporaryTable(Self.fieldList, key: "ord", columns: ["name"]))
        for (index, field) in updatable.enumerated() {
            try db.execute(Insert(into: Self.fieldList, [("ord", (index + 1).databaseValue), ("name", field.name.databaseValue)]).sql)
        }
        let byField = { (make: (FieldDefinition) -> SQLFragment) in
            Sql.when(
                updatable.enumerated().map { index, field in (Sql.equals(Sql.column("f", "ord"), Sql.value(index + 1)), make(field)) },
                else: Sql.null)
        }
        var rows = Select(
            [
                Sql.value(try recorder.changeSetID), Sql.value(entity.name), Sql.id("t0"), Sql.value(HistoryOp.update.rawValue),
                Sql.column("f", "name"), byField(current), byField(staged), Sql.value(recorder.userID), Sql.value(recorder.now),
                ChangeRecorder.oldUpdatedAt(entity, op: HistoryOp.update.rawValue),
            ], from: entity.name, as: "t0"
        ).joining(joined).joining(Sql.crossJoin(Self.fieldList, as: "f"))
        try progress.pass { lines in
            rows.conditions = [lines(Sql.column("s", Self.lineColumn)), byField(differs)]
            try db.execute(Insert(into: "field_history", columns: ChangeRecorder.historyColumns, select: rows).sql)
        }
        try db.execute(SchemaSQL.dropTemporaryTable(Self.fieldList))
        let counts = try Row.fetchAll(
            db,
            Select(Sql.name("field"), Sql.countAll, from: "field_history")
                .where(Sql.equals(Sql.name("change_set_id"), Sql.value(try recorder.changeSetID)))
                .where(Sql.compare(Sql.name("id"), .greater, Sql.value(before)))
                .grouped(by: [Sql.name("field")]).ordered(by: Sql.descending(Sql.countAll), Sql.name("field")).sql
        ).map { row -> (field: String, count: Int) in (try row.decode(atIndex: 0), try row.decode(atIndex: 1)) }
        let changed = updatable.filter { field in counts.contains { $0.field == field.name } }
        guard !changed.isEmpty else {
            progress.skipPass()
            return (0, [])
        }
        var sets = changed.map { field in (column: field.name, value: Sql.coalesce([staged(field), current(field)])) }
        if entity.hasUpdatedAt {
            let kept = columns.contains { $0.field.name == "updated_at" }
            sets.append(
                ("updated_at", kept ? Sql.coalesce([Sql.column("s", "updated_at"), Sql.value(recorder.now)]) : Sql.value(recorder.now)))
        }
        var updated = 0
        try progress.pass { lines in
            try db.execute(
                Update(entity.name, as: "t0", set: sets).from(Self.staging, as: "s")
                    .where(Sql.equals(Sql.column("s", Self.targetColumn), Sql.id("t0"))).where(lines(Sql.column("s", Self.lineColumn)))
                    .where(Sql.any(changed.map(differs))).sql)
            updated += db.changesCount
        }
        return (updated, counts.map { (entity.field(named: $0.field)?.relationName ?? $0.field, $0.count) })
    }

    /// The rejected rows, as they were, each with an `error` column: fixed, the file imports again.
    /// Written to a temporary file that takes its name only when the import is kept.
    func writeRejects(
        to path: Located<String>, header: [String], separator: UInt8
    ) throws -> (file: OutputFile, path: Located<String>, overwrite: Bool) {
        let overwrite = statement.hasOption("force")
        let out: OutputFile
        do {
            out = try OutputFile(path: path.value, kind: .rejects, overwrite: overwrite, protected: engine.protectedFiles)
        } catch {
            throw error.diagnostic(path, outcome: "nothing was imported", example: "rejects.csv")
        }
        // People open it in a spreadsheet: cells that would run as formulas are neutralised as
        // export neutralises them (import takes the apostrophe off again).
        func line(_ fields: [String]) -> String {
            fields.map { field in
                let cell = CSVWriter.startsFormula(field.utf8.first) ? "'" + field : field
                return ValueFormatter.csvField(cell, separator: separator)
            }.joined(separator: String(UnicodeScalar(separator))) + "\n"
        }
        do {
            out.write(line(header + ["error"]))
            let again = try CSVFileReader(path: file, separator: separator)
            _ = try again.next()
            while let record = try again.next() {
                guard var reason = problems.reasons[record.line] else { continue }
                // The error stays in its column: a short row is padded, a long row's extra cells
                // are named in the error instead of pushing it right.
                var cells = record.fields
                if cells.count < header.count {
                    cells += Array(repeating: "", count: header.count - cells.count)
                } else if cells.count > header.count {
                    reason += " (the extra cells: " + cells[header.count...].map(ChangeRecorder.quoted).joined(separator: ", ") + ")"
                    cells.removeLast(cells.count - header.count)
                }
                out.write(line(cells + [reason]))
            }
        } catch {
            out.abandon()
            throw error
        }
        return (out, path, overwrite)
    }
}
