import RoloStore
import RoloSyntax

/// `include`: run another script file's statements here, in the same transaction, with the same
/// parameters. The file is read from the including file's folder, and checked (syntax, its own
/// includes, loops) before anything runs.
///
///     include := 'include' (STRING | PATH)
struct IncludeCommand: Command, RunByScriptRunner {
    var path: Located<String>

    static let name = "include"
    static let forms = [
        form("include") { parser, _ throws(Diagnostic) in IncludeCommand(path: try parser.parseFilePath()) }
    ]
    static let synopsis = "include FILE.rolo"
    static let summary = "Run another script file's statements here (read from the including file's folder; a loop is an error)."
    static let examples: [String] = []
    var isAudited: Bool { false }
}

/// `run FILE`: a script file from the prompt, as `rolo --db … FILE` runs it.
///
///     run := 'run' (STRING | PATH) { NAME '=' literal }
struct RunCommand: Command, RunByScriptRunner {
    var path: Located<String>
    var arguments: [(name: Located<String>, value: String)]

    static let name = "run"
    static let forms = [
        form("run") { parser, _ throws(Diagnostic) in
            let path = try parser.parseWordPath(what: "a script file, e.g. run fix-acme.rolo old=\"Acme Inc\"")
            return RunCommand(path: path, arguments: try parser.parseParameterArguments())
        }
    ]
    static let synopsis = "run FILE.rolo [NAME=VALUE …] [--dry-run]"
    static let summary =
        "Run a script file: one transaction (stopped and rolled back at the first error), its parameters given as NAME=VALUE; --dry-run previews it statement by statement and keeps nothing."
    static let examples: [String] = []
    var isAudited: Bool { false }

    static func == (a: RunCommand, b: RunCommand) -> Bool {
        a.path == b.path && a.arguments.map(\.name) == b.arguments.map(\.name) && a.arguments.map(\.value) == b.arguments.map(\.value)
    }

    /// The values given, by name.
    var given: [String: ScriptValue] {
        Dictionary(arguments.map { ($0.name.value, ScriptValue.text($0.value)) }, uniquingKeysWith: { _, last in last })
    }
}

/// A statement the `ScriptRunner` runs itself, because it runs other statements (`include`,
/// `run`). Reached through the engine alone — after `as` or `explain` — it is refused.
protocol RunByScriptRunner: Command {}

extension RunByScriptRunner {
    func run(_ context: CommandContext) throws -> CommandResult {
        throw Diagnostic(
            .usage, "`\(Self.name)` runs a script's statements: it cannot follow `as` or `explain`", at: context.statement.range,
            help: "run it on its own line")
    }
}

extension Parser {
    /// A file name: a string, or a bare path up to the first space (`fix-acme.rolo`, `fixes/acme.rolo`).
    mutating func parseWordPath(what: String) throws(Diagnostic) -> Located<String> {
        if case .string(let s) = current.kind { return Located(s, advance().range) }
        guard !atStatementEnd else { throw failure(expected: what) }
        let first = advance().range
        var last = first
        while !atStatementEnd, current.range.start.offset == last.end.offset { last = advance().range }
        let range = first.union(last)
        return Located(text(of: range), range)
    }

    /// `NAME=VALUE …` after a script to run, up to the end of the command or its options.
    mutating func parseParameterArguments() throws(Diagnostic) -> [(name: Located<String>, value: String)] {
        try parseParameterArguments(until: nil)
    }
}
