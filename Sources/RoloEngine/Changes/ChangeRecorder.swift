import GRDB
import RoloStore
import RoloSyntax

/// Records one change set: every changing command writes through this, so each change gets a
/// field-history row per changed field (old → new), one change set and, after it, one audit entry.
///
/// History rows are written *before* the data changes, from the same filter, so they hold the
/// old values; the per-record diffs a command prints are read back from them — for a dry-run too.
final class ChangeRecorder {
    let db: Database
    let userID: Int64
    let impersonator: Int64?
    let command: String
    let now: String
    private var openedID: Int64?

    /// Nothing is written until the first change: a command refused by its checks leaves no trace
    /// but its audit entry.
    /// The acting user's read filter per entity, so diffs never name a record they may not read.
    var readFilter: ((EntityDefinition) -> SQLFragment?)? = nil
    /// Joined an open change set (a script's or transaction's), rather than opening one.
    private(set) var joined = false
    /// History rows of this statement have ids above this (a joined change set holds earlier ones).
    private var historyFloor: Int64 = 0

    /// With `joining`, the statement's changes go into that change set: a script or a
    /// `begin … commit` is one change set, undone as one.
    init(db: Database, actor: Actor, impersonator: Int64?, command: String, now: String, joining: Int64? = nil) throws {
        self.db = db
        self.userID = actor.id
        self.impersonator = impersonator
        self.command = command
        self.now = now
        if let joining {
            openedID = joining
            joined = true
            historyFloor = try Int64.fetchOne(db, sql: "SELECT max(id) FROM field_history") ?? 0
        }
    }

    /// The change set's number, opening it on first use.
    var changeSetID: Int64 {
        get throws {
            if let openedID { return openedID }
            try db.execute(
                sql: "INSERT INTO change_sets (user_id, impersonator_id, command, records, created_at) VALUES (?, ?, ?, 0, ?)",
                arguments: [userID, impersonator, command, now])
            openedID = db.lastInsertedRowID
            return db.lastInsertedRowID
        }
    }

    /// The change set's number if anything has been written.
    var existingChangeSetID: Int64? { openedID }

    /// References whose records cannot live without the deleted one: they are deleted with it.
    static let dependentReferences: Set<String> = [
        "campaign_members.lead_id", "campaign_members.contact_id", "campaign_members.campaign_id",
    ]

    private var historyInsert: String {
        "INSERT INTO field_history (change_set_id, entity, record_id, op, field, old_value, new_value, user_id, changed_at) "
    }

    /// Updates the records matching `filter` (over alias t0), recording each changed field.
    /// - Returns: how many records changed (records whose new values equal the old are left alone).
    func update(_ entity: EntityDefinition, filter: SQLFragment?, set assignments: [(field: FieldDefinition, value: SQLFragment)]) throws
        -> Int
    {
        let table = Sql.quote(entity.name)
        let base = filter.andClause
        let changeSetID = try self.changeSetID
        for (field, value) in assignments {
            let column = "t0." + Sql.quote(field.name)
            let sql =
                SQLFragment(
                    historyInsert + "SELECT ?, ?, t0.id, 'update', ?, \(column), ",
                    [changeSetID.databaseValue, entity.name.databaseValue, field.name.databaseValue])
                + value + SQLFragment(", ?, ? FROM \(table) AS t0 WHERE (", [userID.databaseValue, now.databaseValue])
                + value + " IS NOT \(column))" + base
            try db.execute(sql: sql.sql, arguments: sql.statementArguments)
        }
        let changedTest = SQLFragment.joined(
            assignments.map { $0.value + " IS NOT t0.\(Sql.quote($0.field.name))" }, separator: " OR ")
        var sets = SQLFragment.joined(assignments.map { "\(Sql.quote($0.field.name)) = " + $0.value }, separator: ", ")
        if entity.hasUpdatedAt, !assignments.contains(where: { $0.field.name == "updated_at" }) {
            sets = sets + SQLFragment(", updated_at = ?", [now.databaseValue])
        }
        let sql = "UPDATE \(table) AS t0 SET " + sets + " WHERE (" + changedTest + ")" + base
        try db.execute(sql: sql.sql, arguments: sql.statementArguments)
        return db.changesCount
    }

    /// Inserts one record, recording each non-empty field as created.
    func insert(_ entity: EntityDefinition, values: [(field: String, value: DatabaseValue)]) throws -> Int64 {
        var values = values
        for system in ["created_at", "updated_at"]
        where entity.field(named: system) != nil && !values.contains(where: { $0.field == system }) {
            values.append((system, now.databaseValue))
        }
        let columns = values.map { Sql.quote($0.field) }.joined(separator: ", ")
        let marks = Array(repeating: "?", count: values.count).joined(separator: ", ")
        try db.execute(
            sql: "INSERT INTO \(Sql.quote(entity.name)) (\(columns)) VALUES (\(marks))",
            arguments: StatementArguments(values.map(\.value)))
        let id = db.lastInsertedRowID
        let changeSetID = try self.changeSetID
        for (field, value) in values where !value.isNull {
            try db.execute(
                sql: historyInsert + "VALUES (?, ?, ?, 'create', ?, NULL, ?, ?, ?)",
                arguments: [changeSetID, entity.name, id, field, value, userID, now])
        }
        return id
    }

