import GRDB
import RoloStore
import RoloSyntax

/// `count`: how many records, optionally per group.
///
///     count := 'count' entity { aggregate-clause }
///     aggregate-clause := 'where' condition | 'by' group { ',' group } | 'order' 'by' order { ',' order }
///                       | 'having' condition | 'limit' NUMBER | 'as' ('table'|'csv'|'json'|'bars')
///     group := path | 'count' '(' related ')'
struct CountCommand: Command, AggregateQueryCommand {
    var query: AggregateQuery

    static let name = "count"
    static let forms = [
        form("count") { parser, _ throws(Diagnostic) in CountCommand(query: try parser.parseAggregateQuery(.count)) }
    ]
    static let synopsis = "count ENTITY [by FIELD, …] [where CONDITION] [having CONDITION] [as table|csv|json|bars]"
    static let summary = "Count records, optionally per group (biggest groups first)."
    static let examples = [
        "count contacts", "count leads by source where created_at >= 30 days ago", "count deals by stage, owner",
        "count deals by stage as bars", "count contacts by email having count > 1 limit 5",
    ]
}

/// `sum`, `avg`, `min`, `max`: a field's total, average, smallest or largest value.
///
///     sum := ('sum'|'avg'|'min'|'max') entity '.' (path | '(' value ')') { aggregate-clause }
struct SumCommand: Command, AggregateQueryCommand {
    var query: AggregateQuery

    static let name = "sum"
    static let forms = ["sum", "avg", "min", "max"].map { verb in
        form(verb) { parser, _ throws(Diagnostic) in
            SumCommand(query: try parser.parseAggregateQuery(AggregateFunction(rawValue: verb) ?? .sum))
        }
    }
    static let synopsis =
        "sum|avg|min|max ENTITY.FIELD [by FIELD, …] [where CONDITION] [having CONDITION] [as table|csv|json|bars]"
    static let summary = "Total, average, smallest or largest value of a field, optionally per group."
    static let examples = [
        "sum deals.amount by owner where stage = won and close_date in this quarter",
        "avg deals.amount where stage = won", "max tickets.opened_at",
        "sum deals.amount by stage where stage != lost as bars", "sum deals.amount by stage having sum > $6,500,000",
    ]
}

/// What count and sum share: one aggregate query, run, drawn as bars, or explained.
protocol AggregateQueryCommand: Command {
    var query: AggregateQuery { get }
}

extension AggregateQueryCommand {
    static var actions: [PermissionAction] { [.read, .export] }
    static var arguments: [ArgumentHint] { [.entities(singular: false)] }
    static var drawsBars: Bool { true }
    var streamsRows: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        if (query.format?.value ?? context.format) == .bars {
            if CRMSchema.entity(named: query.entity.value) === CRMSchema.auditLog { try engine.writeTransactionAudit() }
            return try engine.store.inDatabase { db in
                try AggregateRunner(engine: engine, db: db).drawBars(query, output: context.output)
            }
        }
        // The entity is found once, here (the run's first step, as before): a read of the audit
        // log first writes the open transaction's entries.
        let entity = try Catalog.entity(query.entity)
        if entity === CRMSchema.auditLog { try engine.writeTransactionAudit() }
        return try engine.store.inDatabase { db in
            try AggregateRunner(engine: engine, db: db).run(
                query, entity: entity, format: query.format?.value ?? context.format, output: context.output, text: context.statement.text)
        }
    }
}

