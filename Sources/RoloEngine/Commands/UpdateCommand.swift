import RoloStore
import RoloSyntax

/// `update`: change one record or every record matching a condition.
///
///     update := 'update' entity (key | 'where' condition | ε) 'set' assignment { ',' assignment }
struct UpdateCommand: Command {
    var entity: EntityName
    var selector: RecordSelector
    var assignments: [Assignment]

    static let name = "update"
    static let forms = [
        form("update") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            let selector = try parser.parseSelector(allowAll: true)
            guard parser.acceptWord("set") else {
                throw parser.failure(expected: "'set' and the changes, e.g. set email = \"ana@acme.io\"")
            }
            return UpdateCommand(entity: entity, selector: selector, assignments: try parser.parseAssignments(separatedByCommaOnly: true))
        }
    ]
    static let synopsis = "update ENTITY NUMBER|where CONDITION set FIELD = VALUE, …"
    static let summary = "Change one record or many; prints each record's fields old → new. --dry-run previews."
    static let examples = [
        #"update contact 42 set email = "ana.ruiz@acme.io""#,
        #"update contacts where company = "Acme Inc" set company = "Acme, Inc." --dry-run"#,
        "update contacts where email is not empty set email = lower(trim(email)) --quiet",
        "update contacts where company != account.name set company = account.name --dry-run --quiet",
    ]
    static let actions: [PermissionAction] = [.update]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(
                engine: context.engine, db: db, recorder: recorder, keepsSpaces: context.statement.hasOption("raw")
            ).update(
                entityName: entity, selector: selector, assignments: assignments, statement: context.statement)
        }
    }
}
