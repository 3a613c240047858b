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
        try context.engine.store.dbQueue.inDatabase { db in
            try ChangesRunner(engine: context.engine, db: db).run(limit: limit, by: by, format: context.format, output: context.output)
        }
    }
}