extension Parser {
    /// An aggregate's field and clauses, after its verb.
    /// - Parameter stopAtComparison: end before a comparison operator (`assert count … = 0`).
    mutating func parseAggregateQuery(_ function: AggregateFunction, stopAtComparison: Bool = false) throws(Diagnostic) -> AggregateQuery {
        var query: AggregateQuery
        if function == .count {
            query = AggregateQuery(function: .count, entity: try parseEntity(), field: nil)
        } else {
            let entity = try parseEntity()
            guard acceptSymbol(.dot) else {
                throw failure(expected: "'.' and a field, e.g. \(function.rawValue) deals.amount")
            }
            // A field, or an expression in brackets: avg tickets.(closed_at - opened_at).
            let field = current.isSymbol(.leftParen) ? try parseValue() : try parsePath()
            query = AggregateQuery(function: function, entity: entity, field: field)
        }
        var havingWord: SourceRange? = nil
        while !atStatementEnd, !(stopAtComparison && atComparison) {
            guard let word = current.word else { throw failure(expected: "'by', 'where', 'having', 'order by', 'limit' or 'as'") }
            if word == "by" {
                try rejectRepeat(!query.groupBy.isEmpty)
                _ = advance()
                repeat {
                    skipNewlines()
                    // A field, or how many related records: count accounts by count(contacts).
                    let isCount = current.word == "count" && peek().isSymbol(.leftParen)
                    query.groupBy.append(isCount ? try parseValue() : try parsePath())
                } while acceptSymbol(.comma)
                continue
            }
            if word == "having" {
                // Which groups to keep, by their figures: having count > 1, having sum > $100,000.
                try rejectRepeat(query.having != nil)
                havingWord = advance().range
                skipNewlines()
                query.having = try parseCondition()
                continue
            }
            var noOffset: Located<Int>? = nil
            guard
                try parseReadClause(
                    word, filter: &query.filter, order: &query.order, limit: &query.limit, offset: &noOffset,
                    allowsOffset: false, format: &query.format)
            else { throw failure(expected: "'by', 'where', 'having', 'order by', 'limit' or 'as'") }
        }
        if let havingWord, query.groupBy.isEmpty {
            let example =
                function == .count
                ? "count \(query.entity.value) by FIELD having count > 1"
                : "\(function.rawValue) \(query.entity.value).\(query.field.map { text(of: $0.range) } ?? "FIELD") by FIELD having \(function.rawValue) > 100"
            throw Diagnostic(
                .invalidAggregate, "having keeps some groups; this \(function.rawValue) has none", at: havingWord,
                help: "add by FIELD, e.g. \(example); to filter records, use where")
        }
        return query
    }
}

/// `count ENTITY [by …] [where …]` and `sum|avg|min|max ENTITY.FIELD [by …] [where …]`.
struct AggregateRunner {
    let engine: Engine
    let db: Database

    /// - Parameter text: the statement's text, when its compiled query may be kept for the next
    ///   time the same text runs (`CompiledQueryCache`).
    func run(
        _ query: AggregateQuery, entity: EntityDefinition, format: OutputFormat, output: OutputSink, text: String? = nil
    ) throws -> CommandResult {
        let compiled = try engine.compiledRead(
            .aggregate, entity: entity, format: format, formatAt: query.format?.range ?? query.entity.range,
            entityAt: query.entity.range, text: text
        ) { extra in try compile(query, extra: extra) }
        var result = CommandResult()
        if query.groupBy.isEmpty && format == .table {
            // A single figure reads best on its own line.
            let statement = try compiled.prepared(db)
            let value = try statement.withArguments(compiled.sql.arguments) { try statement.step() ? statement.value(at: 0) : .null }
            let column = compiled.columns[compiled.columns.count - 1]
            let text = ValueFormatter.display(value, column.type)
            output.line(text.isEmpty ? "(none)" : text)
            result.rows = 1
            return result
        }
        var writer = ResultWriters.make(format, output: output)
        if format == .table { writer = NoneLabels(base: writer, groups: query.groupBy.count) }
        result.rows = try stream(format == .table ? try withTieNote(compiled, query) : compiled, into: &writer, db: db)
        return result
    }

    /// An expression as the user would write it, for a column header.
    static func text(of expression: Expression) -> String {
        switch expression.kind {
        case .path(let parts): return parts.map(\.value).joined(separator: ".")
        case .binary(let op, let left, let right):
            return text(of: left) + " \(op.rawValue) " + text(of: right)
        case .number(let n): return n
        case .related(let related):
            return "count(" + (related.open ? "open " : "") + related.entity.value + (related.filter == nil ? "" : " where …") + ")"
        default: return "…"
        }
    }

