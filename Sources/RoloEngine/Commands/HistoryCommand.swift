import GRDB
import RoloStore
import RoloSyntax

/// `history`: every recorded change of one record.
///
///     history := 'history' entity key
struct HistoryCommand: Command {
    var reference: RecordReference

    static let name = "history"
    static let forms = [
        form("history") { parser, _ throws(Diagnostic) in HistoryCommand(reference: try parser.parseRecordReference()) }
    ]
    static let synopsis = "history ENTITY NUMBER|\"NATURAL KEY\""
    static let summary = "Every recorded change of a record: when, who, field, old and new value."
    static let examples = ["history contact 42"]
    static let actions: [PermissionAction] = [.read, .export]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var streamsRows: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.dbQueue.inDatabase { db in
            try HistoryRunner(engine: context.engine, db: db).run(reference, format: context.format, output: context.output)
        }
    }
}

/// `history ENTITY KEY`: every recorded change of a record — when, who, field, old → new.
struct HistoryRunner {
    let engine: Engine
    let db: Database

    func run(_ reference: RecordReference, format: OutputFormat, output: OutputSink) throws -> CommandResult {
        let entity = try Catalog.entity(reference.entity)
        let decision = try engine.require(.read, entity, at: reference.entity.range)
        try engine.requireExport(entity, format: format, at: reference.entity.range)
        var id: Int64
        do {
            id = try RecordLookup.id(of: reference.key, in: entity, db: db, readableBy: engine)
        } catch let diagnostic as Diagnostic where diagnostic.code == .unknownRecord {
            // A deleted record still has its history (for users who read every record: whether a
            // deleted record was in a narrower scope is not known).
            guard engine.readFilter(entity) == nil, case .id(let n) = reference.key.value,
                try Bool.fetchOne(
                    db,
                    Select(Sql.true, from: "field_history").where(Sql.equals(Sql.name("entity"), Sql.value(entity.name)))
                        .where(Sql.equals(Sql.name("record_id"), Sql.value(n))).sql) == true
            else { throw diagnostic }
            id = Int64(n)
        }
        _ = decision
        let hidden = Array(engine.readVisibility(entity).hiddenFields)
        let rows = HistoryRows()
        let h = rows.column
        var query = rows.select(
            [h("changed_at"), Sql.column("u", "handle"), h("change_set_id"), h("op"), rows.field, rows.oldValue, rows.newValue]
        )
        .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.id("u"), h("user_id"))))
        .where(Sql.equals(h("entity"), Sql.value(entity.name))).where(Sql.equals(h("record_id"), Sql.value(id)))
        if !hidden.isEmpty { query = query.where(Sql.notIn(rows.field, hidden.map { Sql.value($0) })) }
        let sql = query.ordered(by: [h("changed_at")] + rows.order).sql
        let columns = [
            ResultColumn("when", .timestamp), ResultColumn("who", .text), ResultColumn("change", .integer),
            ResultColumn("op", .text), ResultColumn("field", .text), ResultColumn("old", .text), ResultColumn("new", .text),
        ]
        if format == .table {
            output.line("history of \(entity.singular) \(id)")
        }
        var writer = ResultWriters.make(format, output: output)
        let note = hidden.isEmpty ? nil : "(changes to \(hidden.sorted().joined(separator: ", ")) hidden)"
        let count = try stream(CompiledQuery(sql: sql, columns: columns, hiddenNote: note), into: &writer, db: db)
        var result = CommandResult()
        result.rows = count
        return result
    }
}
