import GRDB
import RoloStore
import RoloSyntax

extension ExpressionBinder {
    /// The most tests one condition may hold once its lists are gathered (a list of values for one
    /// field — `id = 1 or id = 2 or …`, `id in (…)` — is one test). SQLite's time to prepare a
    /// statement grows with the square of the constants in one expression (about 1.7 s at 10,000
    /// tests, 6 s at 20,000): past this, a clear refusal rather than minutes of waiting.
    static let maxTests = 10_000

    /// Compiles a condition to a SQL boolean expression with bound arguments.
    func condition(_ condition: Condition) throws -> SQLFragment {
        var tests = 0
        let sql = try compile(condition, tests: &tests)
        guard tests <= Self.maxTests else { throw Self.tooManyTests(tests, at: condition.range) }
        return sql
    }

    /// The refusal of a condition with more than `maxTests` tests (E512), pointing at all of it.
    static func tooManyTests(_ tests: Int, at range: SourceRange) -> Diagnostic {
        func grouped(_ n: Int) -> String {
            var digits = String(n)
            var index = digits.endIndex
            while digits.distance(from: digits.startIndex, to: index) > 3 {
                index = digits.index(index, offsetBy: -3)
                digits.insert(",", at: index)
            }
            return digits
        }
        return Diagnostic(
            .queryTooLarge, "this condition holds \(grouped(tests)) tests; Rolo takes at most \(grouped(maxTests)) in one condition",
            at: range,
            help:
                "a list of values for one field counts as one test (id in (1, 2, …), or id = 1 or id = 2 or …); split the rest into several commands"
        )
    }

    /// A condition's SQL, counting its tests into `tests`.
    private func compile(_ condition: Condition, tests: inout Int) throws -> SQLFragment {
        switch condition.kind {
        case .and(let terms):
            return try chain(terms, and: true, tests: &tests)
        case .or(let terms):
            return try chain(terms, and: false, tests: &tests)
        case .not(let inner):
            // NULL comparisons count as false, so `not` includes records with empty fields.
            return Sql.notTrue(try compile(inner, tests: &tests))
        default:
            tests += 1
            return try test(condition).sql
        }
    }

    /// `a and b and …` (or `or`): the terms in one bracketed, balanced tree — depth log2(n) in
    /// SQL, under SQLite's expression-depth limit — after gathering the terms that test one value
    /// against constants into one list per value: `id = 1 or id = 2 or …` is `id IN (…)`, and
    /// `id != 1 and id != 2 and …` is `NOT coalesce(id IN (…), 0)`, which SQLite prepares in linear
    /// time where it takes the square of the terms' number for the terms one by one. Written-out
    /// brackets of the same connective join the chain: `(a or b) or c` is `a or b or c`. Terms are
    /// bound in the order written, so the first error is the first in the text.
    private func chain(_ terms: [Condition], and isAnd: Bool, tests: inout Int) throws -> SQLFragment {
        var operands: [Condition] = []
        operands.reserveCapacity(terms.count)
        var pending = Array(terms.reversed())
        while let next = pending.popLast() {
            switch (next.kind, isAnd) {
            case (.and(let inner), true), (.or(let inner), false):
                pending.append(contentsOf: inner.reversed())
            default:
                operands.append(next)
            }
        }
        var parts: [SQLFragment] = []
        parts.reserveCapacity(operands.count)
        // Lists by their value and matching: where in `parts` each stands, and its values so far.
        var lists: [ValueTest.Key: Int] = [:]
        var gathered: [(part: Int, list: ValueTest, terms: Int)] = []
        for operand in operands {
            switch operand.kind {
            case .compare, .inList:
                let compiled = try test(operand)
                // `or` gathers `=` and `in`, `and` gathers `!=` and `not in`.
                guard let list = compiled.values, list.negated == isAnd else {
                    tests += 1
                    parts.append(compiled.sql)
                    continue
                }
                if let index = lists[list.key] {
                    gathered[index].list.values.append(contentsOf: list.values)
                    gathered[index].terms += 1
                } else {
                    tests += 1
                    lists[list.key] = gathered.count
                    gathered.append((parts.count, list, 1))
                    parts.append(compiled.sql)
                }
            default:
                parts.append(try compile(operand, tests: &tests))
            }
        }
        for entry in gathered where entry.terms > 1 {
            parts[entry.part] = entry.list.sql
        }
        return Sql.balanced(parts, isAnd ? .and : .or)
    }

