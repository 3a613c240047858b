import RoloSyntax

/// Rolo input to run: a script file, piped input, a `-c` command or a line typed at the prompt.
///
/// Making one checks the whole text for syntax in one pass, keeping only what running needs to
/// know beforehand (how many statements, whether any manages transactions itself); `ScriptRunner`
/// then parses the statements again one at a time as it runs them, so memory does not grow with
/// the script. Errors point into `source`, at line and column, and name `file` when there is one.
public struct Script: Sendable {
    /// The text as UTF-8, held once however long the script.
    public let bytes: [UInt8]
    /// The text (made when asked: errors show their line from it).
    public var source: String { String(decoding: bytes, as: UTF8.self) }
    /// The file the text came from (`<stdin>` for piped input), or nil for `-c` and the prompt.
    public let file: String?
    public let statementCount: Int
    /// Some statement is `begin`, `commit` or `rollback`: the script is not wrapped in one.
    public let managesTransactions: Bool

    /// Checks `source`: throws its first syntax error (marked unfinished where more lines would
    /// complete it, for the prompt's continuation).
    public init(_ source: String, file: String?) throws(Diagnostic) {
        try self.init(utf8: Array(source.utf8), file: file)
    }

    /// A script from a file's bytes: held as they are when they are UTF-8 (no second copy of a
    /// long script), or as text with U+FFFD for what is not, as a `String` would be.
    public init(bytes: [UInt8], file: String?) throws(Diagnostic) {
        var bytes = bytes
        // A UTF-8 byte-order mark, as some editors write, is not part of the script.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        let invalid = transcode(bytes.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true, into: { _ in })
        try self.init(utf8: invalid ? Array(String(decoding: bytes, as: UTF8.self).utf8) : bytes, file: file)
    }

    private init(utf8 bytes: [UInt8], file: String?) throws(Diagnostic) {
        try Lexer.check(bytes: bytes)
        var statements = Parser.Statements(bytes: bytes, grammar: CommandRegistry.grammar)
        var count = 0
        var manages = false
        while let statement = try statements.next() {
            count += 1
            if !manages, statement.unit.managesTransaction { manages = true }
        }
        self.bytes = bytes
        self.file = file
        self.statementCount = count
        self.managesTransactions = manages
    }

    /// The statements, parsed as they are asked for.
    func statements() -> Parser.Statements { Parser.Statements(bytes: bytes, grammar: CommandRegistry.grammar) }
}
