import RoloStore
import RoloSyntax

/// `teams`: Every team with its manager and size.
///
///     teams := 'teams'
struct TeamsCommand: Command {
    static let name = "teams"
    static let forms = [form("teams") { _, _ throws(Diagnostic) in TeamsCommand() }]
    static let synopsis = "teams"
    static let summary = "Every team with its manager and size."
    static let examples = ["teams"]
    static let actions: [PermissionAction] = [.read]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try DirectoryRunner(engine: context.engine, db: db).run(.teams, format: context.format, output: context.output)
        }
    }
}
