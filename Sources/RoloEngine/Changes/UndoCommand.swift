import GRDB
import RoloStore
import RoloSyntax

/// `undo`: revert a change set as a new one.
///
///     undo := 'undo' [ 'change' NUMBER ]          (--force past conflicts)
struct UndoCommand: Command {
    var changeSet: Located<Int>?

    static let name = "undo"
    static let forms = [
        form("undo") { parser, _ throws(Diagnostic) in
            if parser.acceptWord("change") {
                return UndoCommand(changeSet: try parser.parseInteger(what: "a change set number, e.g. undo change 57"))
            }
            return UndoCommand(changeSet: nil)
        }
    ]
    static let synopsis = "undo [change N] [--force]"
    static let summary =
        "Revert your last change set, or change set N, as a new change set; refuses on conflicts unless --force."
    static let examples = ["undo"]
    static let actions = ["update", "create", "delete"]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        let statement = context.statement
        return try context.engine.performChange(statement, output: context.output) { db, recorder in
            try UndoRunner(engine: context.engine, db: db, recorder: recorder).run(
                changeSet, force: statement.hasOption("force"), range: statement.range)
        }
    }
}
