import GRDB
import RoloStore
import RoloSyntax

/// `normalize contacts email, phone, company [where …]`: one spelling for values that mean the
/// same (issue 22, item 3) — emails trimmed and lower-cased, phones in E.164 (national numbers
/// read with `set region`), companies' legal suffixes in the spelling most used, names and titles
/// in single spaces with casing fixed where a value is all capitals or all lower case. A change
/// like `update`: the update right on each field, per-record diffs, one change set, undo,
/// `--dry-run`, the confirmation above the threshold.
///
///     normalize := 'normalize' entity field {',' field} ['where' condition]
struct NormalizeCommand: Command {
    var entity: EntityName
    var fields: [Located<String>]
    var condition: Condition?

    static let name = "normalize"
    static let forms = [
        form("normalize") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            let fields = try parser.parseNames("a field to normalize, e.g. normalize contacts email, phone")
            let condition = parser.acceptWord("where") ? try parser.parseCondition() : nil
            return NormalizeCommand(entity: entity, fields: fields, condition: condition)
        }
    ]
    static let synopsis = "normalize ENTITY FIELD, … [where CONDITION]"
    static let summary =
        "One spelling per value: emails trimmed and lower-cased, phones in E.164 (set region US reads national numbers), company suffixes as most used, names and titles spaced and cased. Undoable; --dry-run previews."
    static let examples = [
        "normalize contacts company --dry-run --quiet",
        "normalize contacts company, title where account = \"Acme\" --dry-run",
    ]
    static let actions: [PermissionAction] = [.update]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).normalize(
                entityName: entity, fields: fields, condition: condition, region: context.session.settings.region)
        }
    }
}

extension ChangeCommands {
    static let normalizeTable = "rolo_normalized"

    /// How `field` is normalised, or why it cannot be.
    static func normalizeKind(of field: FieldDefinition, in entity: EntityDefinition, at range: SourceRange) throws -> Normalizer.Kind {
        if field.type == .email { return .email }
        guard field.type == .text else {
            throw Diagnostic(
                .usage, "\(entity.name).\(field.relationName ?? field.name) is not text; normalize works on text, email and phone fields",
                at: range)
        }
        if field.name.contains("phone") { return .phone }
        if field.name == "company" || (entity.name == "accounts" && field.name == "name") { return .company }
        return .words
    }

    func normalize(entityName: EntityName, fields names: [Located<String>], condition: Condition?, region: String?) throws
        -> ChangeOutcome
    {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        var fields: [(field: FieldDefinition, kind: Normalizer.Kind, range: SourceRange)] = []
        for name in names {
            guard let field = entity.field(named: name.value) else {
                let near = Suggestions.nearest(to: name.value, in: Catalog.fieldNames(of: entity))
                throw Diagnostic(
                    .unknownField, "unknown field '\(name.value)' on \(entity.name)", at: name.range,
                    help: near.map { "did you mean '\($0)'?" })
            }
            if fields.contains(where: { $0.field.name == field.name }) {
                throw Diagnostic(.invalidValue, "\(field.name) is named twice", at: name.range)
            }
            fields.append((field, try Self.normalizeKind(of: field, in: entity, at: name.range), name.range))
        }
        if entity.kind != .domain {
            throw Diagnostic(.readOnlyField, "\(entity.name) are kept by Rolo or by the user commands, not normalized", at: entityName.range)
        }
        let (level, rule, decision) = try allowedScope(.update, entity, fields: fields.map { ($0.field, $0.range) }, at: entityName.range)
        let hidden = engine.access.readVisibility(entity).hiddenFields
        if let unseen = fields.first(where: { hidden.contains($0.field.name) }) {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not read \(entity.name).\(unseen.field.name), so cannot normalize it",
                at: unseen.range)
        }
        let scope = engine.access.queryScope(entity)
        let filter = try self.filter(
            for: .matching(condition), entity: entity, scope: scope, binder: engine.binder(db, scope: scope), action: .update,
            decision: decision, level: level, rule: rule, range: entityName.range)

