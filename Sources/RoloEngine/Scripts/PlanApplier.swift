import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// Checks a plan against the database, then writes it.
struct PlanApplier {
    let engine: Engine
    let db: Database
    let recorder: ChangeRecorder
    let file: Located<String>
    /// The plan's record lines, as JSON text (read by the database's JSON functions).
    let lines: [Data.SubSequence]
    let statement: ParsedStatement
    let output: OutputSink

    static let table = "rolo_plan_rows"
    static let valuesTable = "rolo_plan_values"

    /// What the plan does to one field of one entity (one of its rows' kinds).
    struct Kind: Hashable {
        let entity: String
        let op: String
        let field: String
    }

    /// Refuses a plan made on another database, with another schema, or whose script changed.
    static func check(_ header: PlanFile.Header, file: Located<String>, engine: Engine) throws {
        func refused(_ why: String, help: String? = nil) -> Diagnostic {
            Diagnostic(
                .planRefused, "\(file.value) is refused: \(why); nothing was changed", at: file.range,
                help: help ?? "make the plan again: plan \(header.script) to \(file.value)")
        }
        let identity = try engine.store.inDatabase { db in try PlanFile.databaseIdentity(db) }
        guard identity == header.database else {
            throw refused("it was made on another database", help: "apply a plan on the database it was made on")
        }
        guard header.schema == CRMSchema.version else {
            throw refused("it was made with schema version \(header.schema), and the database is at \(CRMSchema.version)")
        }
        if let data = FileManager.default.contents(atPath: header.script), PlanFile.sha256(data) != header.scriptSHA256 {
            throw refused("its script \(header.script) has changed since the plan was made")
        }
    }

