import RoloStore
import RoloSyntax

/// `changes`: the latest change sets.
///
///     changes := 'changes' [ NUMBER ]
struct ChangesCommand: Command {
    var limit: Int?

    static let name = "changes"
    static let forms = [
        form("changes") { parser, _ throws(Diagnostic) in
            if case .number(let n) = parser.current.kind {
                _ = parser.advance()
                return ChangesCommand(limit: Int(n))
            }
            return ChangesCommand(limit: nil)
        }
    ]
    static let synopsis = "changes [N]"
    static let summary = "The last N change sets, newest first."
    static let examples = ["changes 5"]
    static let actions: [PermissionAction] = [.read, .export]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.dbQueue.inDatabase { db in
            try ChangesRunner(engine: context.engine, db: db).run(limit: limit, format: context.format, output: context.output)
        }
    }
}