    func compile(_ query: AggregateQuery, extra: [SQLFragment] = []) throws -> CompiledQuery {
        let entity = try Catalog.entity(query.entity)
        _ = try engine.access.require(.read, entity, at: query.entity.range)
        let scope = engine.access.queryScope(entity)
        let binder = engine.binder(db, scope: scope)

        var aggregateSQL = Sql.countAll
        var aggregateColumn = ResultColumn("count", .integer)
        if let fieldExpression = query.field {
            // A field (`deals.amount`) or an expression in brackets (`tickets.(closed_at - opened_at)`).
            let value: SQLFragment
            let type: FieldType
            let label: String
            if case .path(let parts) = fieldExpression.kind {
                let column = try scope.resolve(parts)
                (value, type, label) = (SQLFragment(column.sql), column.type, column.path)
            } else {
                let bound = try binder.bind(fieldExpression)
                let (sql, boundType) = try binder.valueSQL(bound, at: fieldExpression.range)
                (value, type, label) = (sql, boundType ?? .integer, Self.text(of: fieldExpression))
            }
            let name = query.function.rawValue
            switch query.function {
            case .sum, .avg:
                guard type.isNumeric else {
                    throw Diagnostic(
                        .invalidAggregate, "\(name) needs a number, money or a length of time; \(label) is \(type.displayName)",
                        at: fieldExpression.range)
                }
                aggregateSQL = query.function == .avg ? Sql.roundedAverage(value) : Sql.aggregate(.total, value)
                if query.function == .sum, type != .money { aggregateSQL = Sql.aggregate(.sum, value) }
            case .min, .max:
                aggregateSQL = Sql.aggregate(query.function == .min ? .min : .max, value)
            case .count:
                break
            }
            aggregateColumn = ResultColumn("\(name)(\(label))", type)
            if query.function == .avg && type == .integer { aggregateColumn = ResultColumn("avg(\(label))", .integer) }
        }

        var groupSelect: [SQLFragment] = []
        var groupKeys: [SQLFragment] = []
        var columns: [ResultColumn] = []
        /// Per group: the path as written and how it sorts (enums in their declared order).
        var groupOrder: [(path: String, sortKey: SQLFragment)] = []
        for expression in query.groupBy {
            guard case .path(let parts) = expression.kind else {
                // An expression (count(contacts)): grouped by its position in the select list.
                let bound = try binder.bind(expression)
                let (sql, type) = try binder.valueSQL(bound, at: expression.range)
                let label = Self.text(of: expression)
                groupSelect.append(sql)
                groupKeys.append(Sql.position(groupSelect.count))
                groupOrder.append((label, Sql.position(groupSelect.count)))
                columns.append(ResultColumn(label, type ?? .integer))
                continue
            }
            let column = try scope.resolve(parts)
            groupOrder.append((column.path, FindRunner.sortKey(column)))
            if column.type == .email {
                // Emails group as they compare, without regard to case: one group per address,
                // shown folded (lower case).
                groupKeys.append(Sql.fold(SQLFragment(column.sql)))
                groupSelect.append(Sql.fold(SQLFragment(column.sql)))
                columns.append(ResultColumn(column.path, column.type))
                continue
            }
            groupKeys.append(SQLFragment(column.sql))
            if !column.path.hasSuffix("_id"), let (alias, target) = scope.joinForTitle(of: column) {
                groupSelect.append(SQLFragment(target.title(alias: alias)))
                columns.append(ResultColumn(column.path, .text))
            } else {
                groupSelect.append(SQLFragment(column.sql))
                columns.append(ResultColumn(column.path, column.type, numbersOf: column.numbersOf))
            }
        }
        columns.append(aggregateColumn)

        var conditions: [SQLFragment] = extra
        if let filter = query.filter {
            do {
                conditions.append(try binder.condition(filter))
            } catch let diagnostic as Diagnostic where diagnostic.code == .unknownField {
                throw Self.figureInWhere(diagnostic, query, entity: entity)
            }
        }
        if let filter = engine.access.readFilter(entity, alias: scope.rootAlias) { conditions.append(filter) }
        var select = Select(groupSelect + [aggregateSQL], from: entity.name, as: scope.rootAlias).joining(scope.joinSQL)
        select.conditions = conditions
        if groupKeys.isEmpty, let clause = query.order.first?.field ?? query.limit.map({ Expression(.null, $0.range) }) {
            throw Diagnostic(
                .invalidAggregate, "order by and limit sort and cut groups; this \(query.function.rawValue) has none", at: clause.range,
                help: "add by FIELD, e.g. count deals by stage order by count desc limit 5")
        }
        if !groupKeys.isEmpty {
            select.groupBy = groupKeys
            if let having = query.having {
                // The groups' figures by name: count (the group's size) and the command's own.
                var figures: [(name: String, sql: SQLFragment, type: FieldType)] = [("count", Sql.countAll, .integer)]
                if query.function != .count {
                    figures.insert((query.function.rawValue, aggregateSQL, aggregateColumn.type ?? .integer), at: 0)
                }
                var havingBinder = binder
                havingBinder.figures = figures
                select.having = [try havingBinder.condition(having)]
            }
            var keys: [SQLFragment] = []
            for item in query.order {
                let written = Self.text(of: item.field)
                if written == "count" || written == query.function.rawValue {
                    keys.append(Sql.order(Sql.position(groupSelect.count + 1), descending: item.descending))
                } else if let group = groupOrder.first(where: { $0.path == written || $0.path == written + "_id" }) {
                    keys.append(Sql.order(group.sortKey, descending: item.descending))
                } else {
                    throw Diagnostic(
                        .invalidAggregate, "'\(written)' is not one of the groups", at: item.field.range,
                        help:
                            "order by a grouped field (\(groupOrder.map(\.path).joined(separator: ", "))) or by \(query.function.rawValue)")
                }
            }
            // By default biggest groups first; ties in key order, so output is stable.
            if keys.isEmpty { keys = [Sql.descending(Sql.position(groupSelect.count + 1))] }
            select.orderBy = keys + (1...groupSelect.count).map(Sql.position)
            var tieProbe: SQLFragment? = nil
            if let limit = query.limit {
                // Sorted by the figure (the default, or order by count/sum… first): the groups from
                // the last one shown on tell whether the limit cut a tie.
                let byFigure = query.order.first.map { ["count", query.function.rawValue].contains(Self.text(of: $0.field)) } ?? true
                if byFigure, limit.value > 0 { tieProbe = select.limited(-1, offset: limit.value - 1).sql }
                select = select.limited(limit.value)
            }
            return CompiledQuery(
                sql: select.sql, columns: columns, hiddenNote: engine.access.hiddenNote(scope.hiddenPaths), tieProbe: tieProbe)
        }
        return CompiledQuery(sql: select.sql, columns: columns, hiddenNote: engine.access.hiddenNote(scope.hiddenPaths))
    }