    /// Deletes the records matching `filter`, keeping every field's old value so undo can restore them.
    /// References to them from other records are cleared first, through history too.
    func delete(_ entity: EntityDefinition, filter: SQLFragment) throws -> Int {
        let table = Sql.quote(entity.name)
        // Clear nullable references to the doomed records (recorded, so undo restores them).
        let doomed = "SELECT t0.id FROM \(table) AS t0 WHERE " + filter
        for other in CRMSchema.entities where other.kind != .system {
            // Records that must point at a doomed one (an owner, a role's rules) block the delete.
            for field in other.fields
            where field.referencedEntity == entity.name && field.required
                && !Self.dependentReferences.contains("\(other.name).\(field.name)")
            {
                let blocking =
                    "SELECT count(*) FROM \(Sql.quote(other.name)) AS t0 WHERE t0.\(Sql.quote(field.name)) IN (" + doomed
                    + ")"
                let count = try Int.fetchOne(db, sql: blocking.sql, arguments: blocking.statementArguments) ?? 0
                if count > 0 {
                    throw Diagnostic(
                        .constraintViolated,
                        "\(count) \(other.name) still need the \(entity.name) being deleted (their \(field.relationName ?? field.name))",
                        help: "reassign or delete those \(other.name) first")
                }
            }
            for field in other.fields
            where field.referencedEntity == entity.name
                && (!field.required
                    || Self.dependentReferences.contains("\(other.name).\(field.name)"))
            {
                let inDoomed = "t0.\(Sql.quote(field.name)) IN (" + doomed + ")"
                if Self.dependentReferences.contains("\(other.name).\(field.name)") {
                    _ = try delete(other, filter: inDoomed)
                } else {
                    _ = try update(other, filter: inDoomed, set: [(field, SQLFragment("NULL"))])
                }
            }
        }
        let changeSetID = try self.changeSetID
        for field in entity.fields {
            let column = "t0." + Sql.quote(field.name)
            let sql =
                SQLFragment(
                    historyInsert + "SELECT ?, ?, t0.id, 'delete', ?, \(column), NULL, ?, ? FROM \(table) AS t0 WHERE ",
                    [
                        changeSetID.databaseValue, entity.name.databaseValue, field.name.databaseValue, userID.databaseValue,
                        now.databaseValue,
                    ])
                + filter + " AND \(column) IS NOT NULL"
            try db.execute(sql: sql.sql, arguments: sql.statementArguments)
        }
        let sql = "DELETE FROM \(table) AS t0 WHERE " + filter
        try db.execute(sql: sql.sql, arguments: sql.statementArguments)
        return db.changesCount
    }

    /// Closes the change set with its record count and a one-line summary.
    func finish(records: Int, summary: String) throws {
        guard let changeSetID = openedID else { return }
        try db.execute(
            sql: joined
                ? "UPDATE change_sets SET records = records + ?, summary = ? WHERE id = ?"
                : "UPDATE change_sets SET records = ?, summary = ? WHERE id = ?",
            arguments: [records, summary, changeSetID])
    }

    // MARK: - Diffs