    /// One test (not a chain or a `not`): its SQL, and the constants it compares a value with
    /// where it is such a test.
    private func test(_ condition: Condition) throws -> CompiledTest {
        switch condition.kind {
        case .and, .or, .not:
            return CompiledTest(try self.condition(condition))
        case .compare(let left, let op, let right):
            return try compare(left, op, right)
        case .exists(let related, let negated):
            return CompiledTest(try relatedExist(related, negated: negated))
        case .text(let left, let op, let right, let negated):
            // Folded on both sides (Unicode normalisation, case folding and accents aside,
            // `TextFolding.matchKey`), so matching ignores case and accents in every script; a
            // constant needle is folded once, here.
            let l = try bind(left)
            let (lsql, _) = try valueSQL(l, at: left.range)
            let r = try bind(right, expecting: .text)
            let mode: TextFolding.MatchMode
            switch op {
            case .contains: mode = .contains
            case .startsWith: mode = .startsWith
            case .endsWith: mode = .endsWith
            }
            let needle: SQLFragment
            if case .constant(let value, _) = r, let text = String.fromDatabaseValue(value) {
                needle = SQLFragment.value(TextFolding.matchKey(text))
            } else {
                needle = Sql.matchKey((try valueSQL(r, at: right.range)).0)
            }
            let test = Sql.match(lsql, needle, mode: Sql.value(mode.rawValue))
            return CompiledTest(negated ? Sql.notTrue(test) : test)
        case .inList(let left, let items, let negated):
            let l = try bind(left)
            let (lsql, ltype) = try valueSQL(l, at: left.range)
            var alternatives: [SQLFragment] = []
            var plain: [SQLFragment] = []
            // Whether every item is a constant (not null): then the list can join a chain's.
            var constants = true
            for item in items {
                let r = try bind(item, expecting: ltype)
                switch r {
                case .temporal, .ids:
                    alternatives.append(try comparison(lsql, ltype, .equal, r, at: item.range))
                default:
                    if case .constant(let value, _) = r, !value.isNull {} else { constants = false }
                    plain.append(try valueSQL(r, at: item.range, for: ltype).0)
                }
            }
            var list: ValueTest? = nil
            if !plain.isEmpty {
                if ltype == .email {
                    // Case-insensitive like `=`: ASCII values by NOCASE, the rest folded.
                    var ascii: [SQLFragment] = []
                    var folded: [SQLFragment] = []
                    for (item, fragment) in zip(items, plain) {
                        if case .constant(let value, _) = try bind(item, expecting: ltype), let text = String.fromDatabaseValue(value),
                            !TextFolding.isASCII(text)
                        {
                            folded.append(SQLFragment.value(TextFolding.fold(text)))
                        } else {
                            ascii.append(fragment)
                        }
                    }
                    if !folded.isEmpty {
                        alternatives.insert(Sql.in(Sql.fold(lsql), folded), at: 0)
                        list = ValueTest(Sql.fold(lsql), ignoringCase: false, negated: negated, values: folded)
                    }
                    if !ascii.isEmpty {
                        alternatives.insert(Sql.inIgnoringCase(lsql, ascii), at: 0)
                        list = ValueTest(lsql, ignoringCase: true, negated: negated, values: ascii)
                    }
                } else {
                    alternatives.insert(Sql.in(lsql, plain), at: 0)
                    list = ValueTest(lsql, ignoringCase: false, negated: negated, values: plain)
                }
            }
            let any = alternatives.count == 1 ? alternatives[0] : Sql.any(alternatives)
            return CompiledTest(negated ? Sql.notTrue(any) : any, values: constants && alternatives.count == 1 ? list : nil)
        case .inPeriod(let left, let right, let negated):
            let l = try bind(left)
            let (lsql, ltype) = try valueSQL(l, at: left.range)
            let r = try bind(right, expecting: ltype)
            guard case .temporal = r else {
                throw Diagnostic(
                    .typeMismatch, "'in' takes a list in parentheses or a period like this quarter", at: right.range,
                    help: "write \(Self.fieldText(left)) in (a, b) or \(Self.fieldText(left)) in last month")
            }
            let test = try comparison(lsql, ltype, .equal, r, at: right.range)
            return CompiledTest(negated ? Sql.notTrue(test) : test)
        case .between(let value, let low, let high, let negated):
            let v = try bind(value)
            let (vsql, vtype) = try valueSQL(v, at: value.range)
            let lo = try comparison(vsql, vtype, .greaterEqual, try bind(low, expecting: vtype), at: low.range)
            let hi = try comparison(vsql, vtype, .lessEqual, try bind(high, expecting: vtype), at: high.range)
            let both = Sql.all([lo, hi])
            return CompiledTest(negated ? Sql.notTrue(both) : both)
        case .isEmpty(let value, let negated):
            let v = try bind(value)
            let (sql, type) = try valueSQL(v, at: value.range)
            let empty: SQLFragment
            if let type, type.isTextual {
                empty = Sql.isBlank(sql)
            } else {
                empty = Sql.isNull(sql)
            }
            return CompiledTest(negated ? Sql.not(empty) : empty)
        case .isValid(let value, let format, let negated):
            let v = try bind(value)
            let (sql, type) = try valueSQL(v, at: value.range)
            guard let type, type.isTextual else {
                throw Diagnostic(
                    .typeMismatch,
                    "'is valid \(format.rawValue)' checks text, and \(Self.fieldText(value)) is \(type?.displayName ?? "not a field")",
                    at: value.range, help: "use it on a text or email field, e.g. email is valid email")
            }
            let valid: SQLFragment
            switch format {
            case .email: valid = AssignmentBinder.validEmailSQL(sql)
            case .phone: valid = Sql.validPhone(sql)
            }
            // An empty value is neither valid nor invalid: it matches neither form of the test.
            return CompiledTest(Sql.all([Sql.not(Sql.isBlank(sql)), negated ? Sql.not(valid) : valid]))
        }
    }
}

