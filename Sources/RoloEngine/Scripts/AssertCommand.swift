import GRDB
import RoloStore
import RoloSyntax

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
        guard case .symbol(let symbol) = parser.current.kind, let op = ComparisonOperator(symbol) else {
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
        let (holds, leftText, rightText) = try engine.store.inDatabase { db in try evaluate(engine, db) }
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
        let binder = engine.binder(db, scope: engine.access.queryScope(entity))
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
