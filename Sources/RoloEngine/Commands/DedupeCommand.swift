import GRDB
import RoloStore
import RoloSyntax

/// `dedupe contacts [by FIELD, …] [threshold X] [where …]`: groups of records that are one person
/// (or one company) written more than once, each with its score and reasons (issue 22, item 2;
/// the detector is Quality/DuplicateDetector.swift). It reads only: merging a group is `merge`.
///
///     dedupe := 'dedupe' entity ['by' field {',' field}] ['threshold' NUMBER] ['where' condition]
struct DedupeCommand: Command {
    var entity: EntityName
    var fields: [Located<String>]
    var threshold: Located<String>?
    var condition: Condition?
    /// Which record of a group survives a merge plan's merge.
    var keep: MergePlan.Keep = .oldest
    /// Fields whose value comes from the newest (or oldest) record that has one.
    var prefer: [MergePlan.Preference] = []
    /// `to PLAN.rolo`: write the merge plan there.
    var plan: Located<String>?

    static let name = "dedupe"
    static let forms = [
        form("dedupe") { parser, _ throws(Diagnostic) in
            var command = DedupeCommand(entity: try parser.parseEntity(), fields: [], threshold: nil, condition: nil)
            // The clauses, in any order.
            while !parser.atStatementEnd {
                if parser.acceptWord("by") {
                    command.fields = try parser.parseNames("fields to compare, e.g. dedupe contacts by email, phone")
                } else if parser.acceptWord("threshold") {
                    guard case .number(let text) = parser.current.kind else {
                        throw parser.failure(expected: "a score from 0 to 1 after threshold, e.g. threshold 0.9")
                    }
                    command.threshold = Located(text, parser.advance().range)
                } else if parser.acceptWord("keep") {
                    command.keep = try MergePlan.Keep.parse(&parser, allowComplete: true)
                } else if parser.acceptWord("prefer") {
                    repeat {
                        let field = try parser.parseName("a field, e.g. prefer title from newest")
                        guard parser.acceptWord("from") else { throw parser.failure(expected: "'from newest' or 'from oldest'") }
                        command.prefer.append(MergePlan.Preference(field: field, from: try MergePlan.Keep.parse(&parser, allowComplete: false)))
                    } while parser.acceptSymbol(.comma)
                } else if parser.acceptWord("where") {
                    command.condition = try parser.parseCondition()
                } else if parser.acceptWord("to") {
                    guard let path = parser.stringValue(parser.current) else {
                        throw parser.failure(expected: "a file for the merge plan, e.g. to \"merge-plan.rolo\"")
                    }
                    command.plan = Located(path, parser.advance().range)
                } else {
                    throw parser.failure(expected: "by, threshold, keep, prefer, where or to")
                }
            }
            return command
        }
    ]
    static let synopsis =
        "dedupe ENTITY [by FIELD, …] [threshold X] [where CONDITION] [keep oldest|newest|most complete] [prefer FIELD from newest|oldest, …] [to PLAN.rolo]"
    static let summary =
        "Groups of duplicate records (contacts, leads, accounts), each with its score and reasons: same email or phone (format aside), names alike (Jaro–Winkler), the same company (suffixes aside)."
    static let examples = [
        "dedupe contacts where account = \"Acme\"", "dedupe contacts by email, phone threshold 0.9",
    ]
    static let actions: [PermissionAction] = [.read]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]

    /// The fields each entity is compared on, as the detector names them.
    static let comparable: [String: [(field: String, as: String)]] = [
        "contacts": [("first_name", "first"), ("last_name", "last"), ("email", "email"), ("phone", "phone"), ("company", "company")],
        "leads": [("first_name", "first"), ("last_name", "last"), ("email", "email"), ("phone", "phone"), ("company", "company")],
        "accounts": [("name", "company"), ("website", "website"), ("phone", "phone")],
    ]
    static let defaultThreshold = 0.8

    func run(_ context: CommandContext) throws -> CommandResult {
        let (engine, output) = (context.engine, context.output)
        let entity = try Catalog.entity(self.entity)
        guard let comparable = Self.comparable[entity.name] else {
            throw Diagnostic(
                .usage, "dedupe compares contacts, leads and accounts, not \(entity.name)", at: self.entity.range,
                help: "e.g. dedupe contacts")
        }
        _ = try engine.access.require(.read, entity, at: self.entity.range)
        try MergePlan.check(prefer, entity: entity, path: plan, context: context)
        var threshold = Self.defaultThreshold
        if let given = self.threshold {
            guard let value = Double(given.value), (0...1).contains(value) else {
                throw Diagnostic(.invalidValue, "threshold \(given.value) is outside 0–1", at: given.range, help: "e.g. threshold 0.9")
            }
            threshold = value
        }
        var chosen = comparable
        if !fields.isEmpty {
            chosen = []
            for name in fields {
                guard let item = comparable.first(where: { $0.field == name.value.lowercased() }) else {
                    let known = comparable.map(\.field)
                    let isField = entity.field(named: name.value) != nil
                    throw Diagnostic(
                        isField ? .usage : .unknownField,
                        isField ? "dedupe does not compare \(entity.name) by \(name.value)" : "unknown field '\(name.value)' on \(entity.name)",
                        at: name.range,
                        help: Suggestions.nearest(to: name.value, in: known).map { "did you mean '\($0)'?" }
                            ?? "\(entity.name) compare by " + known.joined(separator: ", "))
                }
                chosen.append(item)
            }
        }
        // A field the user may not read is not compared (its values would leak through the groups).
        let hidden = engine.access.readVisibility(entity).hiddenFields
        let unseen = chosen.filter { hidden.contains($0.field) }.map(\.field)
        chosen.removeAll { hidden.contains($0.field) }
        if chosen.isEmpty {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not read the fields dedupe compares on \(entity.name)",
                at: self.entity.range)
        }

        let scope = engine.access.queryScope(entity)
        let titles = comparable.map(\.field)
        let records: [DuplicateDetector.Record] = try context.store.inDatabase { db in
            var filters: [SQLFragment] = []
            if let condition {
                let sql = try engine.binder(db, scope: scope).condition(condition)
                filters.append(
                    scope.hasJoins ? Sql.in(Sql.id("t0"), Select(Sql.id("t0"), from: entity.name, as: "t0").joining(scope.joinSQL).where(sql)) : sql)
            }
            if let readable = engine.access.readFilter(entity) { filters.append(readable) }
            let query = Select([Sql.id("t0")] + titles.map { Sql.column("t0", $0) }, from: entity.name, as: "t0")
                .where(filters.isEmpty ? nil : Sql.all(filters.map(Sql.group))).ordered(by: Sql.id("t0"))
            var records: [DuplicateDetector.Record] = []
            let cursor = try Row.fetchCursor(db, query.sql)
            while let row = try cursor.next() {
                var record = DuplicateDetector.Record(id: try row.decode(atIndex: 0))
                for (index, item) in comparable.enumerated() where !hidden.contains(item.field) {
                    let value: String = (try row.decode(String?.self, atIndex: index + 1)) ?? ""
                    switch item.as {
                    case "first": record.first = value
                    case "last": record.last = value
                    case "email": record.email = value
                    case "phone": record.phone = value
                    case "website": record.website = value
                    default: record.company = value
                    }
                }
                records.append(record)
            }
            return records
        }
        var detector = DuplicateDetector(records: records, threshold: threshold, fields: Set(chosen.map(\.as)))
        let groups = detector.groups()

        let extra = groups.reduce(0) { $0 + $1.members.count - 1 }
        let compared = chosen.map(\.field).joined(separator: ", ")
        output.line(
            groups.isEmpty
                ? "no duplicates among \(records.count) \(entity.name) (compared by \(compared), threshold \(Self.decimal(threshold)))"
                : "\(groups.count) \(groups.count == 1 ? "group" : "groups") of duplicates among \(records.count) \(entity.name) (compared by \(compared), threshold \(Self.decimal(threshold))): \(extra) \(extra == 1 ? "record" : "records") would merge into another")
        if !unseen.isEmpty {
            output.line("(\(unseen.joined(separator: ", ")) not compared: \(engine.access.actor.handle) may not read \(unseen.count == 1 ? "it" : "them"))")
        }
        if detector.skippedBlocks > 0 {
            output.line("(\(detector.skippedBlocks) blocks of more than \(DuplicateDetector.largestBlock) alike records were not paired: narrow with where)")
        }
        let shown = 20
        for (number, group) in groups.prefix(shown).enumerated() {
            output.line()
            output.line("group \(number + 1) · score \(Self.decimal(group.score)) · " + group.reasons.joined(separator: ", "))
            for member in group.members {
                let record = records[member]
                let name = [record.first, record.last].filter { !$0.isEmpty }.joined(separator: " ")
                let values = [record.email, record.phone, record.company, record.website].filter { !$0.isEmpty }
                output.line(
                    "  \(entity.singular) \(record.id)" + (name.isEmpty ? "" : " (\(TerminalText.safe(name)))") + ": "
                        + values.map { TerminalText.safe($0) }.joined(separator: " · "))
            }
        }
        if groups.count > shown {
            output.line()
            output.line("… and \(groups.count - shown) more groups (\(groups.count) in all; narrow with where, or raise the threshold)")
        }
        if let plan {
            let written = try MergePlan(
                entity: entity, groups: groups.map { $0.members.map { records[$0].id } }, scores: groups.map { ($0.score, $0.reasons) },
                keep: keep, prefer: prefer, threshold: threshold
            ).write(to: plan, context: context)
            output.line()
            output.line(
                "merge plan written to \(plan.value): \(written) \(written == 1 ? "merge" : "merges"), one per group; review it, then run \"\(plan.value)\" --dry-run")
        }
        var result = CommandResult()
        result.rows = groups.count
        return result
    }

    static func decimal(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
