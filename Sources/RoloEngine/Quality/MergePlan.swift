import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// A merge plan (`dedupe … to PLAN.rolo`): a readable Rolo script, one `merge` line per group of
/// duplicates with the group's score, reasons and records in comments above it. The admin reviews
/// it, deletes a line to skip a group, previews it with `run PLAN.rolo --dry-run` and runs it: one
/// transaction, one change set, undone whole by `undo`. Its first statement, `require database`,
/// stops it on any other database before anything is merged.
struct MergePlan {
    /// How a merge plan begins, so `apply` can tell one from a plan file.
    static let firstLinePrefix = "# Rolo merge plan: "
    static let membersTable = "rolo_merge_members"
    /// Which record survives (`keep`), or whose value a field takes (`prefer … from`).
    enum Keep: String, Equatable, Sendable {
        case oldest, newest
        case mostComplete = "most complete"

        static func parse(_ parser: inout Parser, allowComplete: Bool) throws(Diagnostic) -> Keep {
            if parser.acceptWord("oldest") { return .oldest }
            if parser.acceptWord("newest") { return .newest }
            if allowComplete, parser.acceptWord("most") {
                guard parser.acceptWord("complete") else { throw parser.failure(expected: "'complete', as in keep most complete") }
                return .mostComplete
            }
            throw parser.failure(expected: allowComplete ? "oldest, newest or most complete" : "newest or oldest")
        }
    }

    struct Preference: Equatable, Sendable {
        var field: Located<String>
        var from: Keep
    }

    let entity: EntityDefinition
    /// Each group's record numbers.
    let groups: [[Int64]]
    let scores: [(Double, [String])]
    let keep: Keep
    let prefer: [Preference]
    let threshold: Double

    /// Checks the plan's options before any work: the fields preferred exist and may be read, the
    /// file may be written.
    static func check(_ prefer: [Preference], entity: EntityDefinition, path: Located<String>?, context: CommandContext) throws {
        _ = try preferredFields(prefer, entity: entity, engine: context.engine)
        if let path {
            do {
                try OutputFile.check(
                    path: path.value, kind: .recording, overwrite: context.statement.hasOption("force"), protected: context.engine.protectedFiles)
            } catch {
                throw error.diagnostic(path, outcome: "nothing was written", example: "merge-plan.rolo")
            }
        }
    }

    private static func preferredFields(_ prefer: [Preference], entity: EntityDefinition, engine: Engine) throws -> [(FieldDefinition, Keep)] {
        var preferred: [(FieldDefinition, Keep)] = []
        for preference in prefer {
            guard let field = entity.field(named: preference.field.value), !field.system, field.name != "id" else {
                throw Diagnostic(
                    .unknownField, "unknown field '\(preference.field.value)' on \(entity.name)", at: preference.field.range,
                    help: Suggestions.nearest(to: preference.field.value, in: Catalog.fieldNames(of: entity)).map { "did you mean '\($0)'?" })
            }
            if engine.access.readVisibility(entity).hiddenFields.contains(field.name) {
                throw Diagnostic(
                    .permissionDenied, "\(engine.access.actor.handle) may not read \(entity.name).\(field.name)", at: preference.field.range)
            }
            preferred.append((field, preference.from))
        }
        return preferred
    }

