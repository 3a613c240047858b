import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// `merge`: fold duplicates into the record to keep — one or a whole group in one step.
///
///     merge := 'merge' entity key {',' key} 'into' key
struct MergeCommand: Command {
    var entity: EntityName
    /// The records folded in, in order: the first fills the kept record's empty fields first.
    var from: [Located<RecordKey>]
    var into: Located<RecordKey>

    static let name = "merge"
    static let forms = [
        form("merge") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            var from = [try parser.parseKey()]
            while parser.acceptSymbol(.comma) { from.append(try parser.parseKey()) }
            guard parser.acceptWord("into") else { throw parser.failure(expected: "'into', e.g. merge contact 17 into 12") }
            return MergeCommand(entity: entity, from: from, into: try parser.parseKey())
        }
    ]
    static let synopsis = "merge ENTITY A[, A2, …] into B"
    static let summary = "Keep B, fill its empty fields from A (then A2 …), move their related records to B, delete them; a group in one step."
    static let examples = ["merge contact 17 into 12", "merge contacts 2880, 2942 into 434 --dry-run"]
    static let actions: [PermissionAction] = [.merge]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).merge(
                entityName: entity, from: from, into: into, dryRun: context.engine.isDryRun(context.statement))
        }
    }
}

/// The record work of a merge, on the change path the other record changes share.
extension ChangeCommands {
    // MARK: - merge

    func merge(entityName: EntityName, from: [Located<RecordKey>], into: Located<RecordKey>, dryRun: Bool = false) throws
        -> ChangeOutcome
    {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        let decision = try engine.access.require(.merge, entity, at: entityName.range)
        let target = try RecordLookup.id(of: into, in: entity, db: db, readableBy: engine)
        var sources: [Int64] = []
        for key in from {
            let source = try RecordLookup.id(of: key, in: entity, db: db, readableBy: engine)
            if source == target {
                throw Diagnostic(.invalidMerge, "cannot merge \(entity.singular) \(source) into itself", at: key.range.union(into.range))
            }
            if sources.contains(source) {
                throw Diagnostic(.invalidMerge, "\(entity.singular) \(source) is named twice", at: key.range)
            }
            sources.append(source)
        }
        let level = decision.scope ?? .own
        try engine.requireAllInScope(
            entity, filter: Sql.in(Sql.id("t0"), (sources + [target]).map { Sql.value($0) }),
            action: .merge, scope: level, rule: decision.allowedBy, db: db, at: entityName.range)
        var report: [String] = []
        for source in sources {
            report += try merge(entity, source: source, into: target, naming: sources.count > 1, dryRun: dryRun)
        }
        let merged = sources.map(String.init).joined(separator: ", ")
        var outcome = ChangeOutcome(
            records: sources.count, verb: .merged, entity: entity,
            note: "\(entity.singular) \(merged) \(dryRun ? "would be" : sources.count == 1 ? "was" : "were") merged into \(entity.singular) \(target) and removed")
        outcome.report = report
        return outcome
    }

    /// Folds one record into the kept one: its values fill the kept record's empty fields, its
    /// related records move, it is deleted. Returns what the kept record kept over it.
    private func merge(_ entity: EntityDefinition, source: Int64, into target: Int64, naming: Bool, dryRun: Bool) throws -> [String] {
        let conflicts = try mergeConflicts(entity, source: source, target: target, naming: naming, dryRun: dryRun)
        // The kept record fills its empty fields from the merged one.
        var fills: [(FieldDefinition, SQLFragment)] = []
        for field in entity.fields where !field.system && field.name != "owner_id" {
            let column = Sql.column("t0", field.name)
            let empty = field.type.isTextual ? Sql.isBlank(column) : Sql.isNull(column)
            let merged = Select(Sql.column("s", field.name), from: entity.name, as: "s").where(Sql.idEquals("s", source))
            fills.append((field, Sql.when([(empty, Sql.subquery(merged))], else: column)))
        }
        _ = try recorder.update(entity, filter: Sql.idEquals("t0", target), set: fills)
        // Related records move to the kept record.
        for other in CRMSchema.entities where other.kind == .domain {
            for field in other.fields where field.referencedEntity == entity.name {
                _ = try recorder.update(
                    other, filter: Sql.equals(Sql.column("t0", field.name), Sql.value(source)),
                    set: [(field, .value(target))])
            }
        }
        _ = try recorder.delete(entity, filter: Sql.idEquals("t0", source))
        return conflicts
    }

    /// The fields both records fill with different values: the kept record keeps its own, and the
    /// merged one's is dropped — said, so the person merging sees what goes. Fields the acting user
    /// may not read are left out; a related record is named by its title, as in a diff.
    private func mergeConflicts(_ entity: EntityDefinition, source: Int64, target: Int64, naming: Bool, dryRun: Bool) throws -> [String] {
        let hidden = engine.access.readVisibility(entity).hiddenFields
        let fields = entity.fields.filter { !$0.system && $0.name != "owner_id" && !hidden.contains($0.name) }
        guard !fields.isEmpty else { return [] }
        func values(_ id: Int64) throws -> Row? {
            try Row.fetchOne(db, Select(Select.columns(fields.map(\.name)), from: entity.name).where(Sql.equals(Sql.name("id"), Sql.value(id))).sql)
        }
        guard let kept = try values(target), let merged = try values(source) else { return [] }
        func blank(_ value: DatabaseValue, _ field: FieldDefinition) -> Bool {
            value.isNull || (field.type.isTextual && ValueFormatter.display(value, field.type).trimmingCharacters(in: .whitespaces).isEmpty)
        }
        var lines: [String] = []
        for (index, field) in fields.enumerated() {
            let (mine, theirs) = (kept[index] as DatabaseValue, merged[index] as DatabaseValue)
            guard !blank(mine, field), !blank(theirs, field), mine != theirs else { continue }
            if field.type == .email, ValueFormatter.display(mine, field.type).lowercased() == ValueFormatter.display(theirs, field.type).lowercased() {
                continue
            }
            let would = dryRun ? "would be " : ""
            lines.append(
                "  \(field.relationName ?? field.name): \(try recorder.describe(mine, field)) \(would)kept, "
                    + "\(try recorder.describe(theirs, field)) \(would)dropped")
        }
        guard !lines.isEmpty else { return [] }
        let over = naming ? " over \(entity.singular) \(source)'s" : ""
        return ["where both have a value, \(entity.singular) \(target) keeps its own\(over):"] + lines
    }
}
