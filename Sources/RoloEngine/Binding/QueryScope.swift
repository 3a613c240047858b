import RoloStore
import RoloSyntax

/// A column reached from the query's root entity, possibly through relations.
/// A class: every query passes its columns around several times, and a reference copies cheaply.
final class ColumnReference {
    /// SQL naming the column, e.g. `t1."name"`; `NULL` for a field the acting user may not read.
    /// A value the user may not see is NULL here, so it counts as empty in conditions, grouping,
    /// aggregates and ordering.
    let sql: String
    let field: FieldDefinition
    /// The entity that holds the field.
    let entity: EntityDefinition
    /// The path as the user wrote it, normalised (`account.name`), used as a column header.
    let path: String
    /// The alias of the table holding the field.
    let alias: String
    /// SQL that is true where the value exists but is hidden from the acting user (a related
    /// record outside their read scope, or a field they may not read); nil when never hidden.
    let hiddenSQL: String?
    /// For a path ending at a relation: the alias of the related record's (visibility-filtered) join.
    let targetAlias: String?
    /// The acting user may not read this field, or a relation on the way to it: it is NULL on
    /// every row (a hidden record, by contrast, hides it on some rows only).
    let denied: Bool

    init(
        sql: String, field: FieldDefinition, entity: EntityDefinition, path: String, alias: String, hiddenSQL: String? = nil,
        targetAlias: String? = nil, denied: Bool = false
    ) {
        self.denied = denied
        self.sql = sql
        self.field = field
        self.entity = entity
        self.path = path
        self.alias = alias
        self.hiddenSQL = hiddenSQL
        self.targetAlias = targetAlias
    }

    var type: FieldType { field.type }

    /// The table whose record numbers the column holds: its entity's for `id`, the related one's
    /// for a relation's number (`account_id`); nil for other columns.
    var numbersOf: String? {
        if field.name == "id" { return entity.name }
        if case .reference(let target) = field.type, path.hasSuffix("_id") { return target }
        return nil
    }

    /// SQL for showing `valueSQL` of this column: `(hidden)` where the user may not see it.
    func display(_ valueSQL: String) -> SQLFragment {
        guard let hiddenSQL else { return SQLFragment(valueSQL) }
        return Sql.when([(SQLFragment(hiddenSQL), Sql.value(Visibility.hiddenMarker))], else: SQLFragment(valueSQL))
    }
}

/// What the acting user may see of each entity a query reaches — one rule for every join.
///
/// A related record outside the user's read scope, or a field the user may not read, is never
/// visible: joins carry the read-scope filter in their `ON` clause and denied fields read as NULL,
/// so such values count as empty in conditions, grouping and aggregates, sort as empty, and show
/// as `(hidden)`.
struct Visibility {
    /// How a hidden value is shown, in every output format.
    static let hiddenMarker = "(hidden)"

    enum Records {
        case all
        case none
        /// A filter over the given alias.
        case filtered((String) -> SQLFragment)
    }

    /// Which records and fields of an entity the user may read.
    let rule: (EntityDefinition) -> (records: Records, hiddenFields: Set<String>)
}

extension Visibility.Records {
    /// The condition over `alias` that keeps a query to these records; nil for every record.
    func filter(alias: String) -> SQLFragment? {
        switch self {
        case .all: return nil
        case .none: return Sql.false
        case .filtered(let filter): return filter(alias)
        }
    }
}

/// The tables of one query: the root entity as `t0` and a LEFT JOIN per relation path used.
///
/// Paths like `contact.account.name` resolve field by field; each relation is joined once, and
/// every join is limited to the records the acting user may read (`Visibility`).
final class QueryScope {
    let root: EntityDefinition
    let rootAlias: String
    /// Aliases are the prefix and a number: `t0`, `t1`… for a query, `tc1_0`… for a subquery in it.
    let prefix: String
    private var children = 0
    let visibility: Visibility
    private var joins: [(path: String, alias: String, entity: EntityDefinition, on: SQLFragment)] = []
    /// Every column the query names.
    private(set) var referenced: [ReferencedColumn] = []
    /// Paths whose values some rows hide from the acting user, for the note under a table.
    private(set) var hiddenPaths: [String] = []
    private var rules: [String: (records: Visibility.Records, hiddenFields: Set<String>)] = [:]

    struct ReferencedColumn {
        let column: ColumnReference
        let range: SourceRange
    }

