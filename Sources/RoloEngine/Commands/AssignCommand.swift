import RoloStore
import RoloSyntax

/// `assign`: give records to a user.
///
///     assign := 'assign' entity (key | 'where' condition) 'to' value
struct AssignCommand: Command {
    var entity: EntityName
    var selector: RecordSelector
    var user: Expression

    static let name = "assign"
    static let forms = [
        form("assign") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            let selector = try parser.parseSelector(allowAll: false)
            guard parser.acceptWord("to") else {
                throw parser.failure(expected: "'to' and a user, e.g. assign deals where owner = bob to carol")
            }
            return AssignCommand(entity: entity, selector: selector, user: try parser.parseValue())
        }
    ]
    static let synopsis = "assign ENTITY NUMBER|where CONDITION to USER"
    static let summary = "Give records to a user (the owner; for tasks and tickets the assignee)."
    static let examples = ["assign deals where owner = bob to carol"]
    static let actions: [PermissionAction] = [.assign]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).assign(entityName: entity, selector: selector, to: user)
        }
    }
}
