import RoloStore
import RoloSyntax

/// `grant` and `revoke`: give or take a role.
///
///     grant := 'grant' NAME 'to' NAME | 'revoke' NAME 'from' NAME
struct GrantCommand: Command {
    var grants: Bool
    var role: Located<String>
    var user: Located<String>

    static let name = "grant"
    static let forms = [
        form("grant") { parser, _ throws(Diagnostic) in
            let role = try parser.parseName("a role, e.g. grant data_analyst to dana")
            guard parser.acceptWord("to") else { throw parser.failure(expected: "'to' and a user") }
            return GrantCommand(grants: true, role: role, user: try parser.parseName("a user's handle"))
        },
        form("revoke") { parser, _ throws(Diagnostic) in
            let role = try parser.parseName("a role, e.g. revoke sales_rep from bob")
            guard parser.acceptWord("from") else { throw parser.failure(expected: "'from' and a user") }
            return GrantCommand(grants: false, role: role, user: try parser.parseName("a user's handle"))
        },
    ]
    static let synopsis = "grant ROLE to USER [--dry-run] | revoke ROLE from USER"
    static let summary = "Give or take a role; prints the rules gained or lost and the records newly in reach."
    static let examples = ["grant data_analyst to dana --dry-run", "grant data_analyst to dana", "revoke sales_rep from bob --dry-run"]
    static let actions: [PermissionAction] = [.grant]
    static let arguments: [ArgumentHint] = [.roles]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        let result = try engine.performChange(context.statement, output: context.output) { db, recorder in
            let security = SecurityCommands(engine: engine, db: db, recorder: recorder)
            return grants ? try security.grant(role, to: user) : try security.revoke(role, from: user)
        }
        try engine.reloadPolicy()
        return result
    }
}
