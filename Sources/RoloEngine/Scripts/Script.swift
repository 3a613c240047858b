import RoloSyntax

/// Rolo input to run: a script file, piped input, a `-c` command or a line typed at the prompt.
///
/// Making one checks the whole text for syntax in one pass, keeping only what running needs to
/// know beforehand (how many statements, whether any manages transactions itself); `ScriptRunner`
/// then parses the statements again one at a time as it runs them, so memory does not grow with
/// the script. Errors point into `source`, at line and column, and name `file` when there is one.
public struct Script: Sendable {
    public let source: String
    /// The file the text came from (`<stdin>` for piped input), or nil for `-c` and the prompt.
    public let file: String?
    public let statementCount: Int
    /// Some statement is `begin`, `commit` or `rollback`: the script is not wrapped in one.
    public let managesTransactions: Bool

    /// Checks `source`: throws its first syntax error (marked unfinished where more lines would
    /// complete it, for the prompt's continuation).
    public init(_ source: String, file: String?) throws(Diagnostic) {
        try Lexer.check(source)
        var statements = Parser.Statements(source, grammar: CommandRegistry.grammar)
        var count = 0
        var manages = false
        while let statement = try statements.next() {
            count += 1
            if !manages, statement.unit.managesTransaction { manages = true }
        }
        self.source = source
        self.file = file
        self.statementCount = count
        self.managesTransactions = manages
    }

    /// The statements, parsed as they are asked for.
    func statements() -> Parser.Statements { Parser.Statements(source, grammar: CommandRegistry.grammar) }
}
