import RoloStore
import RoloSyntax

/// Defining roles and their rules.
///
///     role := 'create' 'role' NAME [ 'like' NAME ] | 'drop' 'role' NAME
///           | ('allow'|'deny') NAME ACTION entity [ '.' field { ',' field } ] [ 'scope' NAME ]
struct RoleCommand: Command {
    enum Action: Equatable, Sendable {
        case create(name: Located<String>, like: Located<String>?)
        case drop(name: Located<String>)
        /// `allow|deny ROLE ACTION ENTITY[.field,…] [scope own|team|all]`
        case rule(
            effect: Located<String>, role: Located<String>, action: Located<String>, entity: EntityName,
            fields: [Located<String>], scope: Located<String>?)
    }
    var action: Action

    static let name = "role"
    static let forms =
        [
            form("create", "role") { parser, _ throws(Diagnostic) in
                let name = try parser.parseName("the new role's name")
                var like: Located<String>? = nil
                if parser.acceptWord("like") { like = try parser.parseName("the role to copy") }
                return RoleCommand(action: .create(name: name, like: like))
            }
        ]
        + ["allow", "deny"].map { verb in
            form(verb) { parser, verbToken throws(Diagnostic) in
                let effect = Located(verb, verbToken.range)
                let role = try parser.parseName("a role")
                let action = try parser.parseName("an action (" + CRMSchema.permissionActions.joined(separator: ", ") + ")")
                let entity = try parser.parseEntity()
                var fields: [Located<String>] = []
                if parser.acceptSymbol(.dot) {
                    repeat { fields.append(try parser.parseName("a field")) } while parser.acceptSymbol(.comma)
                }
                var scope: Located<String>? = nil
                if parser.acceptWord("scope") { scope = try parser.parseName("own, team or all") }
                return RoleCommand(action: .rule(effect: effect, role: role, action: action, entity: entity, fields: fields, scope: scope))
            }
        }
        + [
            form("drop") { parser, _ throws(Diagnostic) in
                guard parser.acceptWord("role") else {
                    throw parser.failure(expected: "'role' or 'rule', e.g. drop role regional_manager, drop rule 2")
                }
                return RoleCommand(action: .drop(name: try parser.parseName("a role")))
            }
        ]
    static let synopsis =
        "create role NAME [like ROLE] | drop role NAME | allow|deny ROLE ACTION ENTITY[.FIELD,…] [scope own|team|all]"
    static let summary = "Define roles and their rules. Nobody grants what they do not hold."
    static let examples = [
        "create role regional_manager like sales_manager", "allow regional_manager update deals scope team",
        "deny support_rep read deals.amount",
    ]
    static let actions: [PermissionAction] = [.grant]
    static let arguments: [ArgumentHint] = [.roles]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        let changesRules: Bool
        if case .rule = action { changesRules = true } else { changesRules = false }
        return try context.engine.performSecurityChange(context, reloadingPolicy: changesRules) { security in
            switch action {
            case .create(let name, let like): return try security.createRole(name, like: like)
            case .drop(let name): return try security.dropRole(name)
            case .rule(let effect, let role, let action, let entity, let fields, let scope):
                return try security.rule(effect: effect, role: role, action: action, entity: entity, fields: fields, scope: scope)
            }
        }
    }
}
