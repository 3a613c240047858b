import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// The import's set-based checks over the staged rows: matching by key, rows repeating a key,
/// required fields of new records, the update scope, and rows whose records break a rule.
extension ImportJob {
    func count(_ condition: SQLFragment) throws -> Int {
        try Int.fetchOne(db, Select(Sql.countAll, from: Self.staging).where(condition).sql) ?? 0
    }

    var target: SQLFragment { Sql.column(Self.staging, Self.targetColumn) }
    var line: SQLFragment { Sql.column(Self.staging, Self.lineColumn) }

    /// Matches rows to records by the key (case-insensitively for text): the record's number, or
    /// minus the count when several records match. Reports rows whose key an earlier row has,
    /// looking only at the `candidates` (`RepeatedKeys`: no other row can repeat a key).
    mutating func match(keyField: FieldDefinition?, candidates: [Int]) throws -> Int {
        guard let keyField else { return 0 }
        let keyHeader = command.key?.value ?? keyField.name
        let stagedKey = Sql.column(Self.staging, keyField.name)
        let recordKey = Sql.column("t0", keyField.name)
        let textual = keyField.type.isTextual
        let same = textual ? Sql.caseInsensitiveEquals(recordKey, stagedKey) : Sql.equals(recordKey, stagedKey)
        let matches = Select(
            Sql.when(
                [
                    (Sql.equals(Sql.countAll, Sql.value(1)), Sql.aggregate(.min, Sql.id("t0"))),
                    (Sql.compare(Sql.countAll, .greater, Sql.value(1)), Sql.negate(Sql.countAll)),
                ], else: Sql.null),
            from: entity.name, as: "t0"
        ).where(same).where(engine.access.readFilter(entity))
        try db.execute(
            Update(Self.staging, set: [(Self.targetColumn, Sql.subquery(matches))]).where(Sql.isNotNull(stagedKey)).sql)
        // Several records with that key.
        let ambiguous = Select(line, stagedKey, Sql.negate(target), from: Self.staging).where(Sql.compare(target, .less, Sql.value(0)))
        try reportKeyProblems(
            ambiguous.ordered(by: line), keyField, .invalidValue, kind: "matches several \(entity.name); the key must pick one"
        ) { [entity] row in
            "matches \(try row.decode(Int.self, atIndex: 2)) \(entity.name); the key must pick one"
        }
        // Rows repeating an earlier row's key: of the candidates, those with an earlier line
        // holding an equal key.
        if !candidates.isEmpty {
            try db.execute(SchemaSQL.createTemporaryIndex(Self.staging, column: keyField.name, noCase: textual))
            let earlierKey =
                textual
                ? Sql.caseInsensitiveEquals(Sql.column("s2", keyField.name), stagedKey)
                : Sql.equals(Sql.column("s2", keyField.name), stagedKey)
            let earlier = Select(Sql.aggregate(.min, Sql.column("s2", Self.lineColumn)), from: Self.staging, as: "s2")
                .where(earlierKey).where(Sql.compare(Sql.column("s2", Self.lineColumn), .less, line))
            for start in stride(from: 0, to: candidates.count, by: 500) {
                let part = candidates[start..<min(start + 500, candidates.count)]
                let repeated = Select(line, stagedKey, Sql.subquery(earlier), from: Self.staging)
                    .where(Sql.in(line, part.map { Sql.value($0) })).where(Sql.isNotNull(Sql.subquery(earlier)))
                try reportKeyProblems(
                    repeated.ordered(by: line), keyField, .duplicateRow, kind: "repeats an earlier row's \(keyHeader)", earlier: true
                ) { row in
                    "repeats row \(try row.decode(Int.self, atIndex: 2))'s \(keyHeader)"
                }
            }
        }
        if duplicates == .error {
            let existing = Select(line, stagedKey, target, from: Self.staging).where(Sql.compare(target, .greater, Sql.value(0)))
            try reportKeyProblems(
                existing.ordered(by: line), keyField, .duplicateRow, kind: "is already another \(entity.singular)'s (on duplicate error)"
            ) { [entity] row in
                "is already \(entity.singular) \(try row.decode(Int64.self, atIndex: 2))'s (on duplicate error)"
            }
        }
        return try count(Sql.compare(target, .greater, Sql.value(0)))
    }

