import RoloStore
import RoloSyntax

/// `as` and `login`: act as another user (admins).
///
///     as := 'as' NAME statement | 'login' NAME
struct AsCommand: Command {
    var user: Located<String>
    /// The command to run as `user`; nil for `login`, which switches user for the session.
    var statement: ParsedStatement?

    static let name = "as"
    static let forms = [
        form("as") { parser, _ throws(Diagnostic) in
            let user = try parser.parseName("a user's handle, e.g. as bob find deals")
            guard !parser.atStatementEnd else { throw parser.failure(expected: "a command to run as \(user.value)") }
            return AsCommand(user: user, statement: try parser.parseStatement())
        },
        form("login") { parser, _ throws(Diagnostic) in AsCommand(user: try parser.parseName("a user's handle"), statement: nil) },
    ]
    static let synopsis = "as USER COMMAND | login USER"
    static let summary = "An admin runs one command as someone else (audited with both), or switches user."
    static let examples = ["as bob find deals limit 5"]
    static let actions: [PermissionAction] = [.grant]
    var changesData: Bool { statement?.changesData ?? false }

    func run(_ context: CommandContext) throws -> CommandResult {
        guard let statement else {
            try context.engine.login(user, output: context.output)
            return CommandResult()
        }
        return try context.engine.runAs(user, statement, output: context.output)
    }
}
