/// One column of an entity's table, with what the language needs to know about it.
/// A class, not a struct: queries pass fields around constantly, and a reference is one retain
/// where a struct of strings and arrays is several. Immutable, so sharing is safe.
public final class FieldDefinition: Sendable {
    /// Column name, e.g. `account_id`.
    public let name: String
    public let type: FieldType
    public let required: Bool
    /// Set by the engine, never by a `set` or `create` (ids, created_at, updated_at).
    public let system: Bool
    public let unique: Bool
    /// A default in SQL text (a literal, written by `SchemaSQL.defaultValue`), for DDL.
    public let sqlDefault: String?
    /// For a reference column `account_id`, the relation's name `account` (stored: binding asks
    /// for it for every field of every query).
    public let relationName: String?
    /// The column name quoted for SQL (`"first_name"`).
    public let quotedName: String
    /// The schema version that added the column. ALTER TABLE ADD COLUMN puts a column after the
    /// others, so a table's columns are stored by version, then as declared (`storedFields`),
    /// while `fields` keeps the order people read (a postal address beside the city).
    public let since: Int

    /// The most characters a text field takes on any write: 254 for an email (RFC 5321's path
    /// limit), 100,000 for long texts (`body`, `description`), 2,000 for every other text.
    public var maxLength: Int? {
        switch type {
        case .email: return 254
        case .text: return name == "body" || name == "description" ? 100_000 : 2_000
        default: return nil
        }
    }

    public init(
        _ name: String, _ type: FieldType, required: Bool = false, system: Bool = false,
        unique: Bool = false, sqlDefault: String? = nil, since: Int = 1
    ) {
        self.since = since
        self.name = name
        self.type = type
        self.required = required
        self.system = system
        self.unique = unique
        self.sqlDefault = sqlDefault
        self.quotedName = SchemaSQL.quote(name)
        if case .reference = type, name.hasSuffix("_id") {
            self.relationName = String(name.dropLast(3))
        } else {
            self.relationName = nil
        }
    }

    /// The referenced entity's table, if this is a reference.
    public var referencedEntity: String? {
        if case .reference(let entity) = type { return entity }
        return nil
    }
}

/// An index to create on an entity's table.
public struct IndexDefinition: Sendable {
    public let columns: [String]
    public let unique: Bool
    public let collateNoCase: Bool
    /// For a mostly-empty reference column: index only the rows that have a value
    /// (`WHERE col IS NOT NULL`), which `col = ?` lookups still use.
    public let sparse: Bool

    public init(_ columns: [String], unique: Bool = false, collateNoCase: Bool = false, sparse: Bool = false) {
        self.columns = columns
        self.unique = unique
        self.collateNoCase = collateNoCase
        self.sparse = sparse
    }
}

/// A table of the CRM: its fields, natural key and display, declared once.
///
/// Migrations create tables from these definitions and the engine binds names against them,
/// so the schema is written in exactly one place.
/// A class for the same reason as `FieldDefinition`: cheap to pass, immutable, shared.
public final class EntityDefinition: Sendable {
    /// Table name, plural (`contacts`).
    public let name: String
    /// Singular (`contact`), accepted anywhere the plural is.
    public let singular: String
    public let fields: [FieldDefinition]
    /// The field looked up by `show contact "ana@acme.io"` (email, name, handle…).
    public let naturalKey: [String]
    /// Fields shown by default in `find` tables.
    public let listFields: [String]
    /// How a record is named in diffs and cards, as SQL over the table written `$.`
    /// (e.g. `$.first_name || ' ' || $.last_name`); see `title(alias:)`.
    public let titleSQL: String
    /// `titleSQL` cut at each `$.`, so `title(alias:)` only joins.
    private let titlePieces: [Substring]
    /// Fields by name and by relation name, for the binder's lookups (every name in every command).
    private let fieldsByName: [String: FieldDefinition]
    private let fieldsByRelation: [String: FieldDefinition]
    public let indexes: [IndexDefinition]
    /// Table-level constraints beyond column ones (composite keys, CHECKs).
    public let tableConstraints: [String]
    /// Whether the language may query and change this entity (system tables are read-only).
    public let kind: Kind

    public enum Kind: Sendable { case domain, security, system }

    /// The fields in the order the table stores them: those of version 1 as declared, then each
    /// later version's in turn (see `FieldDefinition.since`).
    public var storedFields: [FieldDefinition] {
        fields.enumerated().sorted { ($0.element.since, $0.offset) < ($1.element.since, $1.offset) }.map(\.element)
    }

    public init(
        name: String, singular: String, fields: [FieldDefinition], naturalKey: [String],
        listFields: [String], titleSQL: String, indexes: [IndexDefinition] = [],
        tableConstraints: [String] = [], kind: Kind = .domain
    ) {
        self.name = name
        self.singular = singular
        self.fields = fields
        self.naturalKey = naturalKey
        self.listFields = listFields
        self.titleSQL = titleSQL
        var pieces: [Substring] = []
        var rest = titleSQL[...]
        while let marker = rest.firstRange(of: "$.") {
            pieces.append(rest[..<marker.lowerBound])
            rest = rest[marker.upperBound...]
        }
        pieces.append(rest)
        self.titlePieces = pieces
        self.fieldsByName = Dictionary(fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.fieldsByRelation = Dictionary(
            fields.compactMap { field in field.relationName.map { ($0, field) } }, uniquingKeysWith: { first, _ in first })
        self.indexes = indexes
        self.tableConstraints = tableConstraints
        self.kind = kind
    }

    public func field(named name: String) -> FieldDefinition? {
        fieldsByName[name]
    }

    /// The field for a relation name (`account` → `account_id`).
    public func relation(named name: String) -> FieldDefinition? {
        fieldsByRelation[name]
    }

    /// The title expression for a table aliased as `alias`.
    public func title(alias: String) -> String {
        var title = String(titlePieces[0])
        for piece in titlePieces.dropFirst() {
            title += alias
            title += "."
            title += piece
        }
        return title
    }

    public var hasOwner: Bool { field(named: "owner_id") != nil }
    public var hasAssignee: Bool { field(named: "assignee_id") != nil }
    public var hasUpdatedAt: Bool { field(named: "updated_at") != nil }
}
