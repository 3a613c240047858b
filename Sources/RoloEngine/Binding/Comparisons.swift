import GRDB
import RoloStore
import RoloSyntax

/// A condition's comparisons (`field op value`): types checked, enums by rank, periods by their
/// bounds, records by their numbers, emails without regard to case, and the constants a chain may
/// gather into one list.
extension ExpressionBinder {
    static func fieldText(_ expression: Expression) -> String {
        if case .path(let parts) = expression.kind { return parts.map(\.value).joined(separator: ".") }
        return "field"
    }

    func compare(_ left: Expression, _ op: ComparisonOperator, _ right: Expression) throws -> CompiledTest {
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
            return CompiledTest(Sql.compare(FindRunner.sortKey(column), op.sql, Sql.value(rank)))
        }
        return try comparisonTest(lsql, ltype, op, r, at: right.range)
    }

    /// Refuses comparisons that cannot mean anything: a date with text, a number with a date.
    func checkTypes(_ left: FieldType?, _ right: BoundExpression, at range: SourceRange) throws {
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
        try comparisonTest(lsql, ltype, op, right, at: range).sql
    }

    /// `comparison`, with the constant compared where it is `=` or `!=` with one (for a chain's list).
    func comparisonTest(
        _ lsql: SQLFragment, _ ltype: FieldType?, _ op: ComparisonOperator, _ right: BoundExpression,
        at range: SourceRange
    ) throws -> CompiledTest {
        if case .null = right {
            switch op {
            case .equal: return CompiledTest(Sql.isNull(lsql))
            case .notEqual: return CompiledTest(Sql.isNotNull(lsql))
            default: throw Diagnostic(.invalidComparison, "only = and != compare with null", at: range)
            }
        }
        if case .ids(let subquery) = right {
            switch op {
            case .equal: return CompiledTest(Sql.in(lsql, subquery))
            case .notEqual: return CompiledTest(Sql.any(Sql.isNull(lsql), Sql.notIn(lsql, subquery)))
            default: throw Diagnostic(.invalidComparison, "records compare only with = and !=", at: range)
            }
        }
        if case .temporal(let value) = right, let end = value.end {
            let start = Sql.value(value.start)
            let stop = Sql.value(end)
            let sql: SQLFragment
            switch op {
            case .equal: sql = Sql.all([Sql.compare(lsql, .greaterEqual, start), Sql.compare(lsql, .less, stop)])
            case .notEqual:
                sql = Sql.any(Sql.isNull(lsql), Sql.compare(lsql, .less, start), Sql.compare(lsql, .greaterEqual, stop))
            case .less: sql = Sql.compare(lsql, .less, start)
            case .lessEqual: sql = Sql.compare(lsql, .less, stop)
            case .greater: sql = Sql.compare(lsql, .greaterEqual, stop)
            case .greaterEqual: sql = Sql.compare(lsql, .greaterEqual, start)
            }
            return CompiledTest(sql)
        }
        let (rsql, _) = try valueSQL(right, at: range, for: ltype)
        // `=` and `!=` with a constant (not null): a value a chain may gather into a list.
        var constant = false
        if op == .equal || op == .notEqual, case .constant(let value, _) = right, !value.isNull { constant = true }
        // Emails compare without regard to case: ASCII values through the NOCASE index, others
        // folded on both sides (`rolo_fold`), as grouping and ordering fold them.
        if ltype == .email, case .constant(let value, _) = right, let text = String.fromDatabaseValue(value), !TextFolding.isASCII(text),
            op == .equal || op == .notEqual
        {
            let folded = Sql.value(TextFolding.fold(text))
            let test = Sql.equals(Sql.fold(lsql), folded)
            return CompiledTest(
                op == .equal ? test : Sql.notTrue(test),
                values: ValueTest(Sql.fold(lsql), ignoringCase: false, negated: op == .notEqual, values: [folded]))
        }
        let sql: SQLFragment
        switch (op, ltype == .email) {
        case (.notEqual, true): sql = Sql.isDistinctIgnoringCase(lsql, rsql)
        case (.notEqual, false): sql = Sql.isDistinct(lsql, rsql)
        case (_, true): sql = Sql.caseInsensitive(lsql, op.sql, rsql)
        case (_, false): sql = Sql.compare(lsql, op.sql, rsql)
        }
        guard constant else { return CompiledTest(sql) }
        return CompiledTest(sql, values: ValueTest(lsql, ignoringCase: ltype == .email, negated: op == .notEqual, values: [rsql]))
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