    /// `where count > 1` names a group's figure where records are picked: the same error, with help
    /// that points to `having` (rather than to a field that happens to be spelled alike, `country`).
    static func figureInWhere(_ diagnostic: Diagnostic, _ query: AggregateQuery, entity: EntityDefinition) -> Diagnostic {
        let function = query.function.rawValue
        guard
            let figure = Set(["count", function]).first(where: {
                diagnostic.message == "unknown field '\($0)' on \(entity.name)"
            })
        else { return diagnostic }
        let command =
            query.function == .count
            ? "count \(query.entity.value) by \(query.groupBy.first.map(text(of:)) ?? "FIELD")"
            : "\(function) \(query.entity.value).\(query.field.map(text(of:)) ?? "FIELD") by \(query.groupBy.first.map(text(of:)) ?? "FIELD")"
        return Diagnostic(
            diagnostic.code, diagnostic.message, at: diagnostic.range,
            help: "\(figure) is a figure of groups: where picks records, having picks groups, e.g. \(command) having \(figure) > 1")
    }

    /// The compiled query with the tie note (if the limit cut a tie) before its other notes; for
    /// tables and bars, which are for people (CSV and JSON carry no notes).
    func withTieNote(_ compiled: CompiledQuery, _ query: AggregateQuery) throws -> CompiledQuery {
        guard let limit = query.limit?.value, let note = try tieNote(compiled, limit: limit) else { return compiled }
        var shown = compiled
        shown.hiddenNote = [note, compiled.hiddenNote].compactMap { $0 }.joined(separator: "\n")
        return shown
    }

    /// `(limit 3 cut a tie: 2 more groups have 41)` when the groups after the limit's last one
    /// have its figure too; nil when the limit cut no tie.
    func tieNote(_ compiled: CompiledQuery, limit: Int) throws -> String? {
        guard let probe = compiled.tieProbe, let column = compiled.columns.last else { return nil }
        let rows = try Row.fetchCursor(db, probe)
        guard let last = try rows.next() else { return nil }
        let figure: DatabaseValue = last[last.count - 1]
        var tied = 0
        while let row = try rows.next(), (row[row.count - 1] as DatabaseValue) == figure { tied += 1 }
        guard tied > 0 else { return nil }
        let shown = ValueFormatter.display(figure, column.type)
        return "(limit \(limit) cut a tie: \(tied) more group\(tied == 1 ? " has" : "s have") \(shown.isEmpty ? "none" : shown))"
    }
}

/// A table of groups names the group of records with no value `(none)`, as bars do; CSV and JSON
/// keep it empty.
struct NoneLabels: ResultWriter {
    var base: any ResultWriter
    /// How many leading columns are groups.
    let groups: Int

    mutating func begin(_ columns: [ResultColumn]) { base.begin(columns) }

    mutating func row(_ values: [DatabaseValue]) {
        var values = values
        for index in 0..<min(groups, values.count) {
            if values[index].isNull || values[index] == "".databaseValue { values[index] = "(none)".databaseValue }
        }
        base.row(values)
    }

    mutating func end(note: String?) { base.end(note: note) }
}
