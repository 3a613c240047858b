import GRDB
import RoloStore
import RoloSyntax

extension ExpressionBinder {
    /// Compiles a condition to a SQL boolean expression with bound arguments.
    func condition(_ condition: Condition) throws -> SQLFragment {
        switch condition.kind {
        case .and, .or:
            // A chain `a and b and c …` is a left-deep tree; it is walked with a loop, not recursion,
            // and written as a balanced tree, so 10,000 terms neither exhaust the stack nor pass
            // SQLite's expression-depth limit.
            let isAnd: Bool
            if case .and = condition.kind { isAnd = true } else { isAnd = false }
            var operands: [Condition] = []
            var pending: [Condition] = [condition]
            while let next = pending.popLast() {
                switch (next.kind, isAnd) {
                case (.and(let a, let b), true), (.or(let a, let b), false):
                    pending.append(b)
                    pending.append(a)
                default:
                    operands.append(next)
                }
            }
            let compiled = try operands.map { try self.condition($0) }
            return Sql.balanced(compiled, isAnd ? .and : .or)
        case .not(let inner):
            // NULL comparisons count as false, so `not` includes records with empty fields.
            return Sql.notTrue(try self.condition(inner))
        case .compare(let left, let op, let right):
            return try compare(left, op, right)
        case .exists(let related, let negated):
            return Sql.group(Sql.compare(try relatedCount(related), negated ? .equal : .greater, Sql.literal(0)))
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
            return negated ? Sql.notTrue(test) : test
        case .inList(let left, let items, let negated):
            let l = try bind(left)
            let (lsql, ltype) = try valueSQL(l, at: left.range)
            var alternatives: [SQLFragment] = []
            var plain: [SQLFragment] = []
            for item in items {
                let r = try bind(item, expecting: ltype)
                switch r {
                case .temporal, .ids:
                    alternatives.append(try comparison(lsql, ltype, .equal, r, at: item.range))
                default:
                    plain.append(try valueSQL(r, at: item.range, for: ltype).0)
                }
            }
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
                    }
                    if !ascii.isEmpty {
                        alternatives.insert(Sql.inIgnoringCase(lsql, ascii), at: 0)
                    }
                } else {
                    alternatives.insert(Sql.in(lsql, plain), at: 0)
                }
            }
            let any = alternatives.count == 1 ? alternatives[0] : Sql.any(alternatives)
            return negated ? Sql.notTrue(any) : any
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
            return negated ? Sql.notTrue(test) : test
        case .between(let value, let low, let high, let negated):
            let v = try bind(value)
            let (vsql, vtype) = try valueSQL(v, at: value.range)
            let lo = try comparison(vsql, vtype, .greaterEqual, try bind(low, expecting: vtype), at: low.range)
            let hi = try comparison(vsql, vtype, .lessEqual, try bind(high, expecting: vtype), at: high.range)
            let both = Sql.all([lo, hi])
            return negated ? Sql.notTrue(both) : both
        case .isEmpty(let value, let negated):
            let v = try bind(value)
            let (sql, type) = try valueSQL(v, at: value.range)
            let empty: SQLFragment
            if let type, type.isTextual {
                empty = Sql.isBlank(sql)
            } else {
                empty = Sql.isNull(sql)
            }
            return negated ? Sql.not(empty) : empty
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
            let test = Sql.all([Sql.not(Sql.isBlank(sql)), negated ? Sql.not(valid) : valid])
            return test
        }
    }

    static func fieldText(_ expression: Expression) -> String {
        if case .path(let parts) = expression.kind { return parts.map(\.value).joined(separator: ".") }
        return "field"
    }

    private func compare(_ left: Expression, _ op: ComparisonOperator, _ right: Expression) throws -> SQLFragment {
        let l = try bind(left)
        if case .null = l {
            throw Diagnostic(.invalidComparison, "compare a field with null using 'is empty'", at: left.range)
        }
        let (lsql, ltype) = try valueSQL(l, at: left.range)
        let r: BoundExpression
        do {
            r = try bind(right, expecting: ltype)
            try checkTypes(ltype, r, at: right.range)
        } catch let diagnostic as Diagnostic where diagnostic.code == .typeMismatch && diagnostic.message.hasPrefix("expected ") {
            // Name the field: "close_date expects a date, got "soon"".
            throw Diagnostic(
                .typeMismatch, Self.fieldText(left) + " expects " + diagnostic.message.dropFirst("expected ".count),
                at: diagnostic.range, help: diagnostic.help)
        }
        // Enums with an order (priority, stage) compare by rank: priority >= high.
        if case .column(let column) = l, case .enumeration = column.type, op != .equal, op != .notEqual,
            case .constant(let value, _) = r, let text = String.fromDatabaseValue(value),
            case .enumeration(let values) = column.type, let rank = values.firstIndex(of: text)
        {
            return Sql.compare(FindRunner.sortKey(column), op.sql, Sql.value(rank))
        }
        return try comparison(lsql, ltype, op, r, at: right.range)
    }

    /// Refuses comparisons that cannot mean anything: a date with text, a number with a date.
    private func checkTypes(_ left: FieldType?, _ right: BoundExpression, at range: SourceRange) throws {
        guard let left, let rightType = right.type else { return }
        let ok: Bool
        switch (left, rightType) {
        case (.date, .date), (.date, .timestamp), (.timestamp, .date), (.timestamp, .timestamp): ok = true
        case (.date, _), (.timestamp, _): ok = false
        case (_, .date), (_, .timestamp): ok = left.isTextual
        case (.integer, .integer), (.integer, .money), (.money, .integer), (.money, .money): ok = true
        case (.integer, _), (.money, _): ok = !rightType.isTextual
        default: ok = true
        }
        if !ok {
            throw Diagnostic(.typeMismatch, "expected \(left.displayName), got \(rightType.displayName)", at: range)
        }
    }

    /// `column op value`, with dates and periods compared by their bounds and != including empties.
    func comparison(
        _ lsql: SQLFragment, _ ltype: FieldType?, _ op: ComparisonOperator, _ right: BoundExpression,
        at range: SourceRange
    ) throws -> SQLFragment {
        if case .null = right {
            switch op {
            case .equal: return Sql.isNull(lsql)
            case .notEqual: return Sql.isNotNull(lsql)
            default: throw Diagnostic(.invalidComparison, "only = and != compare with null", at: range)
            }
        }
        if case .ids(let subquery) = right {
            switch op {
            case .equal: return Sql.in(lsql, subquery)
            case .notEqual: return Sql.any(Sql.isNull(lsql), Sql.notIn(lsql, subquery))
            default: throw Diagnostic(.invalidComparison, "records compare only with = and !=", at: range)
            }
        }
        if case .temporal(let value) = right, let end = value.end {
            let start = Sql.value(value.start)
            let stop = Sql.value(end)
            switch op {
            case .equal: return Sql.all([Sql.compare(lsql, .greaterEqual, start), Sql.compare(lsql, .less, stop)])
            case .notEqual:
                return Sql.any(Sql.isNull(lsql), Sql.compare(lsql, .less, start), Sql.compare(lsql, .greaterEqual, stop))
            case .less: return Sql.compare(lsql, .less, start)
            case .lessEqual: return Sql.compare(lsql, .less, stop)
            case .greater: return Sql.compare(lsql, .greaterEqual, stop)
            case .greaterEqual: return Sql.compare(lsql, .greaterEqual, start)
            }
        }
        let (rsql, _) = try valueSQL(right, at: range, for: ltype)
        // Emails compare without regard to case: ASCII values through the NOCASE index, others
        // folded on both sides (`rolo_fold`), as grouping and ordering fold them.
        if ltype == .email, case .constant(let value, _) = right, let text = String.fromDatabaseValue(value), !TextFolding.isASCII(text),
            op == .equal || op == .notEqual
        {
            let test = Sql.equals(Sql.fold(lsql), Sql.value(TextFolding.fold(text)))
            return op == .equal ? test : Sql.notTrue(test)
        }
        switch (op, ltype == .email) {
        case (.notEqual, true): return Sql.isDistinctIgnoringCase(lsql, rsql)
        case (.notEqual, false): return Sql.isDistinct(lsql, rsql)
        case (_, true): return Sql.caseInsensitive(lsql, op.sql, rsql)
        case (_, false): return Sql.compare(lsql, op.sql, rsql)
        }
    }
}

extension ComparisonOperator {
    /// The comparison in the SQL builder's terms.
    var sql: Sql.Comparison {
        switch self {
        case .equal: return .equal
        case .notEqual: return .notEqual
        case .less: return .less
        case .lessEqual: return .lessEqual
        case .greater: return .greater
        case .greaterEqual: return .greaterEqual
        }
    }
}
