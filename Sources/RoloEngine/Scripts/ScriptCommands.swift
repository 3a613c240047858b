import GRDB
import RoloStore
import RoloSyntax

// The script language's own statements: `param`, `let`, `assert`, `echo`. `include` and `run`
// (in ScriptFiles.swift) are run by the `ScriptRunner`, which holds the files.

/// One parameter a script declares: `old`, `limit = 500 "at most this many"`.
public struct ParameterDeclaration: Sendable, Equatable {
    public let name: Located<String>
    /// The default, as written (text read as its place expects, like a value given on the command line).
    public let defaultValue: String?
    public let description: String?
}

/// `param`: a value the script is run with.
///
///     param := 'param' declaration { ',' declaration }
///     declaration := NAME [ '=' literal ] [ STRING ]
struct ParamCommand: Command {
    var declarations: [ParameterDeclaration]

    static let name = "param"
    static let forms = [
        form("param") { parser, _ throws(Diagnostic) in
            var declarations: [ParameterDeclaration] = []
            repeat {
                guard case .word(let word) = parser.current.kind else {
                    throw parser.failure(expected: "a parameter's name, e.g. param region = \"EMEA\" \"the sales region\"")
                }
                let name = Located(word, parser.advance().range)
                var value: String? = nil
                if parser.acceptSymbol(.equal) { value = try parser.parseLiteralText(what: "a default value for '\(word)'") }
                var description: String? = nil
                if case .string(let text) = parser.current.kind {
                    description = text
                    _ = parser.advance()
                }
                declarations.append(ParameterDeclaration(name: name, defaultValue: value, description: description))
            } while parser.acceptSymbol(.comma)
            return ParamCommand(declarations: declarations)
        }
    ]
    static let synopsis = "param NAME [= DEFAULT] [\"DESCRIPTION\"], …"
    static let summary =
        "Declare a script's parameter: given as NAME=VALUE when the script is run (a missing one is an error, unless it has a default); used as $NAME."
    static let examples: [String] = []
    var isAudited: Bool { false }

    /// Checked before the script runs (`ScriptRunner`); here, typed at the prompt or reached in an
    /// included file, a parameter with no value takes its default or is an error that names it.
    func run(_ context: CommandContext) throws -> CommandResult {
        for declaration in declarations where context.session.parameters[declaration.name.value] == nil {
            guard let value = declaration.defaultValue else { throw Script.missing(declaration) }
            context.session.parameters[declaration.name.value] = .text(value)
        }
        return CommandResult()
    }
}

/// A query that yields one value: `count …`, `sum|avg|min|max ….FIELD …`, `find … limit 1`.
enum ScalarQuery: Sendable, Equatable {
    case aggregate(AggregateQuery)
    case find(FindQuery)

    var range: SourceRange {
        switch self {
        case .aggregate(let query): return query.entity.range
        case .find(let query): return query.entity.range
        }
    }

    /// The query's SQL, one row of one value, and that value's type.
    func compile(_ engine: Engine, _ db: Database) throws -> (sql: SQLFragment, type: FieldType?) {
        switch self {
        case .aggregate(let query):
            let compiled = try AggregateRunner(engine: engine, db: db).compile(query)
            return (compiled.sql, compiled.columns.last?.type)
        case .find(var query):
            let entity = try Catalog.entity(query.entity)
            // Without a field: the record's number, as `update … where id = $c` takes it.
            if query.fields.isEmpty {
                query.fields = [Expression(.path([Located("id", query.entity.range)]), query.entity.range)]
                query.fieldLabels = ["id"]
            }
            // A related record (`account`) is kept by its number, as `where account = $a` compares it.
            var type: FieldType? = query.fields[0].bareWord == "id" ? .reference(entity.name) : nil
            if case .path(let parts) = query.fields[0].kind, case .reference(let target) = try engine.access.queryScope(entity).resolve(parts).type {
                query.fields[0] = Expression(.path(parts + [Located("id", query.fields[0].range)]), query.fields[0].range)
                type = .reference(target)
            }
            let compiled = try FindRunner(engine: engine, db: db).compile(query)
            return (compiled.sql, type ?? compiled.columns.first?.type)
        }
    }

    /// Runs it: its value (null when nothing matched) and type.
    func value(_ engine: Engine) throws -> (value: DatabaseValue, type: FieldType?) {
        try engine.store.inDatabase { db in
            let (sql, type) = try compile(engine, db)
            return (try DatabaseValue.fetchOne(db, sql) ?? .null, type)
        }
    }
}

extension Parser {
    /// A literal as text: a string, a number (with its sign), an amount, a date or a bare word.
    mutating func parseLiteralText(what: String) throws(Diagnostic) -> String {
        let negative = acceptSymbol(.minus)
        switch current.kind {
        case .string(let text) where !negative: return (advance(), text).1
        case .word(let word) where !negative: return (advance(), word).1
        case .number, .money, .date:
            let token = advance()
            return (negative ? "-" : "") + text(of: token.range)
        default:
            throw failure(expected: what)
        }
    }