    init(root: EntityDefinition, visibility: Visibility, prefix: String = "t") {
        self.root = root
        self.visibility = visibility
        self.prefix = prefix
        self.rootAlias = prefix + "0"
    }

    /// A scope for a subquery over `entity` inside this one (`count(deals where …)`), with aliases
    /// of its own so its tables never shadow this query's.
    func child(root entity: EntityDefinition) -> QueryScope {
        children += 1
        return QueryScope(root: entity, visibility: visibility, prefix: "\(prefix)c\(children)_")
    }

    /// The joins, with their visibility filters (bound arguments in join order).
    var joinSQL: SQLFragment {
        var sql = SQLFragment("")
        for join in joins {
            sql = sql + Sql.leftJoin(join.entity.name, as: join.alias, on: join.on)
        }
        return sql
    }

    var hasJoins: Bool { !joins.isEmpty }

    private func rule(_ entity: EntityDefinition) -> (records: Visibility.Records, hiddenFields: Set<String>) {
        if let known = rules[entity.name] { return known }
        let rule = visibility.rule(entity)
        rules[entity.name] = rule
        return rule
    }

    /// The acting user's read-scope filter for `entity` over `alias`; nil when every record is readable.
    func readFilter(_ entity: EntityDefinition, alias: String) -> SQLFragment? {
        rule(entity).records.filter(alias: alias)
    }

    /// SQL true where the record at `alias` exists (the root always does).
    private func exists(_ alias: String) -> String {
        alias == rootAlias ? Sql.true.sql : Sql.isNotNull(Sql.id(alias)).sql
    }

    private static func or(_ a: String?, _ b: String) -> String {
        guard let a else { return b }
        return Sql.any(SQLFragment(a), SQLFragment(b)).sql
    }

    /// Resolves a dotted path. A leading root-entity name is allowed (`deals.amount`).
    /// A path that ends at a relation (`account`) names the related record's id — empty when the
    /// user may not read that record.
    func resolve(_ parts: [Located<String>]) throws -> ColumnReference {
        var parts = parts
        if parts.count > 1, parts[0].value == root.name || parts[0].value == root.singular {
            parts.removeFirst()
        }
        var entity = root
        var alias = rootAlias
        var walked: [String] = []
        // True where the record at `alias` is hidden (some hop on the way was out of scope).
        var hidden: String? = nil
        // A hop went through a relation the user may not read.
        var throughDenied = false
        for (index, part) in parts.enumerated() {
            let isLast = index == parts.count - 1
            let name = part.value
            if isLast {
                if let field = entity.field(named: name) ?? entity.relation(named: name) {
                    var path = name
                    if !walked.isEmpty { path = walked.joined(separator: ".") + "." + name }
                    let column = finalColumn(
                        field, of: entity, alias: alias, hidden: hidden, walked: walked, path: path, throughDenied: throughDenied)
                    let first = parts[0].range
                    referenced.append(ReferencedColumn(column: column, range: SourceRange(first.start, part.range.end)))
                    if column.hiddenSQL != nil, !hiddenPaths.contains(path) { hiddenPaths.append(path) }
                    return column
                }
            } else if let relation = entity.relation(named: name) ?? entity.field(named: name),
                let target = relation.referencedEntity, let targetEntity = CRMSchema.entity(named: target)
            {
                walked.append(relation.relationName ?? name)
                let fkHidden = rule(entity).hiddenFields.contains(relation.name)
                if fkHidden { throughDenied = true }
                let joined = join(
                    path: walked.joined(separator: "."), from: alias, via: relation, to: targetEntity, blocked: fkHidden)
                if let hides = joined.hides {
                    hidden = Self.or(hidden, fkHidden ? exists(alias) : hides)
                }
                alias = joined.alias
                entity = targetEntity
                continue
            }
            throw unknownField(part, in: entity, expectingRelation: !isLast)
        }
        throw Diagnostic(.unknownField, "empty field path", at: parts.first?.range)
    }

