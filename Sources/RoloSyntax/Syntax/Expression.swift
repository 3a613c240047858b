/// A value expression: a field path, a literal, a date form, arithmetic or a function call.
public struct Expression: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        /// `title`, `account.name`, or a bare word the binder resolves (enum value, `today`, `me`, a handle).
        case path([Located<String>])
        case string(String)
        /// As written, e.g. `42` or `3.5`.
        case number(String)
        case money(cents: Int)
        case date(String)
        case variable(String)
        case null
        /// `3 days ago` (negative) or `in 2 days` (positive), counted in `unit`.
        case relative(amount: Int, unit: TimeUnit)
        /// `14 days`, only meaningful after `+` or `-`.
        case duration(amount: Int, unit: TimeUnit)
        /// `this quarter`, `last month`, `next year` (offset -1, 0, 1).
        case period(offset: Int, unit: TimeUnit)
        /// `my team`.
        case myTeam
        case binary(ArithmeticOperator, Expression, Expression)
        case negate(Expression)
        case call(name: Located<String>, arguments: [Expression])
    }

    public let kind: Kind
    public let range: SourceRange

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    /// The single bare word, if this expression is one (`won`, `bob`, `today`).
    public var bareWord: String? {
        if case .path(let parts) = kind, parts.count == 1 { return parts[0].value }
        return nil
    }
}

public enum ArithmeticOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/"
}

/// Units for relative dates, durations and periods.
public enum TimeUnit: String, Sendable, CaseIterable {
    case minute, hour, day, week, month, quarter, year

    /// Accepts singular and plural spellings.
    public init?(word: String) {
        var w = word.lowercased()
        if w.hasSuffix("s") { w.removeLast() }
        self.init(rawValue: w)
    }
}

/// A filter condition.
public struct Condition: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        case and(Condition, Condition)
        case or(Condition, Condition)
        case not(Condition)
        case compare(Expression, ComparisonOperator, Expression)
        /// contains / starts with / ends with, case-insensitive.
        case text(Expression, TextOperator, Expression, negated: Bool)
        case inList(Expression, [Expression], negated: Bool)
        /// `close_date in this quarter`.
        case inPeriod(Expression, Expression, negated: Bool)
        case between(Expression, Expression, Expression, negated: Bool)
        /// `is empty` (null or blank) / `is not empty`.
        case isEmpty(Expression, negated: Bool)
    }

    public let kind: Kind
    public let range: SourceRange

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

public enum ComparisonOperator: String, Sendable {
    case equal = "=", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

public enum TextOperator: String, Sendable {
    case contains, startsWith = "starts with", endsWith = "ends with"
}
