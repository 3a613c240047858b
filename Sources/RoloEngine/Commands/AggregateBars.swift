import GRDB
import RoloStore
import RoloSyntax

extension AggregateRunner {
    /// `count|sum|avg|min|max … by … as bars`: the grouped result as a bar chart. It is for
    /// people, like a table, so it needs the read right only, not export.
    func drawBars(_ query: AggregateQuery, output: OutputSink) throws -> CommandResult {
        let range = query.format?.range ?? query.entity.range
        guard !query.groupBy.isEmpty else {
            throw Diagnostic(
                .usage, "as bars draws one bar per group, and this \(query.function.rawValue) has no groups", at: range,
                help: "group it: \(query.function.rawValue) \(query.entity.value)\(query.field == nil ? "" : ".…") by FIELD as bars")
        }
        let compiled = try compile(query)
        if let value = compiled.columns.last, let type = value.type, !type.isNumeric {
            throw Diagnostic(
                .invalidAggregate, "as bars needs numbers; \(value.header) is \(type.displayName)", at: range,
                help: "show it as a table instead")
        }
        var writer: any ResultWriter = BarsWriter(output: output)
        var result = CommandResult()
        result.rows = try stream(try withTieNote(compiled, query), into: &writer, db: db)
        return result
    }
}
