import RoloStore
import RoloSyntax

/// `add task`: a follow-up task.
///
///     add-task := 'add' 'task' STRING { 'on' entity key | 'due' value | 'for' value }
struct AddTaskCommand: Command {
    var title: Located<String>
    var target: RecordReference?
    var due: Expression?
    var assignee: Expression?

    static let name = "add"
    static let forms = [
        form("add") { parser, _ throws(Diagnostic) in
            guard parser.acceptWord("task") else {
                throw parser.failure(expected: "'task', e.g. add task \"Send proposal\" on deal 9")
            }
            guard case .string(let title) = parser.current.kind else { throw parser.failure(expected: "the task's title in quotes") }
            var command = AddTaskCommand(title: Located(title, parser.advance().range))
            while !parser.atStatementEnd {
                if parser.acceptWord("on") {
                    command.target = try parser.parseRecordReference()
                } else if parser.acceptWord("due") {
                    command.due = try parser.parseValue()
                } else if parser.acceptWord("for") {
                    command.assignee = try parser.parseValue()
                } else {
                    throw parser.failure(expected: "'on', 'due' or 'for'")
                }
            }
            return command
        }
    ]
    static let synopsis = "add task \"TITLE\" [on ENTITY KEY] [due DATE] [for USER]"
    static let summary = "Create a follow-up task (for you unless another user is named)."
    static let examples = [#"add task "Send proposal" on deal 9 due in 2 days for alice"#]
    static let actions: [PermissionAction] = [.create, .assign]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).addTask(
                title: title, target: target, due: due, assignee: assignee)
        }
    }
}
