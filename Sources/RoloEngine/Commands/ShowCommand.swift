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
            return try engine.store.inDatabase { db in
                try AccessCommands(engine: engine, db: db).showRole(Located(name, reference.key.range), output: context.output)
            }
        }
        return try engine.store.inDatabase { db in
            try ShowRunner(engine: engine, db: db).run(reference, output: context.output)
        }
    }
}

/// `show ENTITY KEY`: one record as a card, with its related records.
struct ShowRunner {
    let engine: Engine
    let db: Database

    /// Related lists: which records count as open (a field in or outside some values), and how
    /// they are ordered.
    static let relatedFilters:
        [String: (title: String, filter: (field: String, values: [String], outside: Bool)?, order: (field: String, descending: Bool))] = [
            "deals": ("open deals", ("stage", ["won", "lost"], true), ("close_date", false)),
            "tasks": ("open tasks", ("status", ["open", "in_progress"], false), ("due_date", false)),
            "tickets": ("open tickets", ("status", ["resolved", "closed"], true), ("opened_at", true)),
            "activities": ("recent activities", nil, ("occurred_at", true)),
            "campaign_members": ("campaign memberships", nil, ("id", true)),
        ]

    /// The condition over `alias` that keeps the open records of `entity`, values bound; nil
    /// when `open` has no meaning for it.
    static func openFilter(_ entity: String, alias: String) -> SQLFragment? {
        guard let filter = relatedFilters[entity]?.filter else { return nil }
        let values = filter.values.map { Sql.value($0) }
        let column = Sql.column(alias, filter.field)
        return filter.outside ? Sql.notIn(column, values) : Sql.in(column, values)
    }

    func run(_ reference: RecordReference, output: OutputSink) throws -> CommandResult {
        let entity = try Catalog.entity(reference.entity)
        _ = try engine.access.require(.read, entity, at: reference.entity.range)
        let id = try RecordLookup.id(of: reference.key, in: entity, db: db, readableBy: engine)
        let hiddenFields = engine.access.readVisibility(entity).hiddenFields
        guard let row = try Row.fetchOne(db, Select(Sql.all, from: entity.name).where(Sql.equals(Sql.name("id"), Sql.value(id))).sql)
        else {
            throw Diagnostic(.unknownRecord, "there is no \(entity.singular) \(id)", at: reference.key.range)
        }
        let title = ValueFormatter.display(try String.fetchOne(db, RecordLookup.titleQuery(entity, id: id.databaseValue).sql) ?? "")
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
                let lookup = RecordLookup.titleQuery(targetEntity, id: value).where(engine.access.readFilter(targetEntity))
                if let row = try Row.fetchOne(db, lookup.sql) {
                    text = ValueFormatter.display((try row.decode(String?.self, atIndex: 0)) ?? "?") + " (\(targetEntity.singular) \(text))"
                } else {
                    text = Visibility.hiddenMarker
                }
            }
            let label = field.relationName ?? field.name
            output.line("  " + label + String(repeating: " ", count: max(1, width - label.count)) + (text.isEmpty ? "—" : text))
        }
        if !hidden.isEmpty {
            output.line(
                "  (\(hidden.joined(separator: ", ")) hidden: \(engine.access.actor.handle) may not read \(hidden.count == 1 ? "it" : "them"))")
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
        let roles = try String.fetchAll(db, RecordLookup.grants(user: Sql.value(id), column: Sql.column("r", "name")).sql)
        output.line("  roles" + String(repeating: " ", count: 8) + (roles.isEmpty ? "(none)" : roles.joined(separator: ", ")))
        var owned: [String] = []
        for entity in CRMSchema.entities where entity.kind == .domain && entity.hasOwner {
            // Only records the acting user may read are counted.
            if case .none = engine.access.readVisibility(entity).records { continue }
            let count = Select(Sql.countAll, from: entity.name, as: "t0")
                .where(Sql.equals(Sql.column("t0", "owner_id"), Sql.value(id))).where(engine.access.readFilter(entity))
            let n = try Int.fetchOne(db, count.sql) ?? 0
            if n > 0 { owned.append("\(n) \(entity.name)") }
        }
        output.line("  owns" + String(repeating: " ", count: 9) + (owned.isEmpty ? "nothing" : owned.joined(separator: ", ")))
    }

    private func relatedRecords(of entity: EntityDefinition, id: Int64, output: OutputSink) throws {
        for related in CRMSchema.entities where related.kind == .domain {
            for field in related.fields where field.referencedEntity == entity.name {
                let spec = Self.relatedFilters[related.name]
                let heading = spec?.title ?? related.name
                if case .none = engine.access.readVisibility(related).records {
                    output.line("")
                    output.line("\(heading): hidden (\(engine.access.actor.handle) may not read \(related.name))")
                    continue
                }
                var conditions = [Sql.equals(Sql.column("t0", field.name), Sql.value(id))]
                if let filter = Self.openFilter(related.name, alias: "t0") { conditions.append(filter) }
                let cardConditions = conditions  // the list below adds the scope filter itself
                if let scoped = engine.access.readFilter(related) { conditions.append(scoped) }
                var count = Select(Sql.countAll, from: related.name, as: "t0")
                count.conditions = conditions
                let total = try Int.fetchOne(db, count.sql) ?? 0
                output.line("")
                let of = field.relationName.map { $0 == entity.singular ? "" : " (as \($0))" } ?? ""
                output.line("\(heading)\(of): " + (total == 0 ? "none" : total > 5 ? "5 of \(total)" : "\(total)"))
                guard total > 0 else { continue }
                var query = FindQuery(entity: Located(related.name, SourceRange(.start, .start)))
                query.limit = Located(5, SourceRange(.start, .start))
                let order = [spec.map { Sql.order(Sql.column("t0", $0.order.field), descending: $0.order.descending) } ?? Sql.id("t0")]
                let compiled = try FindRunner(engine: engine, db: db).compile(query, extra: cardConditions, order: order)
                var writer: any ResultWriter = TableWriter(output: output)
                _ = try stream(compiled, into: &writer, db: db)
            }
        }
    }
}