    /// Logs a problem with the key for each row of `query` (line, key, detail), in its order;
    /// `kind` is the reason the summary groups them by, `earlier` whether the detail is an earlier line.
    mutating func reportKeyProblems(
        _ query: Select, _ keyField: FieldDefinition, _ code: DiagnosticCode, kind: String, earlier: Bool = false,
        reason: (Row) throws -> String
    ) throws {
        for row in try Row.fetchAll(db, query.sql) {
            try problems.add(
                Problem(
                    line: try row.decode(atIndex: 0), column: header(of: keyField), value: try keyText(row.decode(atIndex: 1), keyField), code: code,
                    reason: try reason(row), kindReason: kind, earlierLine: earlier ? try row.decode(Int.self, atIndex: 2) : nil),
                file: file, at: command.path.range)
        }
    }

    /// A staged key as the file gave it: a related record by its title (the cell named it so, or
    /// by number), other values as export writes them.
    func keyText(_ value: DatabaseValue, _ field: FieldDefinition) throws -> String? {
        if value.isNull { return nil }
        if let target = field.referencedEntity.flatMap(CRMSchema.entity(named:)),
            let title = try String.fetchOne(db, RecordLookup.titleQuery(target, id: value).sql)
        {
            return title
        }
        return ValueFormatter.raw(value, field.type)
    }

    func header(of field: FieldDefinition) -> String { headers[field.name] ?? field.relationName ?? field.name }

    /// New records need their required fields: rows that match nothing and leave one empty.
    mutating func checkNewRows(columns: [Column], keyField: FieldDefinition?) throws {
        let fresh = Sql.isNull(target)
        if let keyField, keyField.name == "id" {
            // Matching by number only updates: a number no record has is a mistake, not a new record.
            let unknown = Select(line, Sql.column(Self.staging, "id"), from: Self.staging).where(fresh)
            for row in try Row.fetchAll(db, unknown.ordered(by: line).sql) {
                try problems.add(
                    Problem(
                        line: try row.decode(atIndex: 0), column: header(of: keyField), value: try keyText(row.decode(atIndex: 1), keyField),
                        code: .unknownRecord,
                        reason: "is no \(entity.singular)'s number"),
                    file: file, at: command.path.range)
            }
            return
        }
        let required = entity.fields.filter { $0.required && !$0.system && $0.sqlDefault == nil && $0.name != "owner_id" }
        for field in required {
            let name = field.relationName ?? field.name
            guard let column = columns.first(where: { $0.field === field }) else {
                // No column at all: only an error if some row would be created.
                if try count(fresh) > 0 {
                    let first =
                        try Int.fetchOne(db, Select(Sql.aggregate(.min, Sql.name(Self.lineColumn)), from: Self.staging).where(fresh).sql)
                        ?? 0
                    throw diagnostic(
                        .requiredField,
                        "\(file)\(keyField == nil ? "" : ":\(first)"): a new \(entity.singular) needs \(name), and the file has no column for it; nothing was imported",
                        help: "add a column \(name) (or map \"Header\" = \(name))")
                }
                continue
            }
            let empty = Select(line, from: Self.staging).where(fresh).where(Sql.isNull(Sql.column(Self.staging, field.name)))
            for row in try Row.fetchAll(db, empty.ordered(by: line).sql) {
                try problems.add(
                    Problem(
                        line: try row.decode(atIndex: 0), column: column.header, value: nil, code: .requiredField,
                        reason: "is empty, and a new \(entity.singular) needs \(name)"),
                    file: file, at: command.path.range)
            }
        }
    }

