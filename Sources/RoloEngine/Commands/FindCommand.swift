import GRDB
import RoloStore
import RoloSyntax

/// `find`: list records.
///
///     find := 'find' entity [ value { ',' value } ] { 'where' condition | 'order' 'by' order { ',' order }
///             | 'limit' NUMBER [ 'offset' NUMBER ] | 'as' ('table'|'csv'|'json') }
struct FindCommand: Command {
    var query: FindQuery

    static let name = "find"
    static let forms = [form("find") { parser, _ throws(Diagnostic) in FindCommand(query: try parser.parseFindQuery()) }]
    static let synopsis =
        "find ENTITY [FIELD|EXPRESSION, …] [where CONDITION] [order by FIELD [asc|desc], …] [limit N [offset M]] [as table|csv|json]"
    static let summary = "List records. Fields follow relations with dots (account.name)."
    static let examples = [
        "find contacts where account.name = \"Acme\" and title contains \"VP\" order by last_name limit 20",
        "find deals where stage in (proposal, negotiation) and close_date <= today + 14 days",
        "find tickets where status != closed and opened_at < 5 hours ago order by priority desc",
        "find contacts first_name, last_name, email where email is empty or updated_at < 1 year ago limit 10",
        "find contacts where company starts with \"Acme\" limit 5 as csv",
        "find deals name, amount * 2, close_date + 30 days where stage = negotiation limit 3",
    ]
    static let actions: [PermissionAction] = [.read, .export]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]
    var streamsRows: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        if query.format?.value == .bars {
            throw Diagnostic(
                .usage, "as bars draws the groups of a count or sum; find lists records", at: query.format?.range,
                help: "try count \(query.entity.value) by FIELD as bars, or find … as table, csv or json")
        }
        // The entity is found once, here (the run's first step, as before): a read of the audit
        // log first writes the open transaction's entries.
        let entity = try Catalog.entity(query.entity)
        if entity === CRMSchema.auditLog { try engine.writeTransactionAudit() }
        return try engine.store.inDatabase { db in
            try FindRunner(engine: engine, db: db).run(
                query, entity: entity, format: query.format?.value ?? context.format, output: context.output, text: context.statement.text)
        }
    }
}

