/// One command as parsed: the command's own syntax tree, its options (`--dry-run`) and the text
/// it came from. Which commands exist is not this module's business: each is a type in
/// RoloEngine's `Commands/` (its grammar, help and run together), listed once in its registry;
/// the parser dispatches on the `Grammar` the registry builds.
public struct Statement: Sendable, Equatable {
    public let command: any CommandSyntax
    public let options: [CommandOption]
    public let range: SourceRange
    /// The statement's own source text, recorded in change sets and the audit log.
    public let text: String

    public init(command: any CommandSyntax, options: [CommandOption], range: SourceRange, text: String) {
        self.command = command
        self.options = options
        self.range = range
        self.text = text
    }

    public static func == (a: Statement, b: Statement) -> Bool {
        a.command.isEqual(to: b.command) && a.options == b.options && a.range == b.range && a.text == b.text
    }

    public func hasOption(_ name: String) -> Bool { options.contains { $0.name.value == name } }
    public func option(_ name: String) -> CommandOption? { options.first { $0.name.value == name } }
}

/// `--name` or `--name value`.
public struct CommandOption: Sendable, Equatable {
    public let name: Located<String>
    public let value: Located<String>?

    public init(name: Located<String>, value: Located<String>?) {
        self.name = name
        self.value = value
    }
}

/// An entity name as written (singular or plural), resolved later by the binder.
public typealias EntityName = Located<String>

/// How a single record is named: `42`, `"ana@acme.io"` or a bare word like a user handle.
public enum RecordKey: Sendable, Equatable {
    case id(Int)
    case natural(String)
}

public struct RecordReference: Sendable, Equatable {
    public let entity: EntityName
    public let key: Located<RecordKey>

    public init(entity: EntityName, key: Located<RecordKey>) {
        self.entity = entity
        self.key = key
    }
}

/// Output format requested with `as csv` or `--format csv`. `bars` (a bar chart of a grouped
/// count or sum) is for people, not an export, and only for `count|sum|… by`.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, csv, json, bars
}

public struct OrderItem: Sendable, Equatable {
    public let field: Expression
    public let descending: Bool

    public init(field: Expression, descending: Bool) {
        self.field = field
        self.descending = descending
    }
}

public struct FindQuery: Sendable, Equatable {
    public var entity: EntityName
    /// The field list: paths (`account.name`) or expressions (`coalesce(phone, "none")`).
    public var fields: [Expression] = []
    /// Each field's header: the text as written, whitespace runs made one space.
    public var fieldLabels: [String] = []
    public var filter: Condition?
    public var order: [OrderItem] = []
    public var limit: Located<Int>?
    public var offset: Located<Int>?
    public var format: Located<OutputFormat>?

    @inlinable
    public init(entity: EntityName) { self.entity = entity }
}

public enum AggregateFunction: String, Sendable, CaseIterable {
    case count, sum, avg, min, max
}

/// `count ENTITY [by F] [where …]` and `sum|avg|min|max ENTITY.FIELD [by F] [where …]`.
public struct AggregateQuery: Sendable, Equatable {
    public var function: AggregateFunction
    public var entity: EntityName
    /// The aggregated field (nil for count).
    public var field: Expression?
    public var groupBy: [Expression] = []
    public var filter: Condition?
    /// `having CONDITION`: which groups to keep, by their figures (`count`, the command's own `sum`…).
    public var having: Condition?
    public var format: Located<OutputFormat>?
    /// `order by` a grouped field or the aggregate itself (`count`, `sum`…); biggest first by default.
    public var order: [OrderItem] = []
    /// At most this many groups.
    public var limit: Located<Int>?

    @inlinable
    public init(function: AggregateFunction, entity: EntityName, field: Expression?) {
        self.function = function
        self.entity = entity
        self.field = field
    }
}

/// `field = value` in create and update.
public struct Assignment: Sendable, Equatable {
    public let field: Located<String>
    public let value: Expression

    public init(field: Located<String>, value: Expression) {
        self.field = field
        self.value = value
    }
}

/// Which records a changing command applies to: one by key, or all matching a filter.
public enum RecordSelector: Sendable, Equatable {
    case one(Located<RecordKey>)
    case matching(Condition?)
}

/// A parsed command: the value a command's parse function returns (in RoloEngine, the command
/// type itself).
public protocol CommandSyntax: Sendable {
    func isEqual(to other: any CommandSyntax) -> Bool
}

extension CommandSyntax where Self: Equatable {
    public func isEqual(to other: any CommandSyntax) -> Bool { (other as? Self) == self }
}
