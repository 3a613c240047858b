import GRDB

/// SQL expressions by meaning, rendered as `SQLFragment`s: columns, bound values, conditions,
/// functions. With the statements of Statements.swift, the only place SQL text is written outside
/// the frozen migrations; what differs between databases is spelled by `dialect`.
///
/// Values are always bound (`value`); names of tables and fields come from `CRMSchema`, aliases
/// from the query builder. Building is string concatenation only: cheap beside running a query.
public enum Sql {
    /// The dialect in use (static, so spelling is a direct call).
    public static let dialect = SQLiteDialect()

    // MARK: - Names

    public static func quote(_ identifier: String) -> String { dialect.quote(identifier) }

    /// `alias."field"`.
    public static func column(_ alias: String, _ field: String) -> SQLFragment {
        SQLFragment(columnText(alias, field))
    }

    /// `alias."field"` as text, for column references that carry no arguments.
    public static func columnText(_ alias: String, _ field: String) -> String {
        alias + "." + dialect.quote(field)
    }

    /// A field of the table being written, without an alias (`"name"`).
    public static func name(_ field: String) -> SQLFragment { SQLFragment(dialect.quote(field)) }

    /// The record's number: `alias.id`.
    public static func id(_ alias: String) -> SQLFragment { SQLFragment(idText(alias)) }
    public static func idText(_ alias: String) -> String { alias + ".id" }

    /// `alias.id = ?`: one record by number.
    public static func idEquals(_ alias: String, _ id: some DatabaseValueConvertible) -> SQLFragment {
        equals(self.id(alias), value(id))
    }

    /// The row's identity in insertion order (SQLite's rowid).
    public static func rowIdentity(_ alias: String) -> SQLFragment { SQLFragment(dialect.rowIdentity(alias)) }

    // MARK: - Values

    /// A bound value.
    public static func value(_ value: some DatabaseValueConvertible) -> SQLFragment { SQLFragment.value(value) }

    /// A bound value that may be NULL.
    public static func value(_ value: DatabaseValue) -> SQLFragment { SQLFragment(dialect.placeholder, [value]) }

    /// Bound values in a list: `?, ?, ?`.
    public static func values(_ values: [DatabaseValue]) -> SQLFragment {
        SQLFragment(Array(repeating: dialect.placeholder, count: values.count).joined(separator: ", "), values)
    }

    public static let null = SQLFragment("NULL")
    public static let `true` = SQLFragment("1")
    public static let `false` = SQLFragment("0")
    /// `*`: every column of a row.
    public static let all = SQLFragment("*")

    /// A whole number of Rolo's own (a count to compare with, a flag), never user input.
    public static func literal(_ n: Int) -> SQLFragment { SQLFragment(String(n)) }

    /// A result column under a name of its own (`expression AS "name"`).
    public static func named(_ expression: SQLFragment, _ name: String) -> SQLFragment { expression + " AS " + quote(name) }

    /// A result column by its position in the select list (ORDER BY 2, GROUP BY 1).
    public static func position(_ n: Int) -> SQLFragment { SQLFragment(String(n)) }

    // MARK: - Logic

    /// Conditions that must all hold, without brackets (a WHERE clause's list).
    public static func and(_ parts: [SQLFragment]) -> SQLFragment { SQLFragment.joined(parts, separator: " AND ") }
    public static func and(_ parts: SQLFragment...) -> SQLFragment { and(parts) }

    /// Conditions that must all hold, in brackets.
    public static func all(_ parts: [SQLFragment]) -> SQLFragment { "(" + and(parts) + ")" }

    /// Alternatives, in brackets.
    public static func any(_ parts: [SQLFragment]) -> SQLFragment { "(" + SQLFragment.joined(parts, separator: " OR ") + ")" }
    public static func any(_ parts: SQLFragment...) -> SQLFragment { any(parts) }

    public enum Connective: Sendable { case and, or }

