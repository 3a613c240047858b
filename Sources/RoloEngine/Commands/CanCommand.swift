import RoloStore
import RoloSyntax

/// `can`: may a user do something, and which rule decides.
///
///     can := 'can' NAME ACTION entity [ key ]
struct CanCommand: Command {
    var user: Located<String>
    var action: Located<String>
    var entity: EntityName
    var key: Located<RecordKey>?

    static let name = "can"
    static let forms = [
        form("can") { parser, _ throws(Diagnostic) in
            let user = try parser.parseName("a user's handle, e.g. can dana export contacts")
            let action = try parser.parseName("an action")
            let entity = try parser.parseEntity()
            let key = parser.atStatementEnd ? nil : try parser.parseKey()
            return CanCommand(user: user, action: action, entity: entity, key: key)
        }
    ]
    static let synopsis = "can USER ACTION ENTITY [KEY]"
    static let summary =
        "Yes or no, naming the rule that decided; for no, the missing rule and the nearest one that would allow it."
    static let examples = ["can dana export contacts", "can bob update deal 42"]

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.store.inDatabase { db in
            try AccessCommands(engine: context.engine, db: db).can(
                user: user, action: action, entity: entity, key: key, output: context.output)
        }
    }
}
