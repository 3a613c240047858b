import RoloStore
import RoloSyntax

/// `roles`: Every role, how many active users hold it and how many rules it has.
///
///     roles := 'roles'
struct RolesCommand: Command {
    static let name = "roles"
    static let forms = [form("roles") { _, _ throws(Diagnostic) in RolesCommand() }]
    static let synopsis = "roles"
    static let summary = "Every role, how many active users hold it and how many rules it has."
    static let examples = ["roles", "show role sales_rep"]
    static let actions: [PermissionAction] = [.read]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try DirectoryRunner(engine: context.engine, db: db).run(.roles, format: context.format, output: context.output)
        }
    }
}
