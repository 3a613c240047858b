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
        for declaration in declarations where context.engine.parameters[declaration.name.value] == nil {
            guard let value = declaration.defaultValue else { throw Script.missing(declaration) }
            context.engine.parameters[declaration.name.value] = .text(value)
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
            if case .path(let parts) = query.fields[0].kind, case .reference(let target) = try engine.queryScope(entity).resolve(parts).type {
                query.fields[0] = Expression(.path(parts + [Located("id", query.fields[0].range)]), query.fields[0].range)
                type = .reference(target)
            }
            let compiled = try FindRunner(engine: engine, db: db).compile(query)
            return (compiled.sql, type ?? compiled.columns.first?.type)
        }
    }

    /// Runs it: its value (null when nothing matched) and type.
    func value(_ engine: Engine) throws -> (value: DatabaseValue, type: FieldType?) {
        try engine.store.dbQueue.inDatabase { db in
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
        context.engine.parameters[name.value] = kept
        context.output.line("$\(name.value) = \(kept.display)")
        var result = CommandResult()
        result.rows = 1
        return result
    }
}

/// One side of an assertion: a query's value, or a value (`$n`, `500`, `today`).
enum AssertOperand: Sendable, Equatable {
    case query(ScalarQuery)
    case value(Expression)

    var range: SourceRange {
        switch self {
        case .query(let query): return query.range
        case .value(let expression): return expression.range
        }
    }
}

/// `assert`: stop the script, and keep nothing of it, unless a condition holds.
///
///     assert := 'assert' operand compare-op operand [ STRING ]
///     operand := count-query | sum-query | find-query | value
struct AssertCommand: Command {
    var left: AssertOperand
    var op: Located<ComparisonOperator>
    var right: AssertOperand
    var message: String?
    var range: SourceRange

    static let name = "assert"
    static let forms = [
        form("assert") { parser, verb throws(Diagnostic) in try AssertCommand.parse(&parser, verb: verb) }
    ]

    /// The operands, comparison and message after `assert` (or a lesson's `expect`).
    static func parse(_ parser: inout Parser, verb: Token) throws(Diagnostic) -> AssertCommand {
        func operand() throws(Diagnostic) -> AssertOperand {
            if let query = try parser.parseScalarQuery(for: verb.word ?? "assert", stopAtComparison: true) { return .query(query) }
            return .value(try parser.parseValue())
        }
        let left = try operand()
        guard case .symbol(let symbol) = parser.current.kind, let op = ComparisonOperator(rawValue: symbol.rawValue) else {
            throw parser.failure(
                expected: "a comparison (=, !=, <, <=, >, >=)", help: "\(verb.word ?? "assert") count contacts where email is empty = 0")
        }
        let opToken = parser.advance()
        let right = try operand()
        var message: String? = nil
        if case .string(let text) = parser.current.kind {
            message = text
            _ = parser.advance()
        }
        return AssertCommand(
            left: left, op: Located(op, opToken.range), right: right, message: message, range: verb.range.union(right.range))
    }

