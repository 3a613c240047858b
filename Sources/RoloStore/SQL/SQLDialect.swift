import GRDB

/// A unit of calendar arithmetic (`close_date + 3 months`).
public enum SQLCalendarUnit: String, Sendable {
    case minute, hour, day, week, month, quarter, year
}

/// Application-defined functions every connection registers (`CRMStore.configuration`), by meaning.
public enum SQLFunction: Sendable {
    /// Unicode and case folding for matching, grouping and ordering (`TextFolding`).
    case fold
    /// Text in the form `contains` compares: folded, accents aside (`TextFolding.matchKey`).
    case matchKey
    /// `contains`/`starts with`/`ends with` over match keys (`TextFolding.MatchMode`).
    case match
    /// Money × number and money ÷ number, in decimal, rounded half-even (`MoneyFunctions`).
    case moneyMultiply, moneyDivide
    /// A computed value checked to be a whole number in range before it is written.
    case checkedInteger
}

/// How SQL is spelled for one database. Everything the builder (`SQL`, `Select`, `Insert`…)
/// renders that differs between databases comes from here; `SQLiteDialect` is the one in use.
/// A PostgreSQL dialect would be a sibling: `ILIKE`/`citext` for case-insensitive comparison,
/// `IS DISTINCT FROM`, `interval` arithmetic, `string_agg`, `ctid`-free row identity, `$n`
/// placeholders and the application functions as SQL functions.
public protocol SQLDialect: Sendable {
    /// An identifier in quotes.
    func quote(_ identifier: String) -> String
    /// A bound value's place in the text.
    var placeholder: String { get }
    /// The row's identity in insertion order, for a stable default order.
    func rowIdentity(_ alias: String) -> String
    /// `comparison` made case-insensitive (ASCII) for text; the comparison is already rendered.
    func caseInsensitive(_ comparison: SQLFragment) -> SQLFragment
    /// True when `a` and `b` differ, NULL counting as a value.
    func isDistinct(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment
    /// A call of an application-defined function.
    func call(_ function: SQLFunction, _ arguments: [SQLFragment]) -> SQLFragment
    /// A date (`YYYY-MM-DD`) or a moment (`YYYY-MM-DDTHH:MM:SSZ`) moved by an amount of a unit.
    func dateAdd(_ value: SQLFragment, _ amount: Int, _ unit: SQLCalendarUnit, moment: Bool) -> SQLFragment
    /// Seconds from `b` to `a`, both dates or moments as text.
    func secondsBetween(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment
    /// The values of a group joined into one text.
    func stringAggregate(_ value: SQLFragment, separator: SQLFragment) -> SQLFragment
    /// `LIKE` with `escape` as the escape character; the pattern is bound.
    func like(_ value: SQLFragment, _ pattern: SQLFragment) -> SQLFragment
    /// The character that escapes `%` and `_` in a `like` pattern.
    var likeEscape: Character { get }
    /// Starts a transaction that takes the write lock at once.
    var beginImmediate: String { get }
    func savepoint(_ name: String) -> String
    func releaseSavepoint(_ name: String) -> String
    func rollbackToSavepoint(_ name: String) -> String
    /// Reads a setting of the database (`PRAGMA name`).
    func readSetting(_ name: String) -> String
    /// Sets a setting of the database; the value is a number or a keyword, never user input.
    func setSetting(_ name: String, _ value: String) -> String
    /// The database's plan for a statement.
    func explainPlan(_ statement: SQLFragment) -> SQLFragment
    /// An insert that replaces the row with the same key.
    var insertOrReplace: String { get }
    /// How the database words a broken constraint, so it can be told in the user's terms.
    var constraintMessages: SQLConstraintMessages { get }
    /// One JSON object of the pairs, in order (keys bound; a NULL value is JSON null).
    func jsonObject(_ pairs: [(key: String, value: SQLFragment)]) -> SQLFragment
    /// A left join spreading the JSON object `document` into one row per key, in the object's
    /// order (no row when `document` is NULL; the left row is kept).
    func jsonEntries(of document: SQLFragment, as alias: String) -> SQLJSONEntries
    /// The elements of a JSON array as the rows of a one-column query, for `IN ( … )`.
    func valuesOfJSONArray(_ document: SQLFragment) -> SQLFragment
    /// The value at `path` (`$.e`, `$[1]`) of the JSON `document`, as the database stores it
    /// (text, integer, real; NULL for JSON null); an object or array as its JSON text.
    func jsonExtract(_ document: SQLFragment, _ path: String) -> SQLFragment
}

/// The rows of a JSON object as a joined table: the join, and each entry's key, value (as the
/// database stores it: text, integer…), whether it is JSON null, and its place in the object.
public struct SQLJSONEntries: Sendable {
    public let join: SQLFragment
    public let key: SQLFragment
    public let value: SQLFragment
    public let isNull: SQLFragment
    public let order: SQLFragment
}

/// The start of the database's message for each kind of broken constraint.
public struct SQLConstraintMessages: Sendable {
    public let unique: String
    public let check: String
    public let foreignKey: String
    public let notNull: String
}

/// SQLite, as Rolo runs it: `PRAGMA case_sensitive_like = OFF`, the application functions of
/// `CRMStore.configuration`, dates and moments stored as ISO 8601 text.
public struct SQLiteDialect: SQLDialect {
    public init() {}

    /// Called for every column of every query, so it avoids Foundation's string search.
    public func quote(_ identifier: String) -> String {
        var quoted = "\""
        quoted.reserveCapacity(identifier.utf8.count + 2)
        if identifier.utf8.contains(UInt8(ascii: "\"")) {
            for character in identifier {
                if character == "\"" { quoted.append("\"") }
                quoted.append(character)
            }
        } else {
            quoted += identifier
        }
        quoted += "\""
        return quoted
    }

    public var placeholder: String { "?" }

    public func rowIdentity(_ alias: String) -> String { alias + ".rowid" }

    public func caseInsensitive(_ comparison: SQLFragment) -> SQLFragment { comparison + " COLLATE NOCASE" }

    public func isDistinct(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment { a + " IS NOT " + b }

    public func call(_ function: SQLFunction, _ arguments: [SQLFragment]) -> SQLFragment {
        let name: String
        switch function {
        case .fold: name = "rolo_fold("
        case .matchKey: name = "rolo_match_key("
        case .match: name = "rolo_match("
        case .moneyMultiply: name = "rolo_money_mul("
        case .moneyDivide: name = "rolo_money_div("
        case .checkedInteger: name = "rolo_int("
        }
        return name + SQLFragment.joined(arguments, separator: ", ") + ")"
    }

    public func dateAdd(_ value: SQLFragment, _ amount: Int, _ unit: SQLCalendarUnit, moment: Bool) -> SQLFragment {
        let modifier: String
        switch unit {
        case .quarter: modifier = "\(amount * 3) months"
        case .week: modifier = "\(amount * 7) days"
        default: modifier = "\(amount) \(unit.rawValue)s"
        }
        let call = moment ? "strftime('%Y-%m-%dT%H:%M:%SZ', " : "date("
        // Kept within 0001-01-01 … 9999-12-31: outside, an error rather than SQLite's year 0 or NULL.
        return "rolo_date(" + value + ", " + call + value + ", " + SQLFragment.value(modifier) + "))"
    }

    public func secondsBetween(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment {
        "(CAST(strftime('%s', " + a + ") AS INTEGER) - CAST(strftime('%s', " + b + ") AS INTEGER))"
    }

    public func stringAggregate(_ value: SQLFragment, separator: SQLFragment) -> SQLFragment {
        "group_concat(" + value + ", " + separator + ")"
    }

    public func like(_ value: SQLFragment, _ pattern: SQLFragment) -> SQLFragment {
        value + " LIKE " + pattern + " ESCAPE '\\'"
    }

    public var likeEscape: Character { "\\" }

    public var beginImmediate: String { "BEGIN IMMEDIATE" }
    public func savepoint(_ name: String) -> String { "SAVEPOINT " + quote(name) }
    public func releaseSavepoint(_ name: String) -> String { "RELEASE SAVEPOINT " + quote(name) }
    public func rollbackToSavepoint(_ name: String) -> String { "ROLLBACK TO SAVEPOINT " + quote(name) }

    public func readSetting(_ name: String) -> String { "PRAGMA " + name }
    public func setSetting(_ name: String, _ value: String) -> String { "PRAGMA \(name) = \(value)" }

    public func explainPlan(_ statement: SQLFragment) -> SQLFragment { "EXPLAIN QUERY PLAN " + statement }

    public var insertOrReplace: String { "INSERT OR REPLACE INTO " }

    public var constraintMessages: SQLConstraintMessages {
        SQLConstraintMessages(
            unique: "UNIQUE constraint failed: ", check: "CHECK constraint failed", foreignKey: "FOREIGN KEY constraint failed",
            notNull: "NOT NULL constraint failed")
    }

    public func jsonObject(_ pairs: [(key: String, value: SQLFragment)]) -> SQLFragment {
        "json_object(" + SQLFragment.joined(pairs.map { SQLFragment.value($0.key) + ", " + $0.value }, separator: ", ") + ")"
    }

    public func valuesOfJSONArray(_ document: SQLFragment) -> SQLFragment {
        "SELECT value FROM json_each(" + document + ")"
    }

    public func jsonExtract(_ document: SQLFragment, _ path: String) -> SQLFragment {
        "json_extract(" + document + ", " + SQLFragment.value(path) + ")"
    }

    public func jsonEntries(of document: SQLFragment, as alias: String) -> SQLJSONEntries {
        SQLJSONEntries(
            join: " LEFT JOIN json_each(" + document + ") AS " + alias + " ON 1", key: SQLFragment(alias + ".key"),
            value: SQLFragment(alias + ".value"), isNull: SQLFragment(alias + ".type = 'null'"), order: SQLFragment(alias + ".id"))
    }
}
