import GRDB

/// `SELECT columns FROM table AS alias [joins] [WHERE …] [GROUP BY …] [ORDER BY …] [LIMIT … [OFFSET …]]`.
///
/// Tables and fields are named as the schema declares them and quoted here; conditions are
/// expressions built by `SQL`; limit and offset are bound.
public struct Select: SQLFiltered, Sendable {
    public var columns: [SQLFragment]
    public var distinct = false
    /// The FROM clause: a quoted table with its alias, or a subquery.
    private var from: SQLFragment
    /// Joins, rendered (`Sql.leftJoin`), in order.
    public var joins = SQLFragment("")
    public var conditions: [SQLFragment] = []
    public var groupBy: [SQLFragment] = []
    /// Conditions on the groups, over aggregate expressions (`count(*) > ?`), joined with AND.
    public var having: [SQLFragment] = []
    public var orderBy: [SQLFragment] = []
    public var limit: SQLFragment?
    public var offset: SQLFragment?

    /// From a table, with an optional alias.
    public init(_ columns: [SQLFragment], from table: String, as alias: String? = nil) {
        self.columns = columns
        self.from = SQLFragment(Sql.quote(table) + (alias.map { " AS " + $0 } ?? ""))
    }

    public init(_ columns: SQLFragment..., from table: String, as alias: String? = nil) {
        self.init(columns, from: table, as: alias)
    }

    /// From a subquery.
    public init(_ columns: [SQLFragment], fromQuery query: Select, as alias: String? = nil) {
        self.columns = columns
        self.from = "(" + query.sql + ")" + (alias.map { " AS " + $0 } ?? "")
    }

    /// Without a FROM clause: `SELECT value`.
    public init(value: SQLFragment) {
        self.columns = [value]
        self.from = SQLFragment("")
    }

    /// Named columns of the table or an alias: `alias."a", alias."b"` (or bare names without alias).
    public static func columns(_ names: [String], of alias: String? = nil) -> [SQLFragment] {
        names.map { name in alias.map { Sql.column($0, name) } ?? Sql.name(name) }
    }

    /// The same query with other columns.
    public func selecting(_ columns: [SQLFragment]) -> Select {
        var copy = self
        copy.columns = columns
        return copy
    }

    public func joining(_ join: SQLFragment) -> Select {
        var copy = self
        copy.joins = copy.joins + join
        return copy
    }

    public func grouped(by keys: [SQLFragment]) -> Select {
        var copy = self
        copy.groupBy += keys
        return copy
    }

    public func ordered(by keys: [SQLFragment]) -> Select {
        var copy = self
        copy.orderBy += keys
        return copy
    }

    public func ordered(by keys: SQLFragment...) -> Select { ordered(by: keys) }

    public func limited(_ limit: Int, offset: Int? = nil) -> Select {
        limited(Sql.value(limit), offset: offset.map { Sql.value($0) })
    }

    /// A limit and offset already bound.
    public func limited(_ limit: SQLFragment, offset: SQLFragment? = nil) -> Select {
        var copy = self
        copy.limit = limit
        copy.offset = offset
        return copy
    }

    public func distinctRows() -> Select {
        var copy = self
        copy.distinct = true
        return copy
    }

    /// The statement's text and arguments, in clause order.
    public var sql: SQLFragment {
        var sql = (distinct ? "SELECT DISTINCT " : "SELECT ") + SQLFragment.joined(columns, separator: ", ")
        if !from.sql.isEmpty { sql = sql + " FROM " + from + joins }
        sql = sql + whereClause
        if !groupBy.isEmpty { sql = sql + " GROUP BY " + SQLFragment.joined(groupBy, separator: ", ") }
        if !having.isEmpty { sql = sql + " HAVING " + SQLFragment.joined(having, separator: " AND ") }
        if !orderBy.isEmpty { sql = sql + " ORDER BY " + SQLFragment.joined(orderBy, separator: ", ") }
        if let limit {
            sql = sql + " LIMIT " + limit
            if let offset { sql = sql + " OFFSET " + offset }
        }
        return sql
    }

    /// `SELECT count(*) FROM (this)`: how many rows this query yields.
    public var counted: SQLFragment { "SELECT count(*) FROM (" + sql + ")" }
}