    func apply() throws -> ChangeOutcome {
        var changed = 0
        try db.execute(SchemaSQL.dropTemporaryTable(Self.table))
        try db.execute(SchemaSQL.createTemporaryTable(Self.table, key: "seq", columns: ["entity", "record_id", "op", "field", "old", "new", "skip"]))
        defer { for table in [Self.table, Self.valuesTable] { try? db.execute(SchemaSQL.dropTemporaryTable(table)) } }
        // Each record's line read in Swift (`PlanLineReader`) and spread into one row per field,
        // in the order of the file; what the rows hold is known as they are written, so no pass
        // over them is needed to find it.
        let kinds = try load()
        var entities: [String] = []
        for kind in kinds where !entities.contains(kind.entity) { entities.append(kind.entity) }
        try checkRights(entities, kinds)
        let drifted = try drift(entities, kinds)
        let force = statement.hasOption("force")
        if !drifted.isEmpty, !force {
            if statement.hasOption("skip-drifted") {
                // The drifted records are left as they are now; the rest is applied.
                try db.execute(SchemaSQL.createTemporaryIndex(Self.table, column: "record_id", noCase: false))
                for item in drifted {
                    try db.execute(
                        Update(Self.table, set: [("skip", Sql.value(1))]).where(Sql.equals(Sql.name("entity"), Sql.value(item.entity)))
                            .where(Sql.equals(Sql.name("record_id"), Sql.value(item.id))).sql)
                }
            } else {
                // What drifted, on the output; the error says how many.
                output.line("drifted since the plan was made:")
                for item in drifted.prefix(50) { output.line(item.line) }
                if drifted.count > 50 { output.line("  … and \(drifted.count - 50) more") }
                let records = Set(drifted.map { "\($0.entity):\($0.id)" }).count
                throw Diagnostic(
                    .planDrifted,
                    "\(records) of the plan's \(lines.count) records changed since it was made (listed above); nothing was changed",
                    at: file.range,
                    help: "--skip-drifted applies the rest and leaves these as they are; --force overwrites them; or make the plan again")
            }
        }
        // Records the plan creates, first: later changes may point at them.
        var created: [String: [Int64: Int64]] = [:]
        let creations = !kinds.contains(where: { $0.op == "create" }) ? [] : try Row.fetchAll(
            db,
            Select(Select.columns(["entity", "record_id", "field", "new"]), from: Self.table).where(Sql.equals(Sql.name("op"), Sql.value("create")))
                .ordered(by: Sql.name("seq")).sql)
        var pending: (entity: EntityDefinition, id: Int64, values: [(field: String, value: DatabaseValue)])? = nil
        func create() throws {
            guard let record = pending else { return }
            let id = try recorder.insert(record.entity, values: record.values)
            created[record.entity.name, default: [:]][record.id] = id
            changed += 1
            pending = nil
        }
        for row in creations {
            let name: String = try row.decode(atIndex: 0)
            let plannedID: Int64 = try row.decode(atIndex: 1)
            let fieldName: String = try row.decode(atIndex: 2)
            guard let entity = CRMSchema.entity(named: name) else { continue }
            if pending?.entity !== entity || pending?.id != plannedID {
                try create()
                pending = (entity, plannedID, [])
            }
            guard !["id", "created_at", "updated_at"].contains(fieldName) else { continue }
            var value: DatabaseValue = try row.decode(atIndex: 3)
            if case .reference(let target) = entity.field(named: fieldName)?.type, let planned = Int64.fromDatabaseValue(value),
                let now = created[target]?[planned]
            {
                value = now.databaseValue
            }
            pending?.values.append((fieldName, value))
        }
        try create()
        // Values that point at a record the plan created point at the record it now is.
        for (target, ids) in created {
            for (planned, now) in ids where planned != now {
                for entity in CRMSchema.entities {
                    for field in entity.fields where field.type == .reference(target) {
                        try db.execute(
                            Update(Self.table, set: [("new", Sql.value(now))]).where(Sql.equals(Sql.name("entity"), Sql.value(entity.name)))
                                .where(Sql.equals(Sql.name("field"), Sql.value(field.name))).where(Sql.equals(Sql.name("new"), Sql.value(planned)))
                                .where(Sql.equals(Sql.name("op"), Sql.value("update"))).sql)
                    }
                }
            }
        }
        var updated = 0
        for name in entities {
            guard let entity = CRMSchema.entity(named: name) else { continue }
            let fields = kinds.filter { $0.entity == name && $0.op == "update" }.map(\.field)
            var valuesCounted: Int? = nil
            for fieldName in fields where fieldName != "updated_at" {
                guard let field = entity.field(named: fieldName) else { continue }
                // This field's new values keyed by record number: each record's value is one
                // primary-key lookup (a correlated search of the plan's rows was quadratic).
                try db.execute(SchemaSQL.dropTemporaryTable(Self.valuesTable))
                try db.execute(SchemaSQL.createTemporaryTable(Self.valuesTable, key: "id", columns: ["new"]))
                try db.execute(
                    Insert(
                        into: Self.valuesTable, columns: ["id", "new"],
                        select: Select([Sql.name("record_id"), Sql.name("new")], from: Self.table)
                            .where(Sql.equals(Sql.name("entity"), Sql.value(name))).where(Sql.equals(Sql.name("field"), Sql.value(fieldName)))
                            .where(Sql.equals(Sql.name("op"), Sql.value("update"))).where(Sql.equals(Sql.name("skip"), Sql.value(0)))
                    ).replacing().sql)
                if fields.count == 1 { valuesCounted = try Int.fetchOne(db, Select(Sql.countAll, from: Self.valuesTable).sql) ?? 0 }
                let value = Sql.subquery(
                    Select(Sql.column("v", "new"), from: Self.valuesTable, as: "v").where(Sql.equals(Sql.id("v"), Sql.id("t0"))))
                _ = try recorder.update(
                    entity, filter: Sql.in(Sql.id("t0"), Select(Sql.name("id"), from: Self.valuesTable)), set: [(field, value)])
            }
            try db.execute(SchemaSQL.dropTemporaryTable(Self.valuesTable))
            // The records with a field to write: with one field, the rows of its values table (one
            // per record); else counted by the database (a million ids made strings in a set took
            // seconds).
            if let valuesCounted {
                updated += valuesCounted
            } else if !fields.isEmpty {
                updated += try Int.fetchOne(db, planRows(name, op: "update", field: nil).distinctRows().counted) ?? 0
            }
            if kinds.contains(where: { $0.entity == name && $0.op == "delete" }) {
                changed += try recorder.delete(entity, filter: Sql.in(Sql.id("t0"), planRows(name, op: "delete", field: nil)))
            }
        }
        changed += updated
        var outcome = ChangeOutcome(records: changed, verb: .applied, entity: CRMSchema.contacts)
        outcome.noun = ("record", "records")
        if !drifted.isEmpty {
            outcome.report =
                [
                    force
                        ? "overwrote \(drifted.count) drifted \(drifted.count == 1 ? "value" : "values") (--force):"
                        : "left \(Set(drifted.map { "\($0.entity):\($0.id)" }).count) drifted of the plan's records as they are now (--skip-drifted):"
                ]
                + drifted.prefix(50).map(\.line)
        }
        if changed == 0 {
            outcome.nothingNote =
                [
                    lines.isEmpty
                        ? "the plan holds no changes"
                        : drifted.isEmpty
                            ? "every record of the plan already has its planned values"
                            : "the plan's other records already have their planned values"
                ] + outcome.report
        }
        return outcome
    }

