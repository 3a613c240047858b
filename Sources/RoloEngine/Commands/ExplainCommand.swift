import GRDB
import RoloStore
import RoloSyntax

/// `explain`: the SQL a query compiles to, its values and SQLite's plan.
///
///     explain := 'explain' statement        (a find, count, sum, avg, min or max)
struct ExplainCommand: Command {
    var statement: ParsedStatement

    static let name = "explain"
    static let forms = [
        form("explain") { parser, _ throws(Diagnostic) in
            guard !parser.atStatementEnd else { throw parser.failure(expected: "a query to explain, e.g. explain find contacts") }
            return ExplainCommand(statement: try parser.parseStatement())
        }
    ]
    static let synopsis = "explain QUERY"
    static let summary = "The SQL a query compiles to, its bound values, and SQLite's query plan."
    static let examples = ["explain find contacts where email = \"ana@acme.io\""]
    static let actions: [PermissionAction] = [.read]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try ExplainRunner(engine: context.engine, db: db).run(statement, output: context.output)
        }
    }
}

/// `explain QUERY`: the SQL a read compiles to, its bound values, and SQLite's plan.
struct ExplainRunner {
    let engine: Engine
    let db: Database

    func run(_ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        let compiled: CompiledQuery
        if let find = statement.command as? FindCommand {
            compiled = try FindRunner(engine: engine, db: db).compile(find.query)
        } else if let aggregate = statement.command as? any AggregateQueryCommand {
            compiled = try AggregateRunner(engine: engine, db: db).compile(aggregate.query)
        } else {
            throw Diagnostic(.usage, "explain works on find, count, sum, avg, min and max", at: statement.range)
        }
        output.line("SQL:")
        output.line("  " + compiled.sql.sql)
        if !compiled.sql.arguments.isEmpty {
            output.line("values:")
            for (index, value) in compiled.sql.arguments.enumerated() {
                output.line("  ?\(index + 1) = \(value.description)")
            }
        }
        output.line("plan:")
        let rows = try Row.fetchAll(db, Sql.explainPlan(compiled.sql))
        var depth: [Int: Int] = [0: 0]
        for row in rows {
            let id: Int = try row.decode(forColumn: "id")
            let parent: Int = try row.decode(forColumn: "parent")
            let level = (depth[parent] ?? 0) + 1
            depth[id] = level
            output.line(String(repeating: "  ", count: level) + (try row.decode(String?.self, forColumn: "detail") ?? ""))
        }
        return CommandResult()
    }
}