    /// Prints per-record diffs from the history of this change set, abridged after `limit` records.
    /// Records of `primary` (the command's own entity) come first; records of other entities the
    /// change reached (links cleared by a delete, records moved by a merge) after them, counted.
    func printDiffs(output: OutputSink, total: Int, primary: String? = nil, limit: Int = 12) throws {
        guard let changeSetID = openedID else { return }
        // The first records in the order they were changed, read from the head of the history
        // (an index range scan), not by grouping all of it: a million-row change prints at once.
        var records: [(entity: String, id: Int64)] = []
        var seen = Set<String>()
        var hasMore = false
        for pass in primary == nil ? [nil] : [true, false] as [Bool?] {
            var sql = "SELECT entity, record_id FROM field_history WHERE change_set_id = ? AND id > ?"
            var arguments: StatementArguments = [changeSetID, historyFloor]
            if let pass, let primary {
                sql += pass ? " AND entity = ?" : " AND entity <> ?"
                arguments += [primary]
            }
            let cursor = try Row.fetchCursor(db, sql: sql + " ORDER BY id", arguments: arguments)
            while let row = try cursor.next() {
                let entity: String = row[0]
                let id: Int64 = row[1]
                guard seen.insert("\(entity):\(id)").inserted else { continue }
                if records.count == limit {
                    hasMore = true
                    break
                }
                records.append((entity, id))
            }
            if hasMore { break }
        }
        var others = 0
        if let primary,
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM field_history WHERE change_set_id = ? AND id > ? AND entity <> ? LIMIT 1",
                arguments: [changeSetID, historyFloor, primary])
                == true
        {
            others =
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT count(*) FROM (SELECT DISTINCT entity, record_id FROM field_history WHERE change_set_id = ? AND id > ? AND entity <> ?)",
                    arguments: [changeSetID, historyFloor, primary]) ?? 0
        }
        for record in records {
            let entityName = record.entity
            let id = record.id
            guard let entity = CRMSchema.entity(named: entityName) else { continue }
            let changes = try Row.fetchAll(
                db,
                sql:
                    "SELECT op, field, old_value, new_value FROM field_history WHERE change_set_id = ? AND id > ? AND entity = ? AND record_id = ? ORDER BY id",
                arguments: [changeSetID, historyFloor, entityName, id])
            // A record changed and then deleted in one change set (an undo, a script) shows as deleted.
            let ops = changes.map { $0["op"] as String }
            let op: String = ops.contains("delete") ? "delete" : ops.first ?? "update"
            var title =
                try String.fetchOne(
                    db, sql: "SELECT \(entity.title(alias: "t")) FROM \(Sql.quote(entity.name)) t WHERE t.id = ?", arguments: [id])
                ?? ""
            if op == "delete", title.isEmpty { title = "deleted" }
            let header = "  \(entity.singular) \(id)" + (title.isEmpty ? "" : " (\(title))")
            switch op {
            case "create":
                let fields = try changes.compactMap { row -> String? in
                    let field: String = row["field"]
                    guard field != "created_at", field != "updated_at" else { return nil }
                    let definition = entity.field(named: field)
                    return "\(definition?.relationName ?? field) = " + (try describe(row["new_value"], definition))
                }
                output.line(header + ": created with " + fields.joined(separator: ", "))
            case "delete":
                output.line(header + ": deleted")
            default:
                let parts = try changes.map { row -> String in
                    let field: String = row["field"]
                    let definition = entity.field(named: field)
                    return "\(definition?.relationName ?? field) " + (try describe(row["old_value"], definition)) + " → "
                        + (try describe(row["new_value"], definition))
                }
                output.line(header + ": " + parts.joined(separator: ", "))
            }
        }
        let shown = records.count
        if total + others > shown {
            var line = "  … and \(total + others - shown) more"
            if others > 0 {
                line +=
                    " (\(total) \(total == 1 ? "record" : "records") and \(others) linked \(others == 1 ? "record" : "records") they touched)"
            } else {
                line += " (\(total) records in all)"
            }
            output.line(line)
        } else if hasMore {
            output.line("  … and more related records")
        }
    }

    /// A value in a diff; a related record by its title (`owner bob → maria`), or `(hidden)` when
    /// the acting user may not read it.
    private func describe(_ value: DatabaseValue, _ field: FieldDefinition?) throws -> String {
        guard let field, !value.isNull, let target = field.referencedEntity, let entity = CRMSchema.entity(named: target) else {
            return Self.show(value, field?.type)
        }
        let lookup =
            SQLFragment("SELECT \(entity.title(alias: "t0")) FROM \(Sql.quote(entity.name)) AS t0 WHERE t0.id = ?", [value])
            + (readFilter?(entity) ?? nil).andClause
        guard let row = try Row.fetchOne(db, sql: lookup.sql, arguments: lookup.statementArguments) else {
            let exists =
                try Bool.fetchOne(db, sql: "SELECT 1 FROM \(Sql.quote(entity.name)) WHERE id = ?", arguments: [value]) == true
            return exists ? Visibility.hiddenMarker : "\(ValueFormatter.display(value, .integer)) (deleted)"
        }
        let title = (row[0] as String?) ?? ""
        switch entity.name {
        case "users", "teams", "roles": return title.isEmpty ? ValueFormatter.display(value, .integer) : title
        default: return Self.quoted(title.isEmpty ? "\(entity.singular) \(ValueFormatter.display(value, .integer))" : title)
        }
    }

    static func show(_ value: DatabaseValue, _ type: FieldType?) -> String {
        if value.isNull { return "(empty)" }
        let text = ValueFormatter.display(value, type)
        switch type {
        case .money, .integer, .boolean, .enumeration, .reference, .date, .timestamp: return text
        default: return quoted(text)
        }
    }

    /// Text in quotes as Rolo writes strings: `"` and `\\` escaped, so a value can't pass for the end of one.
    static func quoted(_ text: String) -> String {
        let clipped = text.count > 40 ? String(text.prefix(39)) + "…" : text
        var escaped = ""
        for character in clipped {
            if character == "\"" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "\"" + escaped + "\""
    }
}
