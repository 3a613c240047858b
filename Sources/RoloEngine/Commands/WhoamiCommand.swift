import RoloStore
import RoloSyntax

/// `whoami`: The acting user, their team and roles.
///
///     whoami := 'whoami'
struct WhoamiCommand: Command {
    static let name = "whoami"
    static let forms = [form("whoami") { _, _ throws(Diagnostic) in WhoamiCommand() }]
    static let synopsis = "whoami"
    static let summary = "The acting user, their team and roles."
    static let examples = ["whoami"]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try DirectoryRunner(engine: context.engine, db: db).run(.whoami, format: context.format, output: context.output)
        }
    }
}