        // The values as they are, read once.
        var ids: [Int64] = []
        var values: [[String?]] = fields.map { _ in [] }
        let query = Select([Sql.id("t0")] + fields.map { Sql.column("t0", $0.field.name) }, from: entity.name, as: "t0")
            .where(filter).ordered(by: Sql.id("t0"))
        let cursor = try Row.fetchCursor(db, query.sql)
        while let row = try cursor.next() {
            ids.append(try row.decode(atIndex: 0))
            for index in fields.indices { values[index].append(try row.decode(atIndex: index + 1)) }
        }

        var changedRecords = Set<Int64>()
        var report: [String] = []
        for (index, item) in fields.enumerated() {
            var unreadable: [(Int64, String)] = []
            var spellings: [String: String] = [:]
            if item.kind == .company {
                var counts: [String: Int] = [:]
                for case let value? in values[index] { counts[value, default: 0] += 1 }
                spellings = Normalizer.companySpellings(counts)
            }
            var changes: [(Int64, String)] = []
            for (row, old) in values[index].enumerated() {
                guard let old, !old.isEmpty else { continue }
                let new: String?
                switch item.kind {
                case .email: new = Normalizer.email(old)
                case .phone: new = Normalizer.phone(old, region: region)
                case .company: new = spellings[old].map(Normalizer.words)
                case .words: new = Normalizer.words(old)
                }
                guard let new else {
                    unreadable.append((ids[row], old))
                    continue
                }
                if new != old, !new.isEmpty { changes.append((ids[row], new)) }
            }
            try write(changes, to: item.field, of: entity)
            changedRecords.formUnion(changes.map(\.0))
            if !unreadable.isEmpty {
                let (id, example) = unreadable[0]
                report.append(
                    "\(unreadable.count) \(item.field.name) \(unreadable.count == 1 ? "value" : "values") could not be read as one phone number and \(unreadable.count == 1 ? "was" : "were") left as \(unreadable.count == 1 ? "it is" : "they are") (e.g. \(entity.singular) \(id): \"\(example)\")"
                        + (region == nil ? "; numbers without + need a region: set region US (or another country code)" : ""))
            }
        }
        var outcome = ChangeOutcome(records: changedRecords.count, verb: .normalized, entity: entity)
        outcome.report = report
        if changedRecords.isEmpty, !ids.isEmpty {
            outcome.nothingNote = ["\(ids.count) \(ids.count == 1 ? entity.singular : entity.name) matched, every one already normalized"] + report
        }
        return outcome
    }

    /// Writes one field's new values through the recorder: a temporary table keyed by record
    /// number, read by one UPDATE (field history, change set, rules as for any update).
    private func write(_ changes: [(Int64, String)], to field: FieldDefinition, of entity: EntityDefinition) throws {
        guard !changes.isEmpty else { return }
        try db.execute(SchemaSQL.dropTemporaryTable(Self.normalizeTable))
        try db.execute(SchemaSQL.createTemporaryTable(Self.normalizeTable, key: "id", columns: ["new"]))
        let insert = DirectStatement(statement: try db.makeStatement(sql: Insert.prepared(into: Self.normalizeTable, columns: ["id", "new"]).sql))
        for (id, value) in changes {
            try insert.bind([id.databaseValue, value.databaseValue])
            _ = try insert.step()
        }
        insert.finish()
        let value = Sql.subquery(Select(Sql.column("v", "new"), from: Self.normalizeTable, as: "v").where(Sql.equals(Sql.id("v"), Sql.id("t0"))))
        _ = try recorder.update(entity, filter: Sql.in(Sql.id("t0"), Select(Sql.name("id"), from: Self.normalizeTable)), set: [(field, value)])
        try db.execute(SchemaSQL.dropTemporaryTable(Self.normalizeTable))
    }
}
