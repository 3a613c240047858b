import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// An import's columns: the header mapped to fields (by name, synonym and `map`), each with its
/// converter, and related entities read once by natural key.
extension ImportJob {
    // MARK: - Columns

    /// A column of the file that goes into a field.
    struct Column {
        let index: Int
        let header: String
        let field: FieldDefinition
        let converter: CellConverter
        let reference: ReferenceTable?
    }

    /// A related entity's records by natural key (lower-cased), read once: `account` by name, `owner` by handle.
    final class ReferenceTable {
        let entity: EntityDefinition
        var byKey: [String: Int64] = [:]
        var ambiguous: Set<String> = []
        var ids: Set<Int64> = []
        /// `create missing accounts`: unknown names become new records.
        var createsMissing = false
        var created = 0
        /// The entity's validation rules, read at the first record to create.
        var rules: [ValidationRule]? = nil
        /// Names whose record could not be created (lower-cased), and why.
        var refused: [String: String] = [:]
        /// users only: each user's team, for the assign scope.
        var teams: [Int64: Int64] = [:]

        init(_ entity: EntityDefinition) { self.entity = entity }
    }

    func diagnostic(_ code: DiagnosticCode, _ message: String, help: String? = nil) -> Diagnostic {
        Diagnostic(code, message, at: command.path.range, help: help)
    }