    /// Rows matching a record outside the user's update scope are bad rows, named by line (and
    /// the record's owner, where it has one), not a refusal of the whole file.
    mutating func checkUpdateScope(_ rights: Rights, keyField: FieldDefinition) throws {
        guard rights.updateLevel != .all, let scoped = engine.access.policy.scopeFilter(rights.updateLevel, on: entity, alias: "t0") else {
            return
        }
        // The owner's handle, where the entity has owners (NULL otherwise).
        let owner = entity.hasOwner ? Sql.column("u", "handle") : Sql.null
        var query = Select([line, Sql.column(Self.staging, keyField.name), Sql.id("t0"), owner], from: Self.staging)
            .joining(Sql.innerJoin(entity.name, as: "t0", on: Sql.equals(Sql.id("t0"), target)))
        if entity.hasOwner {
            query = query.joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.id("u"), Sql.column("t0", "owner_id"))))
        }
        let (actor, level) = (engine.access.actor.handle, rights.updateLevel.name)
        try reportKeyProblems(
            query.where(Sql.notTrue(scoped)).ordered(by: line), keyField, .permissionDenied,
            kind: "matches a record outside \(actor)'s \(level) scope for updates"
        ) { [entity] row in
            let owner = try row.decode(String?.self, atIndex: 3).map { "belongs to \($0), " } ?? "is "
            return "matches \(entity.singular) \(try row.decode(Int64.self, atIndex: 2)), which \(owner)outside \(actor)'s \(level) scope for updates"
        }
    }

    func requireUpdateScope(_ rights: Rights) throws {
        let matched = Sql.in(
            Sql.id("t0"), Select(Sql.name(Self.targetColumn), from: Self.staging).where(Sql.isNotNull(Sql.name(Self.targetColumn))))
        try engine.requireAllInScope(
            entity, filter: matched, action: .update, scope: rights.updateLevel, rule: rights.updateRule, db: db,
            at: command.entity.range)
    }

    /// Logs each record that breaks a rule as a problem of its row.
    mutating func logRowsBreakingRules(_ breaking: [(id: Int64, rule: ValidationRule)], highest: Int64) throws {
        let freshLines = try Int.fetchAll(
            db,
            Select(Sql.name(Self.lineColumn), from: Self.staging).where(Sql.isNull(Sql.name(Self.targetColumn)))
                .ordered(by: Sql.name(Self.lineColumn)).sql)
        let matchedIDs = breaking.map(\.id).filter { $0 <= highest }
        var matchedLines: [Int64: Int] = [:]
        for chunk in stride(from: 0, to: matchedIDs.count, by: 500) {
            let part = matchedIDs[chunk..<min(chunk + 500, matchedIDs.count)]
            let rows = try Row.fetchAll(
                db,
                Select(Select.columns([Self.targetColumn, Self.lineColumn]), from: Self.staging)
                    .where(Sql.in(Sql.name(Self.targetColumn), part.map { Sql.value($0) })).sql)
            for row in rows { matchedLines[try row.decode(atIndex: 0)] = try row.decode(Int.self, atIndex: 1) }
        }
        let found: [(line: Int, rule: ValidationRule)] = breaking.compactMap { id, rule in
            if id > highest {
                let index = Int(id - highest) - 1
                return index < freshLines.count ? (freshLines[index], rule) : nil
            }
            return matchedLines[id].map { ($0, rule) }
        }
        for (line, rule) in found.sorted(by: { ($0.line, $0.rule.id) < ($1.line, $1.rule.id) }) {
            let column = rule.field.flatMap { entity.field(named: $0) }.map { header(of: $0) }
            try problems.add(
                Problem(
                    line: line, column: column, value: nil, code: .ruleBroken,
                    reason: "breaks rule \(rule.id): \(rule.message ?? rule.text)"),
                file: file, at: command.path.range)
        }
    }

    /// Removes rows found bad by the set-based checks from the staging table.
    func dropRejected() throws {
        let lines = problems.reasons.keys.sorted()
        guard !lines.isEmpty else { return }
        for chunk in stride(from: 0, to: lines.count, by: 500) {
            let part = lines[chunk..<min(chunk + 500, lines.count)]
            try db.execute(Delete(from: Self.staging).where(Sql.in(Sql.name(Self.lineColumn), part.map { Sql.value($0) })).sql)
        }
    }

}
