import GRDB
import RoloStore
import RoloSyntax

/// `explain QUERY`: the SQL a read compiles to, its bound values, and SQLite's plan.
struct ExplainCommand {
    let engine: Engine
    let db: Database

    func run(_ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        let compiled: CompiledQuery
        switch statement.kind {
        case .find(let query): compiled = try FindCommand(engine: engine, db: db).compile(query)
        case .aggregate(let query): compiled = try AggregateCommand(engine: engine, db: db).compile(query)
        default:
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
            let id: Int = row["id"]
            let parent: Int = row["parent"]
            let level = (depth[parent] ?? 0) + 1
            depth[id] = level
            output.line(String(repeating: "  ", count: level) + (row["detail"] as String? ?? ""))
        }
        return CommandResult()
    }
}
