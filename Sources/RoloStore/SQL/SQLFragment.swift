import GRDB

/// A piece of rendered SQL with its bound arguments. Values never enter SQL text: they are arguments.
///
/// The builder's currency: every query is assembled from fragments made by `SQL` (expressions)
/// and the statements of Statements.swift, whose text is spelled by `Sql.dialect`, so SQL text
/// lives in this directory only (scripts/check-sql keeps it so) and a second dialect only
/// changes how fragments are spelled. `+` and `joined` are for the builder's own use.
public struct SQLFragment: Sendable {
    public var sql: String
    public var arguments: [DatabaseValue]

    public init(_ sql: String, _ arguments: [DatabaseValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }

    /// A single placeholder bound to `value`.
    public static func value(_ value: some DatabaseValueConvertible) -> SQLFragment {
        SQLFragment(Sql.dialect.placeholder, [value.databaseValue])
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

// MARK: - Running fragments

extension Database {
    /// Runs a built statement.
    public func execute(_ statement: SQLFragment) throws {
        try execute(sql: statement.sql, arguments: statement.statementArguments)
    }
}

extension DatabaseValueConvertible {
    public static func fetchOne(_ db: Database, _ query: SQLFragment) throws -> Self? {
        try fetchOne(db, sql: query.sql, arguments: query.statementArguments)
    }

    public static func fetchAll(_ db: Database, _ query: SQLFragment) throws -> [Self] {
        try fetchAll(db, sql: query.sql, arguments: query.statementArguments)
    }
}

extension Row {
    public static func fetchOne(_ db: Database, _ query: SQLFragment) throws -> Row? {
        try fetchOne(db, sql: query.sql, arguments: query.statementArguments)
    }

    public static func fetchAll(_ db: Database, _ query: SQLFragment) throws -> [Row] {
        try fetchAll(db, sql: query.sql, arguments: query.statementArguments)
    }

    public static func fetchCursor(_ db: Database, _ query: SQLFragment) throws -> RowCursor {
        try fetchCursor(db, sql: query.sql, arguments: query.statementArguments)
    }
}
