import GRDB
import RoloStore
import RoloSyntax

/// `history`: every recorded change of one record, or of some of its fields, or by one user.
///
///     history := 'history' entity key { 'where' condition | 'by' NAME }      (each at most once)
///
/// The condition is about the field: `field = NAME`, `field != NAME`, `field [not] in (NAME, …)`,
/// joined with `and`, `or` and brackets.
struct HistoryCommand: Command {
    var reference: RecordReference
    var filter: Condition? = nil
    /// Only changes this user made, as themselves or as someone else, or an admin made as them.
    var by: Located<String>? = nil

    static let name = "history"
    static let forms = [
        form("history") { parser, _ throws(Diagnostic) in
            var command = HistoryCommand(reference: try parser.parseRecordReference())
            while !parser.atStatementEnd {
                if command.filter == nil, parser.acceptWord("where") {
                    parser.skipNewlines()
                    command.filter = try parser.parseCondition()
                } else if command.by == nil, parser.acceptWord("by") {
                    command.by = try parser.parseName("a user's handle, e.g. history contact 42 by bob")
                } else {
                    throw parser.failure(expected: "'where field = NAME' or 'by USER'")
                }
            }
            return command
        }
    ]
    static let synopsis = "history ENTITY NUMBER|\"NATURAL KEY\" [where field = NAME | field in (NAME, …)] [by USER]"
    static let summary = "Every recorded change of a record: when, who, field, old and new value."
    static let examples = ["history contact 42"]
    static let actions: [PermissionAction] = [.read, .export]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var streamsRows: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try HistoryRunner(engine: context.engine, db: db).run(
                reference, filter: filter, by: by, format: context.format, output: context.output)
        }
    }
}

/// `history ENTITY KEY`: every recorded change of a record — when, who, field, old → new.
struct HistoryRunner {
    let engine: Engine
    let db: Database

    func run(
        _ reference: RecordReference, filter: Condition? = nil, by: Located<String>? = nil, format: OutputFormat, output: OutputSink
    ) throws -> CommandResult {
        let entity = try Catalog.entity(reference.entity)
        let decision = try engine.access.require(.read, entity, at: reference.entity.range)
        try engine.access.requireExport(entity, format: format, at: reference.entity.range)
        var id: Int64
        do {
            id = try RecordLookup.id(of: reference.key, in: entity, db: db, readableBy: engine)
        } catch let diagnostic as Diagnostic where diagnostic.code == .unknownRecord {
            // A deleted record still has its history (for users who read every record: whether a
            // deleted record was in a narrower scope is not known).
            guard engine.access.readFilter(entity) == nil, case .id(let n) = reference.key.value,
                try Bool.fetchOne(
                    db,
                    Select(Sql.true, from: "field_history").where(Sql.equals(Sql.name("entity"), Sql.value(entity.name)))
                        .where(Sql.equals(Sql.name("record_id"), Sql.value(n))).sql) == true
            else { throw diagnostic }
            id = Int64(n)
        }
        _ = decision
        let hidden = Array(engine.access.readVisibility(entity).hiddenFields)
        let rows = HistoryRows()
        let h = rows.column
        var query = rows.select(
            [
                h("changed_at"), HistoryRows.who(user: "u", impersonator: "i"), h("change_set_id"), h("op"), rows.field, rows.oldValue,
                rows.newValue,
            ]
        )
        .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.id("u"), h("user_id"))))
        .joining(Sql.leftJoin("change_sets", as: "cs", on: Sql.equals(Sql.id("cs"), h("change_set_id"))))
        .joining(Sql.leftJoin("users", as: "i", on: Sql.equals(Sql.id("i"), Sql.column("cs", "impersonator_id"))))
        .where(Sql.equals(h("entity"), Sql.value(entity.name))).where(Sql.equals(h("record_id"), Sql.value(id)))
        if let filter, filter.testCount > ExpressionBinder.maxTests {
            throw ExpressionBinder.tooManyTests(filter.testCount, at: filter.range)
        }
        if let filter { query = query.where(Sql.group(try fieldCondition(filter, entity: entity, field: rows.field))) }
        if let by {
            let user = try RecordLookup.userID(handle: by.value, at: by.range, db: db)
            query = query.where(Sql.any([Sql.equals(h("user_id"), Sql.value(user)), Sql.equals(Sql.column("cs", "impersonator_id"), Sql.value(user))]))
        }
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

    /// `where` for history: conditions on the field a row is about (`field`).
    private func fieldCondition(_ condition: Condition, entity: EntityDefinition, field: SQLFragment) throws -> SQLFragment {
        func isField(_ expression: Expression) -> Bool { expression.bareWord?.lowercased() == "field" }
        switch condition.kind {
        case .and(let terms):
            return Sql.balanced(try terms.map { try fieldCondition($0, entity: entity, field: field) }, .and)
        case .or(let terms):
            return Sql.balanced(try terms.map { try fieldCondition($0, entity: entity, field: field) }, .or)
        case .compare(let left, let op, let right) where isField(left) && (op == .equal || op == .notEqual):
            return Sql.compare(field, op == .equal ? .equal : .notEqual, Sql.value(try fieldName(right, of: entity)))
        case .inList(let left, let values, let negated) where isField(left):
            let names = try values.map { Sql.value(try fieldName($0, of: entity)) }
            return negated ? Sql.notIn(field, names) : Sql.in(field, names)
        default:
            throw Diagnostic(
                .usage, "history filters by field only", at: condition.range,
                help: "e.g. history \(entity.singular) 42 where field = email, or where field in (email, phone)")
        }
    }

    /// A field named in a history condition (a bare word or a string; a relation by its name), as
    /// history stores it.
    private func fieldName(_ expression: Expression, of entity: EntityDefinition) throws -> String {
        let name: String
        switch expression.kind {
        case .string(let text): name = text
        default:
            guard let word = expression.bareWord else {
                throw Diagnostic(.usage, "expected a field's name", at: expression.range, help: "e.g. where field = email")
            }
            name = word
        }
        if name == "id" { return name }
        guard let field = entity.field(named: name) ?? entity.relation(named: name) else {
            let near = Suggestions.nearest(to: name, in: Catalog.fieldNames(of: entity))
            throw Diagnostic(
                .unknownField, "unknown field '\(name)' on \(entity.name)", at: expression.range,
                help: near.map { "did you mean '\($0)'?" } ?? "\(entity.name) has " + entity.fields.map(\.name).joined(separator: ", "))
        }
        return field.name
    }
}