    /// Reads every record line into the plan's rows (one a field), checking each kind of change
    /// as it first appears: only the CRM's records, their fields, and three operations.
    /// - Returns: the kinds of change, in the order they first appear.
    private func load() throws -> [Kind] {
        let insert = DirectStatement(
            statement: try db.makeStatement(sql: Insert.prepared(into: Self.table, columns: ["entity", "record_id", "op", "field", "old", "new", "skip"]).sql))
        defer { insert.finish() }
        var kinds: [Kind] = []
        var known = Set<Kind>()
        var last: Kind? = nil
        var line = PlanLineReader.Line()
        let notSkipped = Int64(0).databaseValue
        for text in lines {
            do {
                try text.withUnsafeBytes { try PlanLineReader.read($0, into: &line) }
            } catch {
                throw PlanFile.refused(file, "a record line cannot be read")
            }
            guard let entity = CRMSchema.entity(named: line.entity), entity.kind == .domain else {
                throw PlanFile.refused(file, "it changes \(line.entity), which a plan may not")
            }
            guard !line.fields.isEmpty else { throw PlanFile.refused(file, "\(line.entity) has no field (none)") }
            let entityValue = line.entity.databaseValue
            let id = line.id.databaseValue
            let opValue = line.op.databaseValue
            for (field, old, new) in line.fields {
                let kind = Kind(entity: line.entity, op: line.op, field: field)
                if kind != last {
                    if known.insert(kind).inserted {
                        guard entity.field(named: field) != nil else { throw PlanFile.refused(file, "\(line.entity) has no field \(field)") }
                        guard ["create", "update", "delete"].contains(line.op) else {
                            throw PlanFile.refused(file, "it holds an unknown change '\(line.op)'")
                        }
                        kinds.append(kind)
                    }
                    last = kind
                }
                try insert.bind([entityValue, id, opValue, field.databaseValue, old, new, notSkipped])
                _ = try insert.step()
            }
        }
        return kinds
    }

    /// The plan's record numbers of `entity` with `op` (and `field`), those not skipped.
    private func planRows(_ entity: String, op: String, field: String?) -> Select {
        var select = Select(Sql.name("record_id"), from: Self.table).where(Sql.equals(Sql.name("entity"), Sql.value(entity)))
            .where(Sql.equals(Sql.name("op"), Sql.value(op))).where(Sql.equals(Sql.name("skip"), Sql.value(0)))
        if let field { select = select.where(Sql.equals(Sql.name("field"), Sql.value(field))) }
        return select
    }

    /// The applier's rights: as typing the changes would need them, on every record the plan touches.
    private func checkRights(_ entities: [String], _ kinds: [Kind]) throws {
        let commands = ChangeCommands(engine: engine, db: db, recorder: recorder)
        for name in entities {
            guard let entity = CRMSchema.entity(named: name) else { continue }
            for (op, action) in [("update", PermissionAction.update), ("create", .create), ("delete", .delete)] {
                let fieldNames = kinds.filter { $0.entity == name && $0.op == op }.map(\.field)
                guard !fieldNames.isEmpty else { continue }
                let fields = op == "delete" ? [] : fieldNames.compactMap { entity.field(named: $0) }.filter { !$0.system }.map { ($0, file.range) }
                let (level, rule, _) = try commands.allowedScope(action, entity, fields: fields, at: file.range)
                if op != "create" {
                    try engine.requireAllInScope(
                        entity, filter: Sql.in(Sql.id("t0"), planRows(name, op: op, field: nil)), action: action, scope: level, rule: rule, db: db,
                        at: file.range)
                }
            }
        }
    }

    struct Drift {
        let entity: String
        let id: Int64
        let line: String
    }

