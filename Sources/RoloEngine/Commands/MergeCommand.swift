import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// `merge`: fold a duplicate into the record to keep.
///
///     merge := 'merge' entity key 'into' key
struct MergeCommand: Command {
    var entity: EntityName
    var from: Located<RecordKey>
    var into: Located<RecordKey>

    static let name = "merge"
    static let forms = [
        form("merge") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            let from = try parser.parseKey()
            guard parser.acceptWord("into") else { throw parser.failure(expected: "'into', e.g. merge contact 17 into 12") }
            return MergeCommand(entity: entity, from: from, into: try parser.parseKey())
        }
    ]
    static let synopsis = "merge ENTITY A into B"
    static let summary = "Keep B, fill its empty fields from A, move A's related records to B, delete A."
    static let examples = ["merge contact 17 into 12"]
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

    func merge(entityName: EntityName, from: Located<RecordKey>, into: Located<RecordKey>, dryRun: Bool = false) throws
        -> ChangeOutcome
    {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        let decision = try engine.access.require(.merge, entity, at: entityName.range)
        let source = try RecordLookup.id(of: from, in: entity, db: db, readableBy: engine)
        let target = try RecordLookup.id(of: into, in: entity, db: db, readableBy: engine)
        if source == target {
            throw Diagnostic(.invalidMerge, "cannot merge \(entity.singular) \(source) into itself", at: from.range.union(into.range))
        }
        let level = decision.scope ?? .own
        try engine.requireAllInScope(
            entity, filter: Sql.in(Sql.id("t0"), [Sql.value(source), Sql.value(target)]),
            action: .merge, scope: level, rule: decision.allowedBy, db: db, at: entityName.range)
        let conflicts = try mergeConflicts(entity, source: source, target: target, dryRun: dryRun)
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
        var outcome = ChangeOutcome(
            records: 1, verb: .merged, entity: entity,
            note: "\(entity.singular) \(source) \(dryRun ? "would be" : "was") merged into \(entity.singular) \(target) and removed")
        outcome.report = conflicts
        return outcome
    }

    /// The fields both records fill with different values: the kept record keeps its own, and the
    /// merged one's is dropped — said, so the person merging sees what goes. Fields the acting user
    /// may not read are left out; a related record is named by its title, as in a diff.
    private func mergeConflicts(_ entity: EntityDefinition, source: Int64, target: Int64, dryRun: Bool) throws -> [String] {
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
        return ["where both have a value, \(entity.singular) \(target) keeps its own:"] + lines
    }
}