    /// `a and b and …` as a balanced tree of brackets: depth log2(n), not n, under the database's
    /// expression-depth limit. Written into one string in one pass (linear in the text's length).
    public static func balanced(_ parts: [SQLFragment], _ connective: Connective) -> SQLFragment {
        let separator = connective == .and ? " AND " : " OR "
        var out = SQLFragment("")
        var length = 0
        var count = 0
        for part in parts {
            length += part.sql.utf8.count + separator.utf8.count + 2
            count += part.arguments.count
        }
        out.sql.reserveCapacity(length + 2)
        out.arguments.reserveCapacity(count)
        // Recursion over halves: log2(n) deep.
        func write(_ range: Range<Int>) {
            out.sql += "("
            if range.count <= 8 {
                for index in range {
                    if index > range.lowerBound { out.sql += separator }
                    out.sql += parts[index].sql
                    out.arguments += parts[index].arguments
                }
            } else {
                let middle = range.lowerBound + range.count / 2
                write(range.lowerBound..<middle)
                out.sql += separator
                write(middle..<range.upperBound)
            }
            out.sql += ")"
        }
        write(parts.indices)
        return out
    }

    public static func not(_ condition: SQLFragment) -> SQLFragment { "NOT " + condition }

    /// True unless `condition` holds: an unknown (NULL) counts as not holding.
    public static func notTrue(_ condition: SQLFragment) -> SQLFragment { "NOT coalesce(" + condition + ", 0)" }

    /// `condition`, with an unknown (NULL) counting as true.
    public static func trueUnlessFalse(_ condition: SQLFragment) -> SQLFragment { "coalesce(" + condition + ", 1)" }

    /// `condition`, with an unknown (NULL) counting as false.
    public static func isTrue(_ condition: SQLFragment) -> SQLFragment { "coalesce(" + condition + ", 0)" }

    /// An expression in brackets.
    public static func group(_ expression: SQLFragment) -> SQLFragment { "(" + expression + ")" }

    // MARK: - Comparison

    public enum Comparison: String, Sendable {
        case equal = "=", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    }

    public static func compare(_ a: SQLFragment, _ op: Comparison, _ b: SQLFragment) -> SQLFragment {
        a + (" " + op.rawValue + " ") + b
    }