    /// Maps the header to columns: by name and synonym, `map` first; refuses unknown and repeated ones.
    func plan(header: [String]) throws -> (columns: [Column], ignored: [String]) {
        var mapped: [String: String] = [:]  // normalized header → field or "skip"
        for mapping in command.mappings {
            guard header.contains(where: { $0 == mapping.header.value }) else {
                let near = Suggestions.nearest(to: mapping.header.value, in: header)
                throw Diagnostic(
                    .unmappedColumn, "\(file) has no column \"\(mapping.header.value)\"", at: mapping.header.range,
                    help: near.map { "did you mean \"\($0)\"?" } ?? "its columns are " + header.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            if mapping.field.value != "skip" {
                guard entity.field(named: mapping.field.value) ?? entity.relation(named: mapping.field.value) != nil else {
                    let near = Suggestions.nearest(to: mapping.field.value, in: Catalog.fieldNames(of: entity))
                    throw Diagnostic(
                        .unknownField, "unknown field '\(mapping.field.value)' on \(entity.name)", at: mapping.field.range,
                        help: near.map { "did you mean '\($0)'?" } ?? "map a column to `skip` to leave it out")
                }
            }
            mapped[mapping.header.value] = mapping.field.value
        }
        let auditFields = engine.access.decide(.setAuditFields, on: entity.name).isAllowed
        var columns: [Column] = []
        var ignored: [String] = []
        var references: [String: ReferenceTable] = [:]
        let order = command.dates.flatMap { CellConverter.DateOrder(rawValue: $0.value) }
        for (index, header) in header.enumerated() {
            let field: FieldDefinition?
            if let name = mapped[header] {
                if name == "skip" { continue }
                field = entity.field(named: name) ?? entity.relation(named: name)
            } else {
                field = HeaderMatching.field(for: header, in: entity)
            }
            guard let field else {
                if header.trimmingCharacters(in: .whitespaces).isEmpty, columns.isEmpty, index == 0 {
                    throw diagnostic(.importFileMalformed, "\(file):1: the header's first column has no name")
                }
                let near = Suggestions.nearest(to: HeaderMatching.normalized(header), in: Catalog.fieldNames(of: entity))
                var help =
                    near.map { "did you mean \($0)? add map \"\(header.clippedForMessage)\" = \($0)" }
                    ?? "add map \"\(header.clippedForMessage)\" = FIELD, or map \"\(header.clippedForMessage)\" = skip"
                if header.contains(";") || header.contains("\t") {
                    let named = header.contains(";") ? "\";\"" : "tab"
                    help = "the file looks separated by \(named == "tab" ? "tabs" : "semicolons"): add separator \(named)"
                }
                throw Diagnostic(
                    .unmappedColumn, "\(file):1: column \"\(header.clippedForMessage)\" matches no field of \(entity.name)", at: command.path.range,
                    help: help)
            }
            if let earlier = columns.first(where: { $0.field === field }) {
                throw diagnostic(
                    .unmappedColumn,
                    "\(file):1: columns \"\(earlier.header.clippedForMessage)\" and \"\(header.clippedForMessage)\" both mean \(field.relationName ?? field.name)",
                    help: "map one of them to skip: map \"\(header.clippedForMessage)\" = skip")
            }
            if field.system {
                // Rolo's own fields: the number only to match by (`key id`), the dates with set_audit_fields.
                let isID = field.name == "id"
                guard isID ? command.key?.value == "id" : (field.name == "created_at" || field.name == "updated_at") && auditFields else {
                    ignored.append(
                        "\"\(header.clippedForMessage)\" "
                            + (isID
                                ? "(record numbers are Rolo's; key id matches by number)"
                                : "(\(field.name) is set by Rolo; keeping it needs set_audit_fields)"))
                    continue
                }
                columns.append(
                    Column(
                        index: index, header: header, field: field, converter: CellConverter(field: field, dateOrder: order),
                        reference: nil))
                continue
            }
            var reference: ReferenceTable? = nil
            if let target = field.referencedEntity, let targetEntity = CRMSchema.entity(named: target) {
                if let known = references[target] {
                    reference = known
                } else {
                    reference = try loadReferences(targetEntity)
                    references[target] = reference
                }
            }
            columns.append(
                Column(
                    index: index, header: header, field: field, converter: CellConverter(field: field, dateOrder: order),
                    reference: reference))
        }
        if let missing = command.createMissing {
            let target = try Catalog.entity(missing)
            guard let table = references[target.name] else {
                throw Diagnostic(
                    .invalidValue, "no column of \(file) names \(target.name), so there are none to create", at: missing.range)
            }
            guard target.naturalKey.count == 1, target.field(named: target.naturalKey[0])?.type == .text,
                target.kind == .domain
            else {
                throw Diagnostic(.invalidValue, "missing \(target.name) cannot be created from a name", at: missing.range)
            }
            // A name and an owner are all a created record gets: an entity needing more (a
            // campaign's channel, a deal's stage) is imported first, on its own.
            let needed = target.fields.filter {
                $0.required && !$0.system && $0.sqlDefault == nil && $0.name != target.naturalKey[0] && $0.name != "owner_id"
            }
            if !needed.isEmpty {
                throw Diagnostic(
                    .invalidValue,
                    "missing \(target.name) cannot be created from a name alone: a new \(target.singular) needs "
                        + needed.map { $0.relationName ?? $0.name }.joined(separator: " and "), at: missing.range,
                    help: "import the \(target.name) first (import \(target.name) from FILE), then this file")
            }
            _ = try engine.access.require(.create, target, at: missing.range)
            table.createsMissing = true
        }
        return (columns, ignored)
    }

    /// Reads the readable records of `target` by natural key (and number).
    func loadReferences(_ target: EntityDefinition) throws -> ReferenceTable {
        let table = ReferenceTable(target)
        let key = target.naturalKey.first
        var columns = [Sql.id("t0")]
        if let key { columns.append(Sql.column("t0", key)) }
        if target.name == "users" { columns.append(Sql.column("t0", "team_id")) }
        let query = Select(columns, from: target.name, as: "t0").where(engine.access.readFilter(target))
        let cursor = try Row.fetchCursor(db, query.sql)
        while let row = try cursor.next() {
            let id: Int64 = try row.decode(atIndex: 0)
            table.ids.insert(id)
            if key != nil, let name: String = try row.decode(atIndex: 1) {
                let folded = name.lowercased()
                if table.byKey.updateValue(id, forKey: folded) != nil { table.ambiguous.insert(folded) }
            }
            if target.name == "users", let team: Int64 = try row.decode(atIndex: 2) { table.teams[id] = team }
        }
        return table
    }
}
