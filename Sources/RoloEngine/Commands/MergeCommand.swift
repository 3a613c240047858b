import RoloStore
import RoloSyntax

/// `merge`: fold a duplicate into the record to keep.
///
///     merge := 'merge' entity key 'into' key
struct MergeCommand: Command {
    var entity: EntityName
    var from: Located<RecordKey>
    var into: Located<RecordKey>

    static let name = "merge"
    static let forms = [
        form("merge") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            let from = try parser.parseKey()
            guard parser.acceptWord("into") else { throw parser.failure(expected: "'into', e.g. merge contact 17 into 12") }
            return MergeCommand(entity: entity, from: from, into: try parser.parseKey())
        }
    ]
    static let synopsis = "merge ENTITY A into B"
    static let summary = "Keep B, fill its empty fields from A, move A's related records to B, delete A."
    static let examples = ["merge contact 17 into 12"]
    static let actions: [PermissionAction] = [.merge]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).merge(entityName: entity, from: from, into: into)
        }
    }
}