    public static func equals(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment { compare(a, .equal, b) }

    /// `a op b` ignoring case (ASCII; other scripts go through `fold`).
    public static func caseInsensitive(_ a: SQLFragment, _ op: Comparison, _ b: SQLFragment) -> SQLFragment {
        dialect.caseInsensitive(compare(a, op, b))
    }

    public static func caseInsensitiveEquals(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment {
        caseInsensitive(a, .equal, b)
    }

    /// A value compared, grouped and sorted ignoring case (ASCII): what a NOCASE index serves.
    public static func ignoringCase(_ value: SQLFragment) -> SQLFragment { dialect.caseInsensitive(value) }

    /// True when `a` and `b` differ, NULL counting as a value (`IS NOT`).
    public static func isDistinct(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment { dialect.isDistinct(a, b) }

    /// `isDistinct` ignoring case.
    public static func isDistinctIgnoringCase(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment {
        dialect.caseInsensitive(dialect.isDistinct(a, b))
    }

    public static func isNull(_ value: SQLFragment) -> SQLFragment { value + " IS NULL" }
    public static func isNotNull(_ value: SQLFragment) -> SQLFragment { value + " IS NOT NULL" }

    /// Empty text: NULL or only spaces.
    public static func isBlank(_ value: SQLFragment) -> SQLFragment {
        "(" + value + " IS NULL OR trim(" + value + ") = '')"
    }

    /// Not empty as `isBlank` means it (a character other than a space), without trimming a copy:
    /// NULL for NULL, which `count` skips.
    public static func hasText(_ value: SQLFragment) -> SQLFragment { value + " GLOB '*[^ ]*'" }

    /// Lists longer than this go to the database as one JSON array (`valueList`).
    public static let longList = 1_000

    /// The inside of `IN ( … )`: `?, ?, …`, one bound value each; past `longList` values that are
    /// all whole numbers or texts, one bound JSON array read back as rows (`SELECT value FROM
    /// json_each(?)`), so a list of 100,000 ids binds one value, not more than SQLite takes (32,766
    /// by default), and means the same: an IN list's values and a subquery's column both have no
    /// affinity and take the tested value's affinity and collation.
    public static func valueList(_ list: [SQLFragment]) -> SQLFragment {
        if list.count > longList, let json = jsonArray(list) { return dialect.valuesOfJSONArray(SQLFragment.value(json)) }
        return SQLFragment.joined(list, separator: ", ")
    }

    /// The values of single-placeholder fragments as a JSON array; nil if any is something else
    /// (SQL of its own, a real number, a blob, NULL).
    static func jsonArray(_ list: [SQLFragment]) -> String? {
        var json = "["
        json.reserveCapacity(list.count * 8)
        for (index, item) in list.enumerated() {
            guard item.sql == dialect.placeholder, item.arguments.count == 1 else { return nil }
            if index > 0 { json += "," }
            switch item.arguments[0].storage {
            case .int64(let number):
                json += String(number)
            case .string(let text):
                json += "\""
                for scalar in text.unicodeScalars {
                    switch scalar {
                    case "\"": json += "\\\""
                    case "\\": json += "\\\\"
                    case let c where c.value < 0x20:
                        let hex = String(c.value, radix: 16)
                        json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    default: json.unicodeScalars.append(scalar)
                    }
                }
                json += "\""
            default:
                return nil
            }
        }
        return json + "]"
    }

    /// `value IN (a, b, …)`.
    public static func `in`(_ value: SQLFragment, _ list: [SQLFragment]) -> SQLFragment {
        value + " IN (" + valueList(list) + ")"
    }

    /// `value IN (a, b, …)` ignoring case.
    public static func inIgnoringCase(_ value: SQLFragment, _ list: [SQLFragment]) -> SQLFragment {
        dialect.caseInsensitive(value) + " IN (" + valueList(list) + ")"
    }

    public static func notIn(_ value: SQLFragment, _ list: [SQLFragment]) -> SQLFragment {
        value + " NOT IN (" + valueList(list) + ")"
    }

    /// `value IN (subquery)`.
    public static func `in`(_ value: SQLFragment, _ query: Select) -> SQLFragment { `in`(value, query.sql) }
    public static func `in`(_ value: SQLFragment, _ query: SQLFragment) -> SQLFragment { value + " IN (" + query + ")" }
    public static func notIn(_ value: SQLFragment, _ query: SQLFragment) -> SQLFragment { value + " NOT IN (" + query + ")" }

    /// `value LIKE pattern`, the pattern bound; `%` any text, `_` one character.
    public static func like(_ value: SQLFragment, _ pattern: String) -> SQLFragment {
        value + " LIKE " + SQLFragment.value(pattern)
    }

    /// A phone number's form (`phone is valid phone`): 7 to 30 characters, only digits, spaces and
    /// `+ ( ) . -`, starting with a digit, `+` or `(` and ending with a digit. The patterns are
    /// bound; `GLOB` is case-sensitive and needs no escapes for these classes.
    public static func validPhone(_ value: SQLFragment) -> SQLFragment {
        all([
            compare(length(value), .greaterEqual, Sql.value(7)), compare(length(value), .lessEqual, Sql.value(30)),
            not(value + " GLOB " + SQLFragment.value("*[^0-9 +().-]*")), value + " GLOB " + SQLFragment.value("[0-9+(]*"),
            value + " GLOB " + SQLFragment.value("*[0-9]"),
        ])
    }

    /// `pattern` escaped for `like`, so it matches itself.
    public static func likeEscaped(_ text: String) -> String {
        let escape = dialect.likeEscape
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == escape { out.append(escape) }
            out.append(c)
        }
        return out
    }

    /// A scalar subquery: `(SELECT …)`.
    public static func subquery(_ query: Select) -> SQLFragment { "(" + query.sql + ")" }
    public static func subquery(_ query: SQLFragment) -> SQLFragment { "(" + query + ")" }

    /// `(SELECT value FROM (SELECT 1) LEFT JOIN …)`: a value reading related records through
    /// `joins` (whose ON clauses carry the read scope), correlated with the statement's own row, so
    /// an UPDATE's SET and its history's INSERT … SELECT read it with no join of their own; NULL
    /// where a join finds nothing.
    public static func throughJoins(_ value: SQLFragment, _ joins: SQLFragment) -> SQLFragment {
        subquery(Select([value], fromQuery: Select(value: literal(1))).joining(joins))
    }

    /// The first value of a subquery: `(SELECT … LIMIT 1)`.
    public static func first(_ query: SQLFragment) -> SQLFragment { "(" + query + " LIMIT 1)" }

    /// The first `n` rows of a query (`… LIMIT ?`).
    public static func firstRows(_ query: SQLFragment, _ n: Int) -> SQLFragment { query + " LIMIT " + value(n) }

    /// `EXISTS (SELECT …)`.
    public static func exists(_ query: Select) -> SQLFragment { "EXISTS (" + query.sql + ")" }

    // MARK: - Choices

    /// `CASE WHEN c1 THEN v1 … ELSE otherwise END`, in brackets.
    public static func when(_ cases: [(SQLFragment, SQLFragment)], else otherwise: SQLFragment) -> SQLFragment {
        var sql = SQLFragment("(CASE")
        for (condition, value) in cases { sql = sql + " WHEN " + condition + " THEN " + value }
        return sql + " ELSE " + otherwise + " END)"
    }

    /// An enum's declared order (low < normal < high): its position in `values`, bound.
    public static func declaredOrder(_ value: SQLFragment, _ values: [String]) -> SQLFragment {
        var sql = "(CASE " + value
        for (rank, name) in values.enumerated() {
            sql = sql + " WHEN " + SQLFragment.value(name) + " THEN " + SQLFragment.value(rank)
        }
        return sql + " END)"
    }

    // MARK: - Functions by meaning

    /// Text folded for matching (Unicode normalisation and case folding).
    public static func fold(_ text: SQLFragment) -> SQLFragment { dialect.call(.fold, [text]) }

    /// Text in its match key: folded, accents aside (`TextFolding.matchKey`).
    public static func matchKey(_ text: SQLFragment) -> SQLFragment { dialect.call(.matchKey, [text]) }

    /// `text` contains, starts or ends with a needle already in its match key (`TextFolding.MatchMode`).
    public static func match(_ text: SQLFragment, _ needle: SQLFragment, mode: SQLFragment) -> SQLFragment {
        dialect.call(.match, [text, needle, mode])
    }

    public static func moneyMultiply(_ cents: SQLFragment, _ factor: SQLFragment) -> SQLFragment {
        dialect.call(.moneyMultiply, [cents, factor])
    }

    public static func moneyDivide(_ cents: SQLFragment, _ divisor: SQLFragment) -> SQLFragment {
        dialect.call(.moneyDivide, [cents, divisor])
    }

    /// A value checked to be a whole number in range (refused otherwise).
    public static func checkedInteger(_ value: SQLFragment) -> SQLFragment { dialect.call(.checkedInteger, [value]) }

    /// A date or moment moved by `amount` units.
    public static func dateAdd(_ value: SQLFragment, _ amount: Int, _ unit: SQLCalendarUnit, moment: Bool) -> SQLFragment {
        dialect.dateAdd(value, amount, unit, moment: moment)
    }

    /// Seconds from `b` to `a`.
    public static func secondsBetween(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment { dialect.secondsBetween(a, b) }

    public static func stringAggregate(_ value: SQLFragment, separator: String) -> SQLFragment {
        dialect.stringAggregate(value, separator: SQLFragment.value(separator))
    }

    /// NULL when `a` equals `b`, otherwise `a`.
    public static func nullIf(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment { "nullif(" + a + ", " + b + ")" }

    /// The first of the values that is not NULL.
    public static func coalesce(_ values: [SQLFragment]) -> SQLFragment {
        "coalesce(" + SQLFragment.joined(values, separator: ", ") + ")"
    }

    /// One JSON object of the pairs, in order.
    public static func jsonObject(_ pairs: [(key: String, value: SQLFragment)]) -> SQLFragment { dialect.jsonObject(pairs) }

    /// The value at `path` of a JSON document (see `SQLDialect.jsonExtract`).
    public static func jsonExtract(_ document: SQLFragment, _ path: String) -> SQLFragment { dialect.jsonExtract(document, path) }

    /// `expression` kept from choosing the index (SQLite's unary `+`, a no-op on its value): for a
    /// query another index serves far better, which the planner cannot tell without statistics.
    public static func unindexed(_ expression: SQLFragment) -> SQLFragment { "+" + expression }

    /// The entries of a JSON object as a left-joined table (see `SQLDialect.jsonEntries`).
    public static func jsonEntries(of document: SQLFragment, as alias: String) -> SQLJSONEntries {
        dialect.jsonEntries(of: document, as: alias)
    }

    /// Texts joined, an empty value counting as empty text.
    public static func concatenate(_ parts: [SQLFragment]) -> SQLFragment {
        "(" + SQLFragment.joined(parts.map { "coalesce(" + $0 + ", '')" }, separator: " || ") + ")"
    }

    /// Texts joined as they are (NULL if any is NULL).
    public static func join(_ parts: [SQLFragment]) -> SQLFragment { SQLFragment.joined(parts, separator: " || ") }

    /// The built-in scalar functions the language offers (`lower`, `trim`, `round`…), by name.
    public enum Builtin: String, Sendable {
        case lower, upper, trim, replace, length, abs, round, substr, coalesce
    }

    public static func call(_ function: Builtin, _ arguments: [SQLFragment]) -> SQLFragment {
        function.rawValue + "(" + SQLFragment.joined(arguments, separator: ", ") + ")"
    }

    /// Text without surrounding spaces.
    public static func trim(_ text: SQLFragment) -> SQLFragment { call(.trim, [text]) }

    public static func length(_ text: SQLFragment) -> SQLFragment { call(.length, [text]) }

    // MARK: - Arithmetic

    public enum Arithmetic: String, Sendable { case add = "+", subtract = "-", multiply = "*" }

    public static func arithmetic(_ a: SQLFragment, _ op: Arithmetic, _ b: SQLFragment) -> SQLFragment {
        "(" + a + " \(op.rawValue) " + b + ")"
    }

    /// Division in real numbers, not integer division.
    public static func realDivide(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment {
        "(CAST(" + a + " AS REAL) / " + b + ")"
    }

    public static func negate(_ a: SQLFragment) -> SQLFragment { "(-" + a + ")" }

    /// A long sum as a balanced tree of brackets (depth log n).
    public static func balancedSum(_ parts: [SQLFragment]) -> SQLFragment {
        if parts.count <= 8 { return "(" + SQLFragment.joined(parts, separator: " + ") + ")" }
        let middle = parts.count / 2
        return "(" + balancedSum(Array(parts[..<middle])) + " + " + balancedSum(Array(parts[middle...])) + ")"
    }

    /// `a + b` without brackets (`records = records + ?`).
    public static func plus(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment { a + " + " + b }

    // MARK: - Aggregates

    public enum Aggregate: String, Sendable {
        case count, sum, total, avg, min, max
    }

    /// `count(*)`.
    public static let countAll = SQLFragment("count(*)")

    public static func aggregate(_ function: Aggregate, _ value: SQLFragment) -> SQLFragment {
        function.rawValue + "(" + value + ")"
    }

    /// `count(DISTINCT value)`.
    public static func countDistinct(_ value: SQLFragment) -> SQLFragment { "count(DISTINCT " + value + ")" }

    /// An average rounded to a whole number.
    public static func roundedAverage(_ value: SQLFragment) -> SQLFragment { "round(avg(" + value + "))" }

    /// The largest number (`max(id)`) as a scalar.
    public static func maximum(_ value: SQLFragment) -> SQLFragment { aggregate(.max, value) }

    // MARK: - Ordering

    public static func descending(_ key: SQLFragment) -> SQLFragment { key + " DESC" }
    public static func ascending(_ key: SQLFragment) -> SQLFragment { key }
    public static func order(_ key: SQLFragment, descending: Bool) -> SQLFragment { descending ? key + " DESC" : key }

    // MARK: - Joins

    /// ` LEFT JOIN "table" AS alias ON condition`, appended to a FROM clause.
    public static func leftJoin(_ table: String, as alias: String, on condition: SQLFragment) -> SQLFragment {
        " LEFT JOIN " + dialect.quote(table) + " AS " + alias + " ON " + condition
    }

    /// ` JOIN "table" AS alias ON condition`.
    public static func innerJoin(_ table: String, as alias: String, on condition: SQLFragment) -> SQLFragment {
        " JOIN " + dialect.quote(table) + " AS " + alias + " ON " + condition
    }

    /// ` LEFT JOIN (query) AS alias ON condition`.
    public static func leftJoin(query: Select, as alias: String, on condition: SQLFragment) -> SQLFragment {
        " LEFT JOIN (" + query.sql + ") AS " + alias + " ON " + condition
    }

    /// ` CROSS JOIN "table" AS alias`: every pair, the left table's rows outermost (SQLite keeps
    /// that loop order), so rows come out grouped by the left row.
    public static func crossJoin(_ table: String, as alias: String) -> SQLFragment {
        SQLFragment(" CROSS JOIN " + dialect.quote(table) + " AS " + alias)
    }

    // MARK: - Transactions and settings

    /// Begins a transaction holding the write lock from the start.
    public static var beginImmediate: SQLFragment { SQLFragment(dialect.beginImmediate) }
    /// A deferred transaction: a read in it starts one snapshot the later reads share.
    public static let begin = SQLFragment("BEGIN")
    public static let commit = SQLFragment("COMMIT")
    public static let rollback = SQLFragment("ROLLBACK")
    public static func savepoint(_ name: String) -> SQLFragment { SQLFragment(dialect.savepoint(name)) }
    public static func release(_ name: String) -> SQLFragment { SQLFragment(dialect.releaseSavepoint(name)) }
    public static func rollback(to name: String) -> SQLFragment { SQLFragment(dialect.rollbackToSavepoint(name)) }

    /// Reads a database setting (`journal_mode`, `user_version`…).
    public static func setting(_ name: String) -> SQLFragment { SQLFragment(dialect.readSetting(name)) }

    /// Sets a database setting to a number or keyword of Rolo's own (never user input).
    public static func set(_ name: String, _ value: String) -> SQLFragment { SQLFragment(dialect.setSetting(name, value)) }
    public static func set(_ name: String, _ value: Int) -> SQLFragment { set(name, String(value)) }

    /// Gathers the statistics the query planner picks indexes by (after a bulk load).
    public static let analyze = SQLFragment("ANALYZE")

    /// The database's plan for a query.
    public static func explainPlan(_ query: SQLFragment) -> SQLFragment { dialect.explainPlan(query) }
}

extension Optional where Wrapped == SQLFragment {
    /// ` AND condition`, or nothing: appends an optional filter to a WHERE clause.
    public var andClause: SQLFragment { map { " AND " + $0 } ?? SQLFragment("") }
}
