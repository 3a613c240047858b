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
        /// `count(deals where stage = won)`: how many records of another entity refer to this one.
        case related(RelatedRecords)
    }

    public let kind: Kind
    public let range: SourceRange

    @inlinable
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

/// The forms `is valid` checks: an email address (one @, a dot in the domain, no spaces) or a
/// phone number (at least 7 characters, only digits, spaces and + ( ) . -, starting with a digit, + or ().
public enum ValueFormat: String, Sendable, Equatable, CaseIterable {
    case email, phone
}

/// A filter condition.
public struct Condition: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        /// `a and b and …`: a whole chain in one node, two terms or more, in the order written, so a
        /// chain of 100,000 terms is one level deep (no deep recursion to walk or free it).
        case and([Condition])
        /// `a or b or …`, as `and`.
        case or([Condition])
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
        /// `has open tickets`, `no activities since 1 year ago`: whether any related record exists.
        case exists(RelatedRecords, negated: Bool)
        /// `email is valid email`, `phone is not valid phone`: whether a text has the form of one.
        case isValid(Expression, ValueFormat, negated: Bool)
    }

    public let kind: Kind
    public let range: SourceRange

    @inlinable
    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    /// How many tests (terms other than `and`, `or` and `not`) the condition holds, counted with a
    /// loop.
    public var testCount: Int {
        var count = 0
        var pending = [self]
        while let next = pending.popLast() {
            switch next.kind {
            case .and(let terms), .or(let terms): pending.append(contentsOf: terms)
            case .not(let inner): pending.append(inner)
            default: count += 1
            }
        }
        return count
    }
}

/// Records of another entity that refer to the record at hand: `[open] ENTITY [since VALUE] [where CONDITION]`.
public struct RelatedRecords: Sendable, Equatable {
    public let entity: Located<String>
    /// Only the open ones (deals not won or lost, tickets not resolved or closed, tasks not done).
    public let open: Bool
    /// Only those since a date (by the entity's own date: an activity's `occurred_at`…).
    public let since: Expression?
    public let filter: Condition?

    public init(entity: Located<String>, open: Bool, since: Expression?, filter: Condition?) {
        self.entity = entity
        self.open = open
        self.since = since
        self.filter = filter
    }
}

public enum ComparisonOperator: String, Sendable {
    case equal = "=", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="

    /// The comparison a symbol writes, if any (matched, not looked up by its text: every
    /// predicate asks).
    public init?(_ symbol: Token.Symbol) {
        switch symbol {
        case .equal: self = .equal
        case .notEqual: self = .notEqual
        case .less: self = .less
        case .lessEqual: self = .lessEqual
        case .greater: self = .greater
        case .greaterEqual: self = .greaterEqual
        default: return nil
        }
    }
}

public enum TextOperator: String, Sendable {
    case contains, startsWith = "starts with", endsWith = "ends with"
}