/// A compiled test, with the constants it compares one value with where it is such a test.
struct CompiledTest {
    /// The test as it stands alone.
    let sql: SQLFragment
    let values: ValueTest?

    init(_ sql: SQLFragment, values: ValueTest? = nil) {
        self.sql = sql
        self.values = values
    }
}

/// A test of one value against constants — `id = 5`, `id in (1, 2)`, `email != "a@b.io"`,
/// `stage not in (won, lost)` — which a chain gathers with the others on the same value into one
/// list: `value IN (…)`, negated `NOT coalesce(value IN (…), 0)`. The same as the terms one by one:
/// `v = a OR v = b` is `v IN (a, b)` (SQLite defines IN so, with v's affinity and collation), and
/// `v IS NOT a AND v IS NOT b` is true where v is NULL, as the coalesce makes the negated list.
struct ValueTest {
    /// The value tested (`t0."id"`, or `rolo_fold(t0."email")` for emails outside ASCII).
    let subject: SQLFragment
    /// Compared ignoring case (`COLLATE NOCASE`: emails).
    let ignoringCase: Bool
    /// `!=` / `not in`: none of the values.
    let negated: Bool
    var values: [SQLFragment]

    init(_ subject: SQLFragment, ignoringCase: Bool, negated: Bool, values: [SQLFragment]) {
        self.subject = subject
        self.ignoringCase = ignoringCase
        self.negated = negated
        self.values = values
    }

    struct Key: Hashable {
        let subject: String
        let arguments: [DatabaseValue]
        let ignoringCase: Bool
        let negated: Bool
    }

    /// The list's identity: the same value (its SQL and bound values), matched the same way.
    var key: Key {
        Key(subject: subject.sql, arguments: subject.arguments, ignoringCase: ignoringCase, negated: negated)
    }

    /// The gathered test.
    var sql: SQLFragment {
        let any = ignoringCase ? Sql.inIgnoringCase(subject, values) : Sql.in(subject, values)
        return negated ? Sql.notTrue(any) : any
    }
}
