import RoloStore
import RoloSyntax

/// A column reached from the query's root entity, possibly through relations.
/// A class: every query passes its columns around several times, and a reference copies cheaply.
final class ColumnReference {
    /// SQL naming the column, e.g. `t1."name"`.
    let sql: String
    let field: FieldDefinition
    /// The entity that holds the field.
    let entity: EntityDefinition
    /// The path as the user wrote it, normalised (`account.name`), used as a column header.
    let path: String
    /// The alias of the table holding the field.
    let alias: String

    init(sql: String, field: FieldDefinition, entity: EntityDefinition, path: String, alias: String) {
        self.sql = sql
        self.field = field
        self.entity = entity
        self.path = path
        self.alias = alias
    }

    var type: FieldType { field.type }
}

/// The tables of one query: the root entity as `t0` and a LEFT JOIN per relation path used.
///
/// Paths like `contact.account.name` resolve field by field; each relation is joined once.
final class QueryScope {
    let root: EntityDefinition
    let rootAlias = "t0"
    private var joins: [(path: String, alias: String, entity: EntityDefinition, on: String)] = []
    /// Every column the query names, for permission checks on fields and related entities.
    private(set) var referenced: [ReferencedColumn] = []

    struct ReferencedColumn {
        let column: ColumnReference
        let range: SourceRange
    }

    init(root: EntityDefinition) {
        self.root = root
    }

    var joinSQL: String {
        joins.map { " LEFT JOIN \(SQLDialect.quote($0.entity.name)) AS \($0.alias) ON \($0.on)" }.joined()
    }

    var hasJoins: Bool { !joins.isEmpty }

    /// Resolves a dotted path. A leading root-entity name is allowed (`deals.amount`).
    /// A path that ends at a relation (`account`) names the relation's id column.
    func resolve(_ parts: [Located<String>]) throws -> ColumnReference {
        var parts = parts
        if parts.count > 1, parts[0].value == root.name || parts[0].value == root.singular {
            parts.removeFirst()
        }
        var entity = root
        var alias = rootAlias
        var walked: [String] = []
        for (index, part) in parts.enumerated() {
            let isLast = index == parts.count - 1
            let name = part.value
            if isLast {
                if let field = entity.field(named: name) ?? entity.relation(named: name) {
                    var path = name
                    if !walked.isEmpty { path = walked.joined(separator: ".") + "." + name }
                    let column = ColumnReference(
                        sql: alias + "." + field.quotedName, field: field, entity: entity, path: path, alias: alias)
                    let first = parts[0].range
                    referenced.append(ReferencedColumn(column: column, range: SourceRange(first.start, part.range.end)))
                    return column
                }
            } else if let relation = entity.relation(named: name) ?? entity.field(named: name),
                let target = relation.referencedEntity, let targetEntity = CRMSchema.entity(named: target)
            {
                walked.append(relation.relationName ?? name)
                alias = join(path: walked.joined(separator: "."), from: alias, via: relation, to: targetEntity)
                entity = targetEntity
                continue
            }
            throw unknownField(part, in: entity, expectingRelation: !isLast)
        }
        throw Diagnostic(.unknownField, "empty field path", at: parts.first?.range)
    }

    /// Joins the relation's target for displaying it (its title), returning the target's alias.
    func joinForTitle(of column: ColumnReference) -> (alias: String, entity: EntityDefinition)? {
        guard let target = column.field.referencedEntity, let entity = CRMSchema.entity(named: target) else {
            return nil
        }
        let path = column.path.hasSuffix("_id") ? String(column.path.dropLast(3)) : column.path
        return (join(path: path + "#title", from: column.alias, via: column.field, to: entity), entity)
    }

    private func join(path: String, from alias: String, via field: FieldDefinition, to entity: EntityDefinition) -> String {
        if let existing = joins.first(where: { $0.path == path }) { return existing.alias }
        let newAlias = "t\(joins.count + 1)"
        joins.append((path, newAlias, entity, "\(newAlias).id = \(alias).\(SQLDialect.quote(field.name))"))
        return newAlias
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
