import GRDB
import RoloStore

/// A piece of SQL with its bound arguments. Values never enter SQL text: they are arguments.
///
/// Every query the engine runs is assembled from fragments, so SQL lives in one kind of value
/// and a second dialect only changes how fragments are spelled (see `SQLDialect`).
public struct SQLFragment: Sendable {
    public var sql: String
    public var arguments: [DatabaseValue]

    public init(_ sql: String, _ arguments: [DatabaseValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }

    /// A single `?` bound to `value`.
    public static func value(_ value: some DatabaseValueConvertible) -> SQLFragment {
        SQLFragment("?", [value.databaseValue])
    }

    public static func + (a: SQLFragment, b: SQLFragment) -> SQLFragment {
        SQLFragment(a.sql + b.sql, a.arguments + b.arguments)
    }

    public static func + (a: SQLFragment, b: String) -> SQLFragment {
        SQLFragment(a.sql + b, a.arguments)
    }

    public static func + (a: String, b: SQLFragment) -> SQLFragment {
        SQLFragment(a + b.sql, b.arguments)
    }

    /// Joins fragments with a separator.
    public static func joined(_ parts: [SQLFragment], separator: String) -> SQLFragment {
        var result = SQLFragment("")
        for (index, part) in parts.enumerated() {
            if index > 0 { result.sql += separator }
            result.sql += part.sql
            result.arguments += part.arguments
        }
        return result
    }

    /// GRDB's initializer for a sequence of concrete values maps through a key path that is
    /// instantiated at run time, on every call; the existential one takes a plain closure.
    public var statementArguments: StatementArguments {
        var values: [(any DatabaseValueConvertible)?] = []
        values.reserveCapacity(arguments.count)
        for argument in arguments { values.append(argument) }
        return StatementArguments(values)
    }
}

/// How SQL is spelled for the database in use. SQLite today; PostgreSQL would be a sibling.
public enum SQLDialect {
    public static func quote(_ identifier: String) -> String {
        SchemaSQL.quote(identifier)
    }

    /// `LIKE` with `\` as the escape character; the pattern is built from a bound value.
    public static func likeEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
