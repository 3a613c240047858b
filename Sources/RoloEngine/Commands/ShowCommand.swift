import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// `show`: one record as a card (or a role's rules).
///
///     show := 'show' entity key
struct ShowCommand: Command {
    var reference: RecordReference

    static let name = "show"
    static let forms = [form("show") { parser, _ throws(Diagnostic) in ShowCommand(reference: try parser.parseRecordReference()) }]
    static let synopsis = "show ENTITY NUMBER|\"NATURAL KEY\""
    static let summary = "One record as a card, with its related records (open deals, recent activities, open tasks and tickets)."
    static let examples = ["show contact 42", "show user admin", "show account \"Acme\""]
    static let actions: [PermissionAction] = [.read]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        if ["role", "roles"].contains(reference.entity.value) {
            guard case .natural(let name) = reference.key.value else {
                throw Diagnostic(.unknownRole, "roles are named, e.g. show role sales_rep", at: reference.key.range)
            }
            return try engine.store.dbQueue.inDatabase { db in
                try AccessCommands(engine: engine, db: db).showRole(Located(name, reference.key.range), output: context.output)
            }
        }
        return try engine.store.dbQueue.inDatabase { db in
            try ShowRunner(engine: engine, db: db).run(reference, output: context.output)
        }
    }
}

/// `show ENTITY KEY`: one record as a card, with its related records.
struct ShowRunner {
    let engine: Engine
    let db: Database

    /// Related lists: which records count as open, and how they are ordered.
    static let relatedFilters: [String: (title: String, filter: String?, order: String)] = [
        "deals": ("open deals", "stage NOT IN ('won', 'lost')", "close_date"),
        "tasks": ("open tasks", "status IN ('open', 'in_progress')", "due_date"),
        "tickets": ("open tickets", "status NOT IN ('resolved', 'closed')", "opened_at DESC"),
        "activities": ("recent activities", nil, "occurred_at DESC"),
        "campaign_members": ("campaign memberships", nil, "id DESC"),
    ]

    func run(_ reference: RecordReference, output: OutputSink) throws -> CommandResult {
        let entity = try Catalog.entity(reference.entity)
        _ = try engine.require(.read, entity, at: reference.entity.range)
        let id = try RecordLookup.id(of: reference.key, in: entity, db: db, readableBy: engine)
        let hiddenFields = engine.readVisibility(entity).hiddenFields
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM \(SQLDialect.quote(entity.name)) WHERE id = ?", arguments: [id]) else {
            throw Diagnostic(.unknownRecord, "there is no \(entity.singular) \(id)", at: reference.key.range)
        }
        let title =
            try String.fetchOne(
                db, sql: "SELECT \(entity.title(alias: "t")) FROM \(SQLDialect.quote(entity.name)) t WHERE t.id = ?", arguments: [id]) ?? ""
        output.line("\(entity.singular) \(id)" + (title.isEmpty ? "" : ": \(title)"))
        let fields = entity.fields.filter { $0.name != "id" }
        let width = (fields.map { ($0.relationName ?? $0.name).count }.max() ?? 10) + 2
        var hidden: [String] = []
        for field in fields {
            if hiddenFields.contains(field.name) {
                hidden.append(field.name)
                continue
            }
            let value: DatabaseValue = row[field.name]
            var text = ValueFormatter.display(value, field.type)
            if let target = field.referencedEntity, let targetEntity = CRMSchema.entity(named: target), !value.isNull {
                // A related record the user may not read shows as hidden, title and number alike.
                let lookup =
                    SQLFragment(
                        "SELECT \(targetEntity.title(alias: "t0")) FROM \(SQLDialect.quote(target)) t0 WHERE t0.id = ?", [value])
                    + engine.readFilter(targetEntity).andClause
                if let row = try Row.fetchOne(db, sql: lookup.sql, arguments: lookup.statementArguments) {
                    text = ((row[0] as String?) ?? "?") + " (\(targetEntity.singular) \(text))"
                } else {
                    text = Visibility.hiddenMarker
                }
            }
            let label = field.relationName ?? field.name
            output.line("  " + label + String(repeating: " ", count: max(1, width - label.count)) + (text.isEmpty ? "—" : text))
        }
        if !hidden.isEmpty {
            output.line(
                "  (\(hidden.joined(separator: ", ")) hidden: \(engine.actor.handle) may not read \(hidden.count == 1 ? "it" : "them"))")
        }
        if entity.name == "users" {
            try userDetails(id, output: output)
        } else if entity.kind == .domain {
            try relatedRecords(of: entity, id: id, output: output)
        }
        var result = CommandResult()
        result.rows = 1
        return result
    }

    private func userDetails(_ id: Int64, output: OutputSink) throws {
        let roles = try String.fetchAll(
            db, sql: "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? ORDER BY r.name",
            arguments: [id])
        output.line("  roles" + String(repeating: " ", count: 8) + (roles.isEmpty ? "(none)" : roles.joined(separator: ", ")))
        var owned: [String] = []
        for entity in CRMSchema.entities where entity.kind == .domain && entity.hasOwner {
            // Only records the acting user may read are counted.
            if case .none = engine.readVisibility(entity).records { continue }
            let count =
                SQLFragment("SELECT count(*) FROM \(SQLDialect.quote(entity.name)) AS t0 WHERE t0.owner_id = ?", [id.databaseValue])
                + engine.readFilter(entity).andClause
            let n = try Int.fetchOne(db, sql: count.sql, arguments: count.statementArguments) ?? 0
            if n > 0 { owned.append("\(n) \(entity.name)") }
        }
        output.line("  owns" + String(repeating: " ", count: 9) + (owned.isEmpty ? "nothing" : owned.joined(separator: ", ")))
    }

    private func relatedRecords(of entity: EntityDefinition, id: Int64, output: OutputSink) throws {
        for related in CRMSchema.entities where related.kind == .domain {
            for field in related.fields where field.referencedEntity == entity.name {
                let spec = Self.relatedFilters[related.name]
                let heading = spec?.title ?? related.name
                if case .none = engine.readVisibility(related).records {
                    output.line("")
                    output.line("\(heading): hidden (\(engine.actor.handle) may not read \(related.name))")
                    continue
                }
                var conditions = [SQLFragment("t0.\(SQLDialect.quote(field.name)) = ?", [id.databaseValue])]
                if let filter = spec?.filter { conditions.append(SQLFragment("t0." + filter)) }
                let cardConditions = conditions  // the list below adds the scope filter itself
                if let scoped = engine.readFilter(related) { conditions.append(scoped) }
                let whereSQL = SQLFragment.joined(conditions, separator: " AND ")
                let total =
                    try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM \(SQLDialect.quote(related.name)) AS t0 WHERE " + whereSQL.sql,
                        arguments: whereSQL.statementArguments) ?? 0
                output.line("")
                let of = field.relationName.map { $0 == entity.singular ? "" : " (as \($0))" } ?? ""
                output.line("\(heading)\(of): " + (total == 0 ? "none" : total > 5 ? "5 of \(total)" : "\(total)"))
                guard total > 0 else { continue }
                var query = FindQuery(entity: Located(related.name, SourceRange(.start, .start)))
                query.limit = Located(5, SourceRange(.start, .start))
                let order = (spec?.order ?? "id").split(separator: ",").map { "t0." + $0.trimmingCharacters(in: .whitespaces) }
                let compiled = try FindRunner(engine: engine, db: db).compile(query, extra: cardConditions, order: order)
                var writer: any ResultWriter = TableWriter(output: output)
                _ = try stream(compiled, into: &writer, db: db)
            }
        }
    }
}