/// `INSERT INTO table (columns) VALUES (…)` or `INSERT INTO table (columns) SELECT …`.
public struct Insert: Sendable {
    public enum Conflict: Sendable { case fail, replace }

    let table: String
    let columns: [String]
    let source: SQLFragment
    let fromQuery: Bool
    var conflict = Conflict.fail

    /// Values, bound.
    public init(into table: String, _ values: [(column: String, value: DatabaseValue)]) {
        self.init(into: table, columns: values.map(\.column), values: values.map { Sql.value($0.value) })
    }

    /// Values as expressions (bound values, or SQL of the builder's).
    public init(into table: String, columns: [String], values: [SQLFragment]) {
        self.table = table
        self.columns = columns
        self.source = SQLFragment.joined(values, separator: ", ")
        self.fromQuery = false
    }

    /// `INSERT … SELECT`: rows from a query, in the column order given.
    public init(into table: String, columns: [String], select query: Select) {
        self.table = table
        self.columns = columns
        self.source = query.sql
        self.fromQuery = true
    }

    /// Placeholders only, for a statement prepared once and bound per row (the generator).
    public static func prepared(into table: String, columns: [String]) -> SQLFragment {
        Insert(
            into: table, columns: columns,
            values: Array(repeating: SQLFragment(Sql.dialect.placeholder), count: columns.count)
        ).sql
    }

    public func replacing() -> Insert {
        var copy = self
        copy.conflict = .replace
        return copy
    }

    public var sql: SQLFragment {
        let head = conflict == .replace ? Sql.dialect.insertOrReplace : "INSERT INTO "
        let names = columns.map { Sql.quote($0) }.joined(separator: ", ")
        let target = head + Sql.quote(table) + " (" + names + ")"
        return fromQuery ? target + " " + source : target + " VALUES (" + source + ")"
    }
}

/// `UPDATE table AS alias SET a = …, b = … [FROM other AS o] WHERE …`.
public struct Update: SQLFiltered, Sendable {
    let table: String
    let alias: String?
    let assignments: [(column: String, value: SQLFragment)]
    public var conditions: [SQLFragment] = []
    /// Another table the new values and conditions may read (`UPDATE … FROM`), joined by the conditions.
    var source: SQLFragment? = nil

    public init(_ table: String, as alias: String? = nil, set assignments: [(column: String, value: SQLFragment)]) {
        self.table = table
        self.alias = alias
        self.assignments = assignments
    }

    public var sql: SQLFragment {
        var sql = SQLFragment("UPDATE " + Sql.quote(table) + (alias.map { " AS " + $0 } ?? "") + " SET ")
        sql = sql + SQLFragment.joined(assignments.map { Sql.quote($0.column) + " = " + $0.value }, separator: ", ")
        if let source { sql = sql + " FROM " + source }
        return sql + whereClause
    }

    /// This update reading rows of `table` (aliased) too: a set-based update from a staging table.
    public func from(_ table: String, as alias: String) -> Update {
        var copy = self
        copy.source = SQLFragment(Sql.quote(table) + " AS " + alias)
        return copy
    }
}

/// `DELETE FROM table AS alias WHERE …`.
public struct Delete: SQLFiltered, Sendable {
    let table: String
    let alias: String?
    public var conditions: [SQLFragment] = []

    public init(from table: String, as alias: String? = nil) {
        self.table = table
        self.alias = alias
    }

    public var sql: SQLFragment {
        SQLFragment("DELETE FROM " + Sql.quote(table) + (alias.map { " AS " + $0 } ?? "")) + whereClause
    }
}

/// A statement with a WHERE clause: conditions that must all hold.
public protocol SQLFiltered {
    var conditions: [SQLFragment] { get set }
}

extension SQLFiltered {
    /// This statement with one more condition; nil adds none.
    public func `where`(_ condition: SQLFragment?) -> Self {
        guard let condition else { return self }
        var copy = self
        copy.conditions.append(condition)
        return copy
    }

    /// ` WHERE a AND b …`, or nothing.
    var whereClause: SQLFragment { conditions.isEmpty ? SQLFragment("") : " WHERE " + Sql.and(conditions) }
}