    /// A query of one value; after `let NAME =` (to the end) or in an assertion (up to a comparison).
    mutating func parseScalarQuery(for use: String, stopAtComparison: Bool) throws(Diagnostic) -> ScalarQuery? {
        guard let word = current.word, peek().kind != .symbol(.leftParen) else { return nil }
        let start = current.range
        switch word {
        case "count", "sum", "avg", "min", "max":
            guard let function = AggregateFunction(rawValue: word) else { return nil }
            _ = advance()
            let query = try parseAggregateQuery(function, stopAtComparison: stopAtComparison)
            if let first = query.groupBy.first {
                throw Diagnostic(
                    .invalidAggregate, "\(use) takes one value; `by` makes one per group", at: first.range,
                    help: "drop `by …`, or narrow the \(word) with where")
            }
            if let format = query.format { throw Diagnostic(.usage, "\(use) takes a value, not a format", at: format.range) }
            return .aggregate(query)
        case "find":
            _ = advance()
            let query = try parseFindQuery(stopAtComparison: stopAtComparison)
            guard query.limit?.value == 1, query.offset == nil else {
                throw Diagnostic(
                    .usage, "\(use) takes one value: end the find with limit 1", at: query.limit?.range ?? start.union(previous?.range ?? start),
                    help: "find \(query.entity.value) FIELD where … limit 1 (without a field: the record's number)")
            }
            guard query.fields.count <= 1 else {
                throw Diagnostic(.usage, "\(use) takes one value: name one field, or none for the record's number", at: query.fields[1].range)
            }
            if let format = query.format { throw Diagnostic(.usage, "\(use) takes a value, not a format", at: format.range) }
            return .find(query)
        default:
            return nil
        }
    }
}

/// `let`: a value computed while the script runs, used as `$NAME` after it.
///
///     let := 'let' NAME '=' ( count-query | sum-query | find-query 'limit' '1' )
struct LetCommand: Command {
    var name: Located<String>
    var query: ScalarQuery

    static let name = "let"
    static let forms = [
        form("let") { parser, _ throws(Diagnostic) in
            guard case .word(let word) = parser.current.kind else {
                throw parser.failure(expected: "a name, e.g. let n = count contacts where email is empty")
            }
            let name = Located(word, parser.advance().range)
            guard parser.acceptSymbol(.equal) else { throw parser.failure(expected: "'=' after '\(word)'") }
            guard let query = try parser.parseScalarQuery(for: "let", stopAtComparison: false) else {
                throw parser.failure(
                    expected: "count, sum, avg, min, max or find … limit 1",
                    help: "let n = count contacts where email is empty; let total = sum deals.amount where stage = won")
            }
            return LetCommand(name: name, query: query)
        }
    ]
    static let synopsis = "let NAME = count …|sum …|avg …|min …|max …|find ENTITY [FIELD] … limit 1"
    static let summary = "Compute a value while a script runs and keep it as $NAME (a find without a field keeps the record's number)."
    static let examples = ["let open = count deals where stage not in (won, lost)"]
    static let actions: [PermissionAction] = [.read]

    func run(_ context: CommandContext) throws -> CommandResult {
        let (value, type) = try query.value(context.engine)
        let kept = ScriptValue.typed(value, type)
        context.session.parameters[name.value] = kept
        context.output.line("$\(name.value) = \(kept.display)")
        var result = CommandResult()
        result.rows = 1
        return result
    }
}

/// `echo`: print a line, with `$NAME` values in it.
///
///     echo := 'echo' STRING
struct EchoCommand: Command {
    var text: Located<String>

    static let name = "echo"
    static let forms = [
        form("echo") { parser, _ throws(Diagnostic) in
            guard case .string(let text) = parser.current.kind else {
                throw parser.failure(expected: "text in quotes, e.g. echo \"fixed $n contacts\"")
            }
            return EchoCommand(text: Located(text, parser.advance().range))
        }
    ]
    static let synopsis = "echo \"TEXT with $NAME\""
    static let summary = "Print a line; $NAME (or ${NAME}) shows a parameter's or a let's value, $$ a dollar sign."
    static let examples: [String] = []
    var isAudited: Bool { false }

    func run(_ context: CommandContext) throws -> CommandResult {
        context.output.line(try Self.interpolate(text, parameters: context.session.parameters))
        return CommandResult()
    }

    /// `text` with each `$NAME` and `${NAME}` replaced by its value's display; `$$` is `$`, and a
    /// `$` not followed by a name (`$5,000`) stays as it is.
    static func interpolate(_ text: Located<String>, parameters: [String: ScriptValue]) throws -> String {
        var out = ""
        let characters = Array(text.value)
        var index = 0
        func isNameCharacter(_ c: Character, first: Bool) -> Bool {
            c == "_" || c.isLetter || (!first && c.isNumber)
        }
        while index < characters.count {
            let c = characters[index]
            guard c == "$", index + 1 < characters.count else {
                out.append(c)
                index += 1
                continue
            }
            if characters[index + 1] == "$" {
                out.append("$")
                index += 2
                continue
            }
            var start = index + 1
            let braced = characters[start] == "{"
            if braced { start += 1 }
            var end = start
            while end < characters.count, isNameCharacter(characters[end], first: end == start) { end += 1 }
            if end == start || (braced && (end >= characters.count || characters[end] != "}")) {
                out.append(c)
                index += 1
                continue
            }
            let name = String(characters[start..<end])
            guard let value = parameters[name] else {
                let near = Suggestions.nearest(to: name, in: Array(parameters.keys))
                throw Diagnostic(
                    .unknownParameter, "no value for $\(name)", at: text.range,
                    help: near.map { "did you mean $\($0)?" } ?? "declare it with param \(name), or compute it with let \(name) = …")
            }
            out += value.display
            index = braced ? end + 1 : end
        }
        return out
    }
}