    /// Every field the plan changes whose value now is not the value the plan found, and every
    /// record it updates or deletes that is gone: with who changed it last, and when.
    private func drift(_ entities: [String], _ kinds: [Kind]) throws -> [Drift] {
        var found: [Drift] = []
        var listed = Set<String>()
        for name in entities {
            guard let entity = CRMSchema.entity(named: name) else { continue }
            var fields: [String] = []
            for kind in kinds where kind.entity == name && kind.op != "create" && !fields.contains(kind.field) { fields.append(kind.field) }
            for fieldName in fields where fieldName != "updated_at" && entity.field(named: fieldName) != nil {
                // One pass a field: the plan's rows whose record is gone or whose value now is not
                // the value the plan found. Of those, a row already as planned (the plan, or the
                // same change, was applied since: the value is the new one, or the record to
                // delete is gone) has nothing to do; the others drifted.
                let now = Sql.column("t", fieldName)
                let gone = Sql.isNull(Sql.column("t", "id"))
                let isUpdate = Sql.equals(Sql.column("p", "op"), Sql.value("update"))
                let isNew = Sql.not(Sql.group(Sql.isDistinct(now, Sql.column("p", "new"))))
                let applied = Sql.any([
                    Sql.all([isUpdate, Sql.not(gone), isNew]),
                    Sql.all([Sql.equals(Sql.column("p", "op"), Sql.value("delete")), gone]),
                ])
                let query = Select(
                    [Sql.column("p", "seq"), Sql.column("p", "record_id"), Sql.column("p", "old"), now, gone, applied], from: Self.table, as: "p"
                )
                .joining(Sql.leftJoin(name, as: "t", on: Sql.equals(Sql.column("t", "id"), Sql.column("p", "record_id"))))
                .where(Sql.equals(Sql.column("p", "entity"), Sql.value(name))).where(Sql.equals(Sql.column("p", "field"), Sql.value(fieldName)))
                .where(Sql.compare(Sql.column("p", "op"), .notEqual, Sql.value("create")))
                .where(Sql.equals(Sql.column("p", "skip"), Sql.value(0)))
                .where(Sql.any([gone, Sql.isDistinct(now, Sql.column("p", "old")), Sql.all([isUpdate, isNew])]))
                .ordered(by: Sql.column("p", "record_id"))
                for row in try Row.fetchAll(db, query.sql) {
                    if try row.decode(Bool.self, atIndex: 5) {
                        let seq: Int64 = try row.decode(atIndex: 0)
                        let mark = Update(Self.table, set: [("skip", Sql.value(1))]).where(Sql.equals(Sql.name("seq"), Sql.value(seq))).sql
                        try db.cachedStatement(sql: mark.sql).execute(arguments: mark.statementArguments)
                        continue
                    }
                    let id: Int64 = try row.decode(atIndex: 1)
                    let planned: DatabaseValue = try row.decode(atIndex: 2)
                    let current: DatabaseValue = try row.decode(atIndex: 3)
                    let gone: Bool = try row.decode(atIndex: 4)
                    let key = "\(name):\(id)"
                    // A record gone is listed once, not once a field.
                    if gone, listed.contains(key) { continue }
                    listed.insert(key)
                    let who = try lastChange(name, id, fieldName)
                    let label = "\(entity.singular) \(id)"
                    let line =
                        gone
                        ? "  \(label): gone since the plan" + who
                        : "  \(label): \(fieldName) was \(PlanFile.shown(.init(planned))) in the plan, is \(PlanFile.shown(.init(current))) now" + who
                    found.append(Drift(entity: name, id: id, line: line))
                }
            }
        }
        return found
    }

    /// `— changed by bob on 2026-11-22 10:00 (change 5)`, from field history.
    private func lastChange(_ entity: String, _ id: Int64, _ field: String) throws -> String {
        let query = Select(
            [Sql.column("u", "handle"), Sql.column("h", "changed_at"), Sql.column("h", "change_set_id")], from: "field_history", as: "h"
        )
        .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.column("u", "id"), Sql.column("h", "user_id"))))
        .where(Sql.equals(Sql.column("h", "entity"), Sql.value(entity))).where(Sql.equals(Sql.column("h", "record_id"), Sql.value(id)))
        .where(Sql.any([Sql.equals(Sql.column("h", "field"), Sql.value(field)), Sql.equals(Sql.column("h", "field"), Sql.value(HistoryRows.wholeRecord))]))
        .ordered(by: Sql.order(Sql.column("h", "id"), descending: true)).limited(1)
        guard let row = try Row.fetchOne(db, query.sql) else { return " (no change recorded)" }
        let who: String? = try row.decode(atIndex: 0)
        let at: String = try row.decode(atIndex: 1)
        let change: Int64? = try row.decode(atIndex: 2)
        return " — changed by \(who ?? "a removed user") on \(ScriptLibrary.minutes(at))" + (change.map { " (change \($0))" } ?? "")
    }
}