    /// Writes the plan; returns how many merge lines it holds.
    func write(to path: Located<String>, context: CommandContext) throws -> Int {
        let (engine, statement) = (context.engine, context.statement)
        let preferred = try Self.preferredFields(prefer, entity: entity, engine: engine)
        let file: OutputFile
        do {
            file = try OutputFile(path: path.value, kind: .recording, overwrite: statement.hasOption("force"), protected: engine.protectedFiles)
        } catch {
            throw error.diagnostic(path, outcome: "nothing was written", example: "merge-plan.rolo")
        }
        let identity = try PlanFile.ensureDatabaseIdentity(context.store)
        let fields = entity.fields.filter { !$0.system && $0.name != "owner_id" }
        let hidden = engine.access.readVisibility(entity).hiddenFields
        var merges = 0
        do {
            let name = URL(fileURLWithPath: context.store.path).lastPathComponent
            let extra = groups.reduce(0) { $0 + $1.count - 1 }
            file.write(
                """
                \(Self.firstLinePrefix)\(TerminalText.safe(statement.text))
                # made \(engine.clock.now().description) by \(engine.access.actor.handle) on \(name): \(groups.count) \(groups.count == 1 ? "group" : "groups"), \(extra) \(extra == 1 ? entity.singular : entity.name) to merge away
                # (threshold \(DedupeCommand.decimal(threshold)); the \(keep.rawValue) record of each group is kept, the others fill its empty fields)
                #
                # Review it: each group's score, reasons and records are in the comments above its merge
                # line. Delete a merge line (or put # before it) to skip that group. Then preview and run:
                #   run "\(path.value)" --dry-run
                #   run "\(path.value)"
                # It runs as one transaction and one change set: `undo` reverts every merge in it.

                # This plan runs only on the database it was made for.
                require database "\(identity)"

                """)
            try context.store.inDatabase { db in
                // Every member's values in one read: their numbers into a temporary table, then one join.
                struct Member {
                    var id: Int64
                    var created: String
                    var title: String
                    var values: [DatabaseValue]
                    var filled: Int
                }
                try db.execute(SchemaSQL.dropTemporaryTable(Self.membersTable))
                try db.execute(SchemaSQL.createTemporaryTable(Self.membersTable, key: "id", columns: []))
                let insert = DirectStatement(statement: try db.makeStatement(sql: Insert.prepared(into: Self.membersTable, columns: ["id"]).sql))
                for id in Set(groups.joined()) {
                    try insert.bind([id.databaseValue])
                    _ = try insert.step()
                }
                insert.finish()
                var byID: [Int64: Member] = [:]
                let query = Select(
                    [Sql.id("t0"), Sql.column("t0", "created_at"), SQLFragment(entity.title(alias: "t0"))] + fields.map { Sql.column("t0", $0.name) },
                    from: entity.name, as: "t0"
                ).where(Sql.in(Sql.id("t0"), Select(Sql.name("id"), from: Self.membersTable)))
                let cursor = try Row.fetchCursor(db, query.sql)
                while let row = try cursor.next() {
                    let values = (0..<fields.count).map { row[$0 + 3] as DatabaseValue }
                    let filled = values.filter { value in
                        !value.isNull && !(String.fromDatabaseValue(value)?.trimmingCharacters(in: .whitespaces).isEmpty ?? false)
                    }.count
                    let id: Int64 = try row.decode(atIndex: 0)
                    byID[id] = Member(
                        id: id, created: (try row.decode(atIndex: 1)) ?? "", title: (try row.decode(atIndex: 2)) ?? "", values: values, filled: filled)
                }
                try db.execute(SchemaSQL.dropTemporaryTable(Self.membersTable))
                for (index, group) in groups.enumerated() {
                    let members = group.sorted().compactMap { byID[$0] }
                    guard members.count > 1 else { continue }
                    // Oldest first, then by number: the order `newest` reverses and `most complete` ranks.
                    let byAge = members.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
                    let ranked: [Member]
                    switch keep {
                    case .oldest: ranked = byAge
                    case .newest: ranked = byAge.reversed()
                    case .mostComplete:
                        ranked = byAge.enumerated().sorted { ($0.element.filled, -$0.offset) > ($1.element.filled, -$1.offset) }.map(\.element)
                    }
                    let survivor = ranked[0]
                    let (score, reasons) = scores[index]
                    file.write("\n# group \(index + 1) · score \(DedupeCommand.decimal(score)) · \(reasons.joined(separator: ", "))\n")
                    for member in members {
                        let title = member.title
                        let values = fields.enumerated().compactMap { offset, field -> String? in
                            guard ["email", "phone", "company", "website", "name"].contains(field.name), !hidden.contains(field.name),
                                let text = String.fromDatabaseValue(member.values[offset]), !text.isEmpty
                            else { return nil }
                            return TerminalText.safe(text)
                        }
                        let role = member.id == survivor.id ? "  (kept: the \(keep.rawValue))" : ""
                        file.write("#   \(entity.singular) \(member.id) (\(TerminalText.safe(title))), created \(member.created.prefix(10)): \(values.joined(separator: " · "))\(role)\n")
                    }
                    let others = ranked.dropFirst().map { String($0.id) }.joined(separator: ", ")
                    file.write("merge \(entity.name) \(others) into \(survivor.id)\n")
                    merges += 1
                    for (field, from) in preferred {
                        guard let offset = fields.firstIndex(where: { $0.name == field.name }) else { continue }
                        let order = from == .newest ? byAge.reversed() : byAge
                        guard let source = order.first(where: { member in
                            let value = member.values[offset]
                            return !value.isNull && !(String.fromDatabaseValue(value)?.isEmpty ?? false)
                        }), source.values[offset] != survivor.values[offset] else { continue }
                        file.write(
                            "update \(entity.singular) \(survivor.id) set \(field.relationName ?? field.name) = \(try literal(source.values[offset], field, db: db))  # the \(from.rawValue) value, from \(entity.singular) \(source.id)\n"
                        )
                    }
                }
            }
            try file.commit(overwrite: statement.hasOption("force"))
        } catch {
            file.abandon()
            if let error = error as? OutputFileError { throw error.diagnostic(path, outcome: "nothing was written", example: "merge-plan.rolo") }
            throw error
        }
        return merges
    }

    /// A value as the language writes it: a string in quotes, a number as is, a related record by number.
    private func literal(_ value: DatabaseValue, _ field: FieldDefinition, db: Database) throws -> String {
        switch value.storage {
        case .int64(let n): return field.type == .money ? ValueFormatter.display(value, field.type) : String(n)
        case .double(let d): return String(d)
        case .string(let text): return Engine.quotedLiteral(text)
        default: return "empty"
        }
    }
}
