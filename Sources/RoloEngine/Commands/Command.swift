import RoloStore
import RoloSyntax

/// One command of the language, whole: its words and grammar rule (as a comment and as its
/// parse function), its help (synopsis, summary, examples), the permission actions it needs,
/// what Tab completes after it, and what it does.
///
/// The parsed command *is* the command's value: its parse function returns `Self`, and the
/// engine runs it with `run`. `CommandRegistry.all` lists every command once; the parser's verb
/// dispatch (`CommandRegistry.grammar`), `help`, Tab completion and the engine's dispatch read
/// it, so adding a command is its file, one registry line and its section of docs/language.md.
/// The examples run as tests on the sample company and are compared with their recorded output
/// (Tests/Examples, see HelpExampleTests).
public protocol Command: CommandSyntax, Equatable {
    /// The name `help` lists it under (`help NAME`).
    static var name: String { get }
    /// The words that start it, each with its parse function (see `form`).
    static var forms: [Grammar.Form] { get }
    static var synopsis: String { get }
    static var summary: String { get }
    /// Commands to try on the sample company; each returns rows there.
    static var examples: [String] { get }
    /// Other words that open this command's help (`help task` for `add task`).
    static var helpWords: [String] { get }
    /// The permission actions it needs, for docs and the registry test.
    static var actions: [PermissionAction] { get }
    /// What Tab offers for each argument after the command's words, in order.
    static var arguments: [ArgumentHint] { get }
    /// What Tab offers after one of its forms' words (`drop rule` takes a number, `rules` an
    /// entity); by default `arguments`, whatever the form.
    static func arguments(after words: [String]) -> [ArgumentHint]
    /// Whether it draws `as bars` (grouped counts and sums).
    static var drawsBars: Bool { get }

    /// It changes data, so it runs in a write transaction (refused on a read-only file).
    var changesData: Bool { get }
    /// Whether this statement of it changes data: `changesData`, or an option that writes
    /// (`audit --save`).
    func changesData(with options: [CommandOption]) -> Bool
    /// Recorded in the audit log (everything but help and leaving).
    var isAudited: Bool { get }
    /// `commit` and `rollback`: they write their entry with the transaction's.
    var endsTransaction: Bool { get }
    /// It manages a transaction itself, so a script holding it is not wrapped in one; a change
    /// that does (`reset`) runs its own transaction, not one the engine opens for it.
    var managesTransaction: Bool { get }
    /// A read that streams rows (stopped when the pager is quit).
    var streamsRows: Bool { get }

    func run(_ context: CommandContext) throws -> CommandResult
}

extension Command {
    public static var helpWords: [String] { [] }
    public static var actions: [PermissionAction] { [] }
    public static var arguments: [ArgumentHint] { [] }
    public static func arguments(after words: [String]) -> [ArgumentHint] { arguments }
    public static var drawsBars: Bool { false }
    public var changesData: Bool { false }
    public func changesData(with options: [CommandOption]) -> Bool { changesData }
    public var isAudited: Bool { true }
    public var endsTransaction: Bool { false }
    public var managesTransaction: Bool { false }
    public var streamsRows: Bool { false }

    /// A grammar form: the words that start the command and its parse function.
    static func form(_ words: String..., parse: @escaping @Sendable (inout Parser, Token) throws(Diagnostic) -> Self) -> Grammar.Form {
        Grammar.Form(words: words) { (parser: inout Parser, verb: Token) throws(Diagnostic) -> any CommandSyntax in
            try parse(&parser, verb)
        }
    }

    /// The single word that starts each one-word form: the command's verbs, in order.
    public static var verbs: [String] { forms.filter { $0.words.count == 1 }.map { $0.words[0] } }
}

/// What a command's run gets: the statement as parsed, where output goes, the output format
/// chosen (`--format`, `set format`, or table), and the engine's services — `session`, `access`,
/// `transactions`, `audit` — with the engine itself for running other statements (`as`, scripts)
/// and the change path.
public struct CommandContext {
    let engine: Engine
    let statement: ParsedStatement
    let output: OutputSink
    let format: OutputFormat

    var session: Session { engine.session }
    var access: AccessControl { engine.access }
    var transactions: Transactions { engine.transactions }
    var audit: AuditTrail { engine.audit }
    var store: CRMStore { engine.store }
}

/// What Tab completion offers for an argument.
public enum ArgumentHint: Sendable, Equatable {
    /// Entity names, with their singular forms when `singular` (commands on one record).
    case entities(singular: Bool)
    case roles
    case helpTopics
}

extension ParsedStatement {
    /// Whether this statement changes data (its command's, options included).
    var changesData: Bool { unit.changesData(with: options) }

    /// The command this statement runs (every parsed command is one of the registry's).
    public var unit: any Command {
        guard let unit = command as? any Command else { preconditionFailure("\(type(of: command)) is not a registered command") }
        return unit
    }
}

extension Parser {
    /// Parses `source` with every registered command.
    public static func parse(_ source: String) throws(Diagnostic) -> [Statement] {
        try parse(source, grammar: CommandRegistry.grammar)
    }

    /// Parses exactly one statement with every registered command.
    public static func parseStatement(_ source: String) throws(Diagnostic) -> Statement {
        try parseStatement(source, grammar: CommandRegistry.grammar)
    }

    /// Words that start a command, for "did you mean" and completion.
    public static var commands: [String] { CommandRegistry.grammar.verbs }
}
