import RoloStore
import RoloSyntax

/// `users`: Every user with their team, roles and whether active.
///
///     users := 'users'
struct UsersCommand: Command {
    static let name = "users"
    static let forms = [form("users") { _, _ throws(Diagnostic) in UsersCommand() }]
    static let synopsis = "users"
    static let summary = "Every user with their team, roles and whether active."
    static let examples = ["users"]
    static let actions: [PermissionAction] = [.read]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try DirectoryRunner(engine: context.engine, db: db).run(.users, format: context.format, output: context.output)
        }
    }
}
