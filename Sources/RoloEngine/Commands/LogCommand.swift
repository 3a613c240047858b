import RoloStore
import RoloSyntax

/// `log`: record an interaction against a record.
///
///     log := 'log' ('call'|'email'|'meeting'|'note') 'on' entity key STRING
struct LogCommand: Command {
    var kind: Located<String>
    var target: RecordReference
    var text: Located<String>

    static let name = "log"
    static let forms = [
        form("log") { parser, _ throws(Diagnostic) in
            guard let kind = parser.current.word, ["call", "email", "meeting", "note"].contains(kind) else {
                throw parser.failure(expected: "call, email, meeting or note")
            }
            let kindToken = parser.advance()
            guard parser.acceptWord("on") else { throw parser.failure(expected: "'on', e.g. log call on contact 42 \"text\"") }
            let target = try parser.parseRecordReference()
            guard case .string(let text) = parser.current.kind else { throw parser.failure(expected: "the text in quotes") }
            let textToken = parser.advance()
            return LogCommand(kind: Located(kind, kindToken.range), target: target, text: Located(text, textToken.range))
        }
    ]
    static let synopsis = "log call|email|meeting|note on ENTITY KEY \"TEXT\""
    static let summary = "Record an interaction against a contact, account, lead, deal or ticket."
    static let examples = [#"log call on contact 42 "Discussed renewal; follow up Tuesday""#]
    static let actions: [PermissionAction] = [.create]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).log(kind: kind, target: target, text: text)
        }
    }
}
