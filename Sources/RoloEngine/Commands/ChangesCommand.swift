import GRDB
import RoloStore
import RoloSyntax

/// `changes`: the latest change sets, or those of one user.
///
///     changes := 'changes' { NUMBER | 'by' NAME }        (each at most once, in either order)
struct ChangesCommand: Command {
    var limit: Int?
    /// Only change sets made by this user or by an admin acting as them, or made by this admin
    /// acting as someone (`as USER …`).
    var by: Located<String>?

    static let name = "changes"
    static let forms = [
        form("changes") { parser, _ throws(Diagnostic) in
            var command = ChangesCommand(limit: nil, by: nil)
            while !parser.atStatementEnd {
                if case .number(let n) = parser.current.kind, command.limit == nil {
                    _ = parser.advance()
                    command.limit = Int(n)
                } else if command.by == nil, parser.acceptWord("by") {
                    command.by = try parser.parseName("a user's handle, e.g. changes by bob")
                } else {
                    throw parser.failure(expected: command.by == nil ? "a number or 'by' and a user" : "a number")
                }
            }
            return command
        }
    ]
    static let synopsis = "changes [N] [by USER]"
    static let summary = "The last N change sets, newest first (by USER: made by USER or as USER)."
    static let examples = ["changes 5"]
    static let actions: [PermissionAction] = [.read, .export]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try ChangesRunner(engine: context.engine, db: db).run(limit: limit, by: by, format: context.format, output: context.output)
        }
    }
}

/// `changes [N]`: recent change sets, newest first.
struct ChangesRunner {
    let engine: Engine
    let db: Database

    func run(limit: Int?, by: Located<String>? = nil, format: OutputFormat, output: OutputSink) throws -> CommandResult {
        try engine.access.requireExport(CRMSchema.changeSets, format: format, at: nil)
        let c = { Sql.column("c", $0) }
        let status = Sql.when(
            [
                (Sql.isNotNull(c("undone_by_id")), Sql.join([Sql.value("undone by "), c("undone_by_id")])),
                (Sql.isNotNull(c("undoes_id")), Sql.join([Sql.value("undoes "), c("undoes_id")])),
            ], else: Sql.value(""))
        var query = Select(
            [Sql.id("c"), c("created_at"), HistoryRows.who(user: "u", impersonator: "i"), c("records"), c("command"), status],
            from: "change_sets", as: "c"
        )
        .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.id("u"), c("user_id"))))
        .joining(Sql.leftJoin("users", as: "i", on: Sql.equals(Sql.id("i"), c("impersonator_id"))))
        if let by {
            query = query.where(HistoryRows.madeBy(try RecordLookup.userID(handle: by.value, at: by.range, db: db), changeSet: "c"))
        }
        if !engine.access.decide(.read, on: "change_sets").isAllowed {
            query = query.where(Sql.equals(c("user_id"), Sql.value(engine.access.actor.id)))
        }
        let sql = query.ordered(by: Sql.descending(Sql.id("c"))).limited(limit ?? 20).sql
        let columns = [
            ResultColumn("change", .integer), ResultColumn("when", .timestamp), ResultColumn("who", .text),
            ResultColumn("records", .integer), ResultColumn("command", .text), ResultColumn("status", .text),
        ]
        var writer = ResultWriters.make(format, output: output)
        var result = CommandResult()
        result.rows = try stream(CompiledQuery(sql: sql, columns: columns, hiddenNote: nil), into: &writer, db: db)
        return result
    }
}
