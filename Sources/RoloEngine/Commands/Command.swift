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
    /// that does (`reset`) runs its own transaction, not one the engine opens for it. A property
    /// of the kind of command: a script's check asks it of every statement by its type alone.
    static var managesTransaction: Bool { get }
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
    public static var managesTransaction: Bool { false }
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
    ///
    /// Its type is looked up in the registry rather than the value cast to the protocol: such a
    /// cast looks the conformance up at run time, some 2,000 instructions, and every statement
    /// needs its command twice (the script's check, the engine).
    public var unit: any Command { unit(commandType) }

    /// `unit`, the command's type known (`commandType`).
    func unit(_ commandType: ObjectIdentifier) -> any Command {
        if let type = CommandRegistry.byType[commandType] { return Self.unit(command, as: type) }
        guard let unit = command as? any Command else { preconditionFailure("\(type(of: command)) is not a registered command") }
        return unit
    }

    /// Whether the command manages a transaction itself (`Command.managesTransaction`), told by
    /// its type in the registry.
    func managesTransaction(_ commandType: ObjectIdentifier) -> Bool {
        (CommandRegistry.byType[commandType] ?? type(of: unit(commandType))).managesTransaction
    }

    /// The identity of the command's type, to tell commands apart without casting.
    var commandType: ObjectIdentifier { ObjectIdentifier(Swift.type(of: command)) }

    /// The command as `C`, when it is one: its type compared before any cast (a cast costs even
    /// when it fails, and most statements are none of the commands asked about).
    func command<C: Command>(as type: C.Type, commandType: ObjectIdentifier? = nil) -> C? {
        (commandType ?? self.commandType) == ObjectIdentifier(type) ? command as? C : nil
    }

    private static func unit<C: Command>(_ command: any CommandSyntax, as type: C.Type) -> any Command { opened(command, as: type) }

    /// `command`, opened to its own type, is a `C`: a cast of a value to its own type.
    private static func opened<Syntax: CommandSyntax, C: Command>(_ command: Syntax, as type: C.Type) -> C { command as! C }
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
