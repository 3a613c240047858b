import RoloStore
import RoloSyntax

/// Managing users and teams (admins).
///
///     user := 'create' 'user' NAME { assignment } | 'create' 'team' NAME { assignment }
///           | ('activate'|'deactivate') 'user' NAME | 'move' NAME 'to' [ 'team' ] NAME
struct UserCommand: Command {
    enum Action: Equatable, Sendable {
        case createUser(handle: Located<String>, assignments: [Assignment])
        case createTeam(name: Located<String>, assignments: [Assignment])
        case setActive(handle: Located<String>, active: Bool)
        case move(handle: Located<String>, team: Located<String>)
    }
    var action: Action

    static let name = "user"
    static let forms =
        [
            form("create", "user") { parser, _ throws(Diagnostic) in
                let handle = try parser.parseName("the new user's handle, e.g. create user dana name=\"Dana Lee\"")
                let assignments = parser.atStatementEnd ? [] : try parser.parseAssignments(separatedByCommaOnly: false)
                return UserCommand(action: .createUser(handle: handle, assignments: assignments))
            },
            form("create", "team") { parser, _ throws(Diagnostic) in
                let name = try parser.parseName("the new team's name")
                let assignments = parser.atStatementEnd ? [] : try parser.parseAssignments(separatedByCommaOnly: false)
                return UserCommand(action: .createTeam(name: name, assignments: assignments))
            },
        ]
        + ["deactivate", "activate"].map { verb in
            form(verb) { parser, _ throws(Diagnostic) in
                guard parser.acceptWord("user") else { throw parser.failure(expected: "'user', e.g. \(verb) user bob") }
                return UserCommand(action: .setActive(handle: try parser.parseName("a user's handle"), active: verb == "activate"))
            }
        }
        + [
            form("move") { parser, _ throws(Diagnostic) in
                let user = try parser.parseName("a user's handle")
                guard parser.acceptWord("to") else { throw parser.failure(expected: "'to', e.g. move bob to team \"Sales West\"") }
                _ = parser.acceptWord("team")
                return UserCommand(action: .move(handle: user, team: try parser.parseName("a team")))
            }
        ]
    static let synopsis = "create user HANDLE name=\"…\" [team=T] | deactivate user H | activate user H | move H to team T"
    static let summary = "Manage users (admins)."
    static let examples = [#"create user dana name="Dana Lee" team=analytics"#, #"move dana to team "Sales West""#]
    static let actions: [PermissionAction] = [.grant]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performSecurityChange(context) { security in
            switch action {
            case .createUser(let handle, let assignments): return try security.createUser(handle, assignments)
            case .createTeam(let name, let assignments): return try security.createTeam(name, assignments)
            case .setActive(let handle, let active): return try security.setActive(handle, active: active)
            case .move(let handle, let team): return try security.move(handle, to: team)
            }
        }
    }
}
