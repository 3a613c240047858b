import RoloStore
import RoloSyntax

/// `set`: a session setting.
///
///     set := 'set' NAME (WORD | NUMBER | STRING)
struct SetCommand: Command {
    var setting: Located<String>
    var value: Located<String>

    static let name = "set"
    static let forms = [
        form("set") { parser, _ throws(Diagnostic) in
            guard let name = parser.current.word else { throw parser.failure(expected: "a setting name, e.g. set confirm 100") }
            let nameToken = parser.advance()
            let value: String
            switch parser.current.kind {
            case .word(let w): value = w
            case .number(let n): value = n
            case .string(let s): value = s
            default: throw parser.failure(expected: "a value for '\(name)'")
            }
            let valueToken = parser.advance()
            return SetCommand(setting: Located(name, nameToken.range), value: Located(value, valueToken.range))
        }
    ]
    static let synopsis =
        "set confirm N | set format table|csv|json | set pager on|off|\"COMMAND\" | set color auto|on|off | set busy_timeout SECONDS"
    static let summary =
        "Session settings: ask before changes of more than N records; default output format; the pager for output longer than the screen; colours in errors; how long a change waits for another writer (30 s). The shell keeps all but busy_timeout in ~/.config/rolo/config."
    static let examples = ["set confirm 100", "set format table", "set pager \"less -S\"", "set color auto"]

    func run(_ context: CommandContext) throws -> CommandResult {
        context.output.line(try context.engine.session.applySetting(name: setting, value: value))
        return CommandResult()
    }
}

extension ParsedStatement {
    /// The setting a `set` changes (the shell keeps it in the settings file); nil for other commands.
    public var settingName: Located<String>? { (command as? SetCommand)?.setting }
}
