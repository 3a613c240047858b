/// One command as parsed: its kind, its options (`--dry-run`) and the text it came from.
public struct Statement: Sendable, Equatable {
    public let kind: StatementKind
    public let options: [CommandOption]
    public let range: SourceRange
    /// The statement's own source text, recorded in change sets and the audit log.
    public let text: String

    public init(kind: StatementKind, options: [CommandOption], range: SourceRange, text: String) {
        self.kind = kind
        self.options = options
        self.range = range
        self.text = text
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
    public var fields: [Expression] = []
    public var filter: Condition?
    public var order: [OrderItem] = []
    public var limit: Located<Int>?
    public var offset: Located<Int>?
    public var format: Located<OutputFormat>?

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
    public var format: Located<OutputFormat>?
    /// `order by` a grouped field or the aggregate itself (`count`, `sum`…); biggest first by default.
    public var order: [OrderItem] = []
    /// At most this many groups.
    public var limit: Located<Int>?

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

public indirect enum StatementKind: Sendable, Equatable {
    case help(topic: Located<String>?)
    case whoami
    case users
    case roles
    case teams
    case quit
    case find(FindQuery)
    case aggregate(AggregateQuery)
    case show(RecordReference)
    case history(RecordReference)
    case explain(Statement)
    case create(entity: EntityName, assignments: [Assignment])
    case update(entity: EntityName, selector: RecordSelector, assignments: [Assignment])
    case delete(entity: EntityName, selector: RecordSelector)
    case assign(entity: EntityName, selector: RecordSelector, to: Expression)
    case merge(entity: EntityName, from: Located<RecordKey>, into: Located<RecordKey>)
    case log(kind: Located<String>, target: RecordReference, text: Located<String>)
    case addTask(title: Located<String>, target: RecordReference?, due: Expression?, assignee: Expression?)
    case changes(limit: Int?)
    case undo(changeSet: Located<Int>?)
    case begin
    case commit
    case rollback
    case dryRun(Bool?)
    case setting(name: Located<String>, value: Located<String>)
    // Users, teams, roles and permissions.
    case createUser(handle: Located<String>, assignments: [Assignment])
    case createTeam(name: Located<String>, assignments: [Assignment])
    case createRole(name: Located<String>, like: Located<String>?)
    case setUserActive(handle: Located<String>, active: Bool)
    case moveUser(handle: Located<String>, team: Located<String>)
    case grant(role: Located<String>, user: Located<String>)
    case revoke(role: Located<String>, user: Located<String>)
    case dropRole(name: Located<String>)
    /// `allow|deny ROLE ACTION ENTITY[.field,…] [scope own|team|all]`
    case rule(
        effect: Located<String>, role: Located<String>, action: Located<String>, entity: EntityName,
        fields: [Located<String>], scope: Located<String>?)
    /// `can USER ACTION ENTITY [KEY]`
    case can(user: Located<String>, action: Located<String>, entity: EntityName, key: Located<RecordKey>?)
    /// `as USER COMMAND`: an admin runs one command as another user.
    case asUser(user: Located<String>, statement: Statement)
    case login(user: Located<String>)
    case verifyAudit
    case auditAnchor
}