    /// The column at the end of a path: a denied field reads as NULL; a relation whose target
    /// is out of scope reads as the (filtered) join's id, so it is empty where hidden.
    private func finalColumn(
        _ field: FieldDefinition, of entity: EntityDefinition, alias: String, hidden: String?, walked: [String], path: String,
        throughDenied: Bool
    ) -> ColumnReference {
        if rule(entity).hiddenFields.contains(field.name) {
            return ColumnReference(
                sql: Sql.null.sql, field: field, entity: entity, path: path, alias: alias, hiddenSQL: Self.or(hidden, exists(alias)),
                denied: true)
        }
        if throughDenied {
            // Every record's value is hidden (the join is blocked); said so for set, which refuses it.
            let column = finalColumn(field, of: entity, alias: alias, hidden: hidden, walked: walked, path: path, throughDenied: false)
            return ColumnReference(
                sql: column.sql, field: field, entity: entity, path: path, alias: alias, hiddenSQL: column.hiddenSQL,
                targetAlias: column.targetAlias, denied: true)
        }
        if let target = field.referencedEntity, let targetEntity = CRMSchema.entity(named: target) {
            if case .all = rule(targetEntity).records {
                return ColumnReference(
                    sql: Sql.columnText(alias, field.name), field: field, entity: entity, path: path, alias: alias, hiddenSQL: hidden)
            }
            let relationPath = (walked + [field.relationName ?? field.name]).joined(separator: ".")
            let joined = join(path: relationPath, from: alias, via: field, to: targetEntity, blocked: false)
            return ColumnReference(
                sql: Sql.idText(joined.alias), field: field, entity: entity, path: path, alias: alias,
                hiddenSQL: joined.hides.map { Self.or(hidden, $0) } ?? hidden, targetAlias: joined.alias)
        }
        return ColumnReference(
            sql: Sql.columnText(alias, field.name), field: field, entity: entity, path: path, alias: alias, hiddenSQL: hidden)
    }

    /// Joins the relation's target for displaying it (its title), returning the target's alias.
    func joinForTitle(of column: ColumnReference) -> (alias: String, entity: EntityDefinition)? {
        guard let target = column.field.referencedEntity, let entity = CRMSchema.entity(named: target) else {
            return nil
        }
        if let targetAlias = column.targetAlias { return (targetAlias, entity) }
        let path = column.path.hasSuffix("_id") ? String(column.path.dropLast(3)) : column.path
        return (join(path: path, from: column.alias, via: column.field, to: entity, blocked: false).alias, entity)
    }

    /// Joins `entity` through `field`, limited to the records the user may read. `hides` is SQL
    /// true where the reference is set but the record is hidden; nil when nothing can be hidden.
    private func join(
        path: String, from alias: String, via field: FieldDefinition, to entity: EntityDefinition, blocked: Bool
    ) -> (alias: String, hides: String?) {
        let fk = Sql.columnText(alias, field.name)
        if let existing = joins.first(where: { $0.path == path }) {
            return (existing.alias, Self.hides(fk: fk, alias: existing.alias, records: rule(entity).records, blocked: blocked))
        }
        let newAlias = "\(prefix)\(joins.count + 1)"
        var on = Sql.equals(Sql.id(newAlias), SQLFragment(fk))
        let records = rule(entity).records
        if let filter = blocked ? Sql.false : records.filter(alias: newAlias) { on = Sql.and(on, filter) }
        joins.append((path, newAlias, entity, on))
        return (newAlias, Self.hides(fk: fk, alias: newAlias, records: records, blocked: blocked))
    }

    private static func hides(fk: String, alias: String, records: Visibility.Records, blocked: Bool) -> String? {
        if !blocked, case .all = records { return nil }
        return Sql.all([Sql.isNotNull(SQLFragment(fk)), Sql.isNull(Sql.id(alias))]).sql
    }

    private func unknownField(_ part: Located<String>, in entity: EntityDefinition, expectingRelation: Bool) -> Diagnostic {
        let candidates =
            expectingRelation
            ? entity.fields.compactMap(\.relationName) : Catalog.fieldNames(of: entity)
        var help: String
        if let near = Suggestions.nearest(to: part.value, in: candidates) {
            help = "did you mean '\(near)'?"
        } else if expectingRelation {
            let relations = entity.fields.compactMap(\.relationName)
            help =
                relations.isEmpty
                ? "\(entity.name) has no relations to follow"
                : "\(entity.name) relates to " + relations.joined(separator: ", ")
        } else {
            help = "\(entity.name) has " + entity.fields.map(\.name).joined(separator: ", ")
        }
        if expectingRelation, entity.field(named: part.value) != nil {
            return Diagnostic(
                .unknownRelation, "'\(part.value)' on \(entity.name) is a field, not a relation to follow",
                at: part.range, help: help)
        }
        let what = expectingRelation ? "relation" : "field"
        return Diagnostic(.unknownField, "unknown \(what) '\(part.value)' on \(entity.name)", at: part.range, help: help)
    }
}