    static let synopsis = "assert count …|sum …|find … limit 1|VALUE  =|!=|<|<=|>|>=  count …|VALUE [\"MESSAGE\"]"
    static let summary =
        "Check a condition while a script runs: when it does not hold (or is unknown), the script stops with E508 and nothing of it is kept."
    static let examples = ["assert count contacts where email is empty < 100 \"too many contacts without an email\""]
    static let actions: [PermissionAction] = [.read]

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        let (holds, leftText, rightText) = try engine.store.dbQueue.inDatabase { db in try evaluate(engine, db) }
        guard holds == true else {
            let figures = "\(leftText) \(op.value.rawValue) \(rightText)"
            let why = holds == nil ? "cannot be told (\(figures): a side is empty)" : "does not hold: \(figures)"
            throw Diagnostic(
                .assertionFailed, (message.map { "assertion failed: \($0)" } ?? "assertion failed") + " — \(why)", at: range,
                help: "the script stopped here and nothing of it was kept")
        }
        var result = CommandResult()
        result.rows = 1
        return result
    }

    /// Whether it holds (nil: unknown), and each side's value as shown.
    func evaluate(_ engine: Engine, _ db: Database) throws -> (Bool?, String, String) {
        // The values are bound against the queried entity when there is one; a field of it is
        // not a value here (there is no record to read it from).
        let queried: ScalarQuery? =
            if case .query(let q) = left { q } else if case .query(let q) = right { q } else { nil }
        let entity: EntityDefinition =
            switch queried {
            case .aggregate(let query)?: try Catalog.entity(query.entity)
            case .find(let query)?: try Catalog.entity(query.entity)
            case nil: CRMSchema.contacts
            }
        let binder = engine.binder(db, scope: engine.queryScope(entity))
        func side(_ operand: AssertOperand, expecting: FieldType?) throws -> (BoundExpression, FieldType?) {
            switch operand {
            case .query(let query):
                let (sql, type) = try query.compile(engine, db)
                return (.computed(Sql.subquery(sql), type), type)
            case .value(let expression):
                try Self.refuseFields(expression, binder: binder)
                let bound = try binder.bind(expression, expecting: expecting)
                return (bound, bound.type)
            }
        }
        // The side with a type (a query's, or a value's own) tells how the other reads: `500`
        // beside a sum of money is dollars, a word beside a date is a date word.
        let rightFirst: Bool = if case .value = left, case .query = right { true } else { false }
        let (l, r): (BoundExpression, BoundExpression)
        if rightFirst {
            let (bound, type) = try side(right, expecting: nil)
            r = bound
            l = try side(left, expecting: type).0
        } else {
            let (bound, type) = try side(left, expecting: nil)
            l = bound
            r = try side(right, expecting: type).0
        }
        let (lsql, ltype) = try binder.valueSQL(l, at: left.range)
        let test = try binder.comparison(lsql, ltype, op.value, r, at: right.range)
        // The right side as shown (a period such as `this quarter` has no one value: its start).
        let (rsql, rtype) = (try? binder.valueSQL(r, at: right.range, for: ltype)) ?? (Sql.null, nil)
        var select = Select(value: lsql)
        select.columns = [lsql, rsql, test]
        guard let row = try Row.fetchOne(db, select.sql) else { return (nil, "", "") }
        let leftValue: DatabaseValue = try row.decode(atIndex: 0)
        let rightValue: DatabaseValue = try row.decode(atIndex: 1)
        let truth: Int64? = try row.decode(atIndex: 2)
        func shown(_ value: DatabaseValue, _ type: FieldType?) -> String {
            value.isNull ? "(none)" : ValueFormatter.display(value, type)
        }
        return (truth.map { $0 != 0 }, shown(leftValue, ltype), shown(rightValue, rtype ?? ltype))
    }

    /// A field is not a value of an assertion (it has no record): `assert email = "x"` is refused,
    /// pointing at the field.
    private static func refuseFields(_ expression: Expression, binder: ExpressionBinder) throws {
        var pending = [expression]
        while let next = pending.popLast() {
            switch next.kind {
            case .path(let parts):
                // A bare word may be a value (an enum value, a date word, a handle).
                if parts.count == 1 {
                    let bound = try binder.bind(next)
                    if case .column = bound {} else { continue }
                }
                throw Diagnostic(
                    .invalidComparison, "'\(parts.map(\.value).joined(separator: "."))' is a field: an assertion compares figures and values",
                    at: next.range, help: "count or find the records instead, e.g. assert count contacts where email is empty = 0")
            case .related(let related):
                throw Diagnostic(
                    .invalidComparison, "count(…) counts a record's related records: an assertion has no record", at: next.range,
                    help: "assert count \(related.entity.value) where … = N")
            case .binary(_, let a, let b): pending += [a, b]
            case .negate(let inner): pending.append(inner)
            case .call(_, let arguments): pending += arguments
            default: continue
            }
        }
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
        context.output.line(try Self.interpolate(text, parameters: context.engine.parameters))
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
