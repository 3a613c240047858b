import RoloStore
import RoloSyntax

/// `delete`: remove one record or every record matching a condition.
///
///     delete := 'delete' entity (key | 'where' condition)
struct DeleteCommand: Command {
    var entity: EntityName
    var selector: RecordSelector

    static let name = "delete"
    static let forms = [
        form("delete") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            return DeleteCommand(entity: entity, selector: try parser.parseSelector(allowAll: false))
        }
    ]
    static let synopsis = "delete ENTITY NUMBER|where CONDITION"
    static let summary = "Remove records; references to them are cleared through history, so undo restores both."
    static let examples = ["delete leads where status = junk and created_at < 2 years ago"]
    static let actions: [PermissionAction] = [.delete]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).delete(entityName: entity, selector: selector)
        }
    }
}
