import RoloStore
import RoloSyntax

/// `require database "IDENTITY"`: the first line of a merge plan (`dedupe … to FILE`) — the plan
/// runs only on the database it was made for; anywhere else it stops there, before any merge.
/// The identity is derived from the database's own secret (`PlanFile.databaseIdentity`), never
/// the secret itself.
///
///     require-database := 'require' 'database' STRING
struct RequireDatabaseCommand: Command {
    var identity: Located<String>

    static let name = "require database"
    static let forms = [
        form("require", "database") { parser, _ throws(Diagnostic) in
            guard case .string(let text) = parser.current.kind else {
                throw parser.failure(expected: "the database's identity in quotes, as dedupe … to FILE writes it")
            }
            return RequireDatabaseCommand(identity: Located(text, parser.advance().range))
        }
    ]
    static let synopsis = "require database \"IDENTITY\""
    static let summary = "A merge plan's first line: the plan runs only on the database it was made for (whoami prints nothing of it; dedupe … to FILE writes it)."
    static let examples: [String] = []
    static let actions: [PermissionAction] = []

    func run(_ context: CommandContext) throws -> CommandResult {
        let here = try context.store.inDatabase { db in try PlanFile.databaseIdentity(db) }
        guard let here, here == identity.value else {
            throw Diagnostic(
                .planRefused, "this plan was made for another database; nothing was changed", at: identity.range,
                help: "make the plan again on this database: dedupe … to FILE")
        }
        return CommandResult()
    }
}
