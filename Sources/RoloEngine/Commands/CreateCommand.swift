import RoloStore
import RoloSyntax

/// `create`: add a record.
///
///     create := 'create' entity assignment { [','] assignment }
struct CreateCommand: Command {
    var entity: EntityName
    var assignments: [Assignment]

    static let name = "create"
    static let forms = [
        form("create") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            if parser.atStatementEnd {
                throw parser.failure(expected: "field values, e.g. create contact first_name=\"Ana\" last_name=\"Ruiz\"")
            }
            return CreateCommand(entity: entity, assignments: try parser.parseAssignments(separatedByCommaOnly: false))
        }
    ]
    static let synopsis = "create ENTITY FIELD=VALUE …"
    static let summary = "Add a record; the owner defaults to you. Related records by name: account=\"Acme\"."
    static let examples = [#"create contact first_name="Ana" last_name="Ruiz" email="ana@acme.io" account="Acme""#]
    static let actions: [PermissionAction] = [.create, .assign]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder, keepsSpaces: context.statement.hasOption("raw"))
                .create(entityName: entity, assignments: assignments)
        }
    }
}