extension Parser {
    /// A find's field list and clauses, after `find`; stops before any of `stopWords` (`to` in
    /// `export … to FILE`).
    mutating func parseFindQuery(stopWords: Set<String> = [], stopAtComparison: Bool = false) throws(Diagnostic) -> FindQuery {
        var query = FindQuery(entity: try parseEntity())
        // An optional field list before the clauses: fields, or expressions (`amount * 2`,
        // `coalesce(phone, "none")`), each headed by its text as written.
        let startsField: Bool
        switch current.kind {
        case .word(let word): startsField = !Parser.clauseWords.contains(word) && !stopWords.contains(word)
        case .string, .number, .money, .date, .variable, .symbol(.leftParen), .symbol(.minus): startsField = true
        default: startsField = false
        }
        if startsField {
            repeat {
                skipNewlines()
                let field = try parseValue()
                query.fields.append(field)
                // As written; an expression running over lines is one line (breaks and indents one space).
                query.fieldLabels.append(
                    text(of: field.range).split(whereSeparator: \.isNewline)
                        .map { String($0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
                        .joined(separator: " "))
            } while acceptSymbol(.comma)
        }
        while !atStatementEnd, !(stopAtComparison && atComparison) {
            guard let word = current.word else { throw failure(expected: "'where', 'order by', 'limit' or 'as'") }
            if stopWords.contains(word) { break }
            guard
                try parseReadClause(
                    word, filter: &query.filter, order: &query.order, limit: &query.limit, offset: &query.offset,
                    allowsOffset: true, format: &query.format)
            else { throw failure(expected: "'where', 'order by', 'limit' or 'as'") }
        }
        return query
    }
}

extension Parser {
    /// The clauses find and the aggregates share, each at most once: `where CONDITION`,
    /// `order by …`, `limit N` (and `offset M` where `allowsOffset`), `as FORMAT`. False when
    /// `word` starts none of them.
    mutating func parseReadClause(
        _ word: String, filter: inout Condition?, order: inout [OrderItem], limit: inout Located<Int>?,
        offset: inout Located<Int>?, allowsOffset: Bool, format: inout Located<OutputFormat>?
    ) throws(Diagnostic) -> Bool {
        switch word {
        case "where":
            filter = try parseWhere(after: filter)
        case "order":
            try rejectRepeat(!order.isEmpty)
            order = try parseOrder()
        case "limit":
            try rejectRepeat(limit != nil)
            _ = advance()
            limit = try parseInteger(what: "a number after 'limit'")
            if allowsOffset, acceptWord("offset") {
                offset = try parseInteger(what: "a number after 'offset'")
            }
        case "as":
            try rejectRepeat(format != nil)
            _ = advance()
            format = try parseFormat()
        default:
            return false
        }
        return true
    }
}

/// A compiled read query: SQL, arguments and the result's columns.
struct CompiledQuery {
    let sql: SQLFragment
    let columns: [ResultColumn]
    /// Fields left out because the user may not read them.
    var hiddenNote: String?
    /// For grouped figures cut by a limit: the groups from the last one shown on, in order, so a
    /// tie the limit cut can be told (`AggregateRunner.tieNote`).
    var tieProbe: SQLFragment? = nil
    /// Its prepared statement, once prepared (see `prepared`).
    private let memo = PreparedMemo()

    /// The query's statement, prepared and cached by GRDB. The memo keeps it weakly: GRDB's cache
    /// owns it and lets it go when it empties (every 500 commands, or on a schema change), and a
    /// query kept by the session (`CompiledQueryCache`) skips the cache's lookup by SQL text.
    func prepared(_ db: Database) throws -> DirectStatement {
        if let statement = memo.statement { return DirectStatement(statement: statement) }
        let statement = try db.cachedStatement(sql: sql.sql)
        memo.statement = statement
        return DirectStatement(statement: statement)
    }

    private final class PreparedMemo {
        weak var statement: GRDB.Statement?
    }
}

/// `find ENTITY [fields] [where …] [order by …] [limit N [offset M]] [as FORMAT]`
struct FindRunner {
    let engine: Engine
    let db: Database

    /// - Parameter text: the statement's text, when its compiled query may be kept for the next
    ///   time the same text runs (`CompiledQueryCache`).
    func run(
        _ query: FindQuery, entity: EntityDefinition, format: OutputFormat, output: OutputSink, text: String? = nil
    ) throws -> CommandResult {
        let compiled = try engine.compiledRead(
            .find, entity: entity, format: format, formatAt: query.format?.range ?? query.entity.range,
            entityAt: query.entity.range, text: text
        ) { extra in try compile(query, extra: extra) }
        var writer = ResultWriters.make(format, output: output)
        let count = try stream(compiled, into: &writer, db: db)
        var result = CommandResult()
        result.rows = count
        return result
    }

    /// Compiles a query; `extra` conditions (on alias t0) and an `order` override serve cards.
    func compile(_ query: FindQuery, extra: [SQLFragment] = [], order orderOverride: [SQLFragment]? = nil) throws -> CompiledQuery {
        let entity = try Catalog.entity(query.entity)
        _ = try engine.access.require(.read, entity, at: query.entity.range)
        let scope = engine.access.queryScope(entity)
        let binder = engine.binder(db, scope: scope)

        var selected: [(sql: SQLFragment, column: ResultColumn)] = []
        var hidden: [String] = []
        if query.fields.isEmpty {
            let hiddenFields = engine.access.readVisibility(entity).hiddenFields
            for name in entity.listFields {
                guard let field = entity.field(named: name) else { continue }
                if hiddenFields.contains(name) {
                    hidden.append(name)
                    continue
                }
                selected.append(try selection(for: field, in: scope, binder: binder))
            }
        } else {
            for (index, expression) in query.fields.enumerated() {
                guard case .path(let parts) = expression.kind else {
                    let label = index < query.fieldLabels.count ? query.fieldLabels[index] : AggregateRunner.text(of: expression)
                    selected.append(try computed(expression, label: label, scope: scope, binder: binder))
                    continue
                }
                let column = try scope.resolve(parts)
                selected.append(display(column, scope: scope))
            }
        }
        var conditions: [SQLFragment] = extra
        if let filter = query.filter { conditions.append(try binder.condition(filter)) }
        var order: [SQLFragment] = orderOverride ?? []
        for item in query.order {
            guard case .path(let parts) = item.field.kind else {
                // order by count(deals): an expression.
                let (sql, _) = try binder.valueSQL(try binder.bind(item.field), at: item.field.range)
                order.append(Sql.order(sql, descending: item.descending))
                continue
            }
            let column = try scope.resolve(parts)
            order.append(Sql.order(Self.sortKey(column), descending: item.descending))
        }
        if let filter = engine.access.readFilter(entity, alias: scope.rootAlias) { conditions.append(filter) }
        if order.isEmpty { order = [Sql.rowIdentity(scope.rootAlias)] }

        var select = Select(selected.map(\.sql), from: entity.name, as: scope.rootAlias).joining(scope.joinSQL)
        select.conditions = conditions
        select.orderBy = order
        if let limit = query.limit { select = select.limited(limit.value, offset: query.offset?.value) }
        let sql = select.sql
        var notes: [String] = []
        if !hidden.isEmpty {
            notes.append(
                "(\(hidden.joined(separator: ", ")) hidden: \(engine.access.actor.handle) may not read \(hidden.count == 1 ? "it" : "them"))")
        }
        if let note = engine.access.hiddenNote(scope.hiddenPaths) { notes.append(note) }
        return CompiledQuery(sql: sql, columns: selected.map(\.column), hiddenNote: notes.isEmpty ? nil : notes.joined(separator: "\n"))
    }

    /// Enums sort in their declared order (low < normal < high < urgent), not alphabetically.
    static func sortKey(_ column: ColumnReference) -> SQLFragment {
        // Case-insensitive fields sort as they compare: folded.
        if column.type == .email { return Sql.fold(SQLFragment(column.sql)) }
        guard case .enumeration(let values) = column.type else { return SQLFragment(column.sql) }
        return Sql.declaredOrder(SQLFragment(column.sql), values)
    }

    private func selection(for field: FieldDefinition, in scope: QueryScope, binder: ExpressionBinder) throws -> (
        sql: SQLFragment, column: ResultColumn
    ) {
        let column = try scope.resolve([Located(field.relationName ?? field.name, SourceRange(.start, .start))])
        return display(column, scope: scope)
    }

    /// An expression in the field list (`amount * 2`, `coalesce(phone, "none")`), headed by its
    /// text. Where a value it reads is hidden from the user the cell shows `(hidden)`, as the
    /// field itself would, rather than what the expression makes of an empty value.
    private func computed(_ expression: Expression, label: String, scope: QueryScope, binder: ExpressionBinder) throws -> (
        sql: SQLFragment, column: ResultColumn
    ) {
        let before = scope.referenced.count
        let bound = try binder.bind(expression)
        let (sql, type) = try binder.valueSQL(bound, at: expression.range)
        let hidden = scope.referenced[before...].compactMap { $0.column.hiddenSQL.map { SQLFragment($0) } }
        guard !hidden.isEmpty else { return (sql, ResultColumn(label, type ?? .text)) }
        let anyHidden = hidden.count == 1 ? hidden[0] : Sql.any(hidden)
        return (Sql.when([(anyHidden, Sql.value(Visibility.hiddenMarker))], else: sql), ResultColumn(label, type ?? .text))
    }

    /// How a column is shown: a relation by its target's title (owner → alice), others as stored.
    private func display(_ column: ColumnReference, scope: QueryScope) -> (sql: SQLFragment, column: ResultColumn) {
        // `owner` shows the owner's handle; `owner_id`, written out, shows the number.
        if !column.path.hasSuffix("_id"), let (alias, target) = scope.joinForTitle(of: column) {
            return (column.display(target.title(alias: alias)), ResultColumn(column.path, .text))
        }
        return (column.display(column.sql), ResultColumn(column.path, column.type, numbersOf: column.numbersOf))
    }
}

/// Runs a compiled query and streams its rows into a writer.
func stream(_ compiled: CompiledQuery, into writer: inout any ResultWriter, db: Database) throws -> Int {
    var columns = compiled.columns
    if !(writer is CSVWriter || writer is JSONWriter || writer is JSONLinesWriter) {
        // Record numbers are never cut: their columns are sized for the table's largest number.
        for index in columns.indices {
            guard let table = columns[index].numbersOf else { continue }
            let largest = try Int64.fetchOne(db, Select(Sql.aggregate(.max, Sql.name("id")), from: table).sql) ?? 0
            columns[index].numberWidth = DisplayWidth.of(ValueFormatter.display(largest.databaseValue, columns[index].type))
        }
    }
    writer.begin(columns)
    // Cached: a script or session repeating a query reuses the prepared statement.
    let statement = try compiled.prepared(db)
    return try statement.withArguments(compiled.sql.arguments) {
        defer { statement.finish() }
        if let csv = writer as? CSVWriter {
            // The export path: bytes straight from SQLite to the output buffer.
            return try csv.streamRows(of: statement)
        }
        let width = compiled.columns.count
        var count = 0
        var values = [DatabaseValue](repeating: .null, count: width)
        while try statement.step() {
            for i in 0..<width { values[i] = statement.value(at: i) }
            writer.row(values)
            count += 1
        }
        writer.end(note: compiled.hiddenNote)
        return count
    }
}
