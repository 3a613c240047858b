import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// An import's rights: the key field, the rights each column needs, related records resolved by
/// natural key within what the importer may read, missing ones created when asked.
extension ImportJob {
    // MARK: - Rights

    struct Rights {
        var updateLevel: GrantedRule.Scope = .all
        var updateRule: GrantedRule? = nil
        /// The assign right's scope, nil when the user has none (then every row must be theirs).
        var assignLevel: GrantedRule.Scope? = nil
    }

    func keyField(_ columns: [Column]) throws -> FieldDefinition? {
        guard let key = command.key else {
            if command.onDuplicate != nil {
                throw Diagnostic(
                    .usage, "on duplicate needs a key: which field matches records", at: command.onDuplicate?.range,
                    help: "add key email (or another field)")
            }
            return nil
        }
        guard let field = entity.field(named: key.value) ?? entity.relation(named: key.value) else {
            let near = Suggestions.nearest(to: key.value, in: Catalog.fieldNames(of: entity))
            throw Diagnostic(
                .unknownField, "unknown field '\(key.value)' on \(entity.name)", at: key.range, help: near.map { "did you mean '\($0)'?" })
        }
        // Matching by a field tells which record holds a value: like a filter, the key is a field
        // the user may read.
        if engine.access.readVisibility(entity).hiddenFields.contains(field.name) {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not read \(entity.name).\(key.value), so it cannot be the key",
                at: key.range, help: "match by a field \(engine.access.actor.handle) may read, e.g. key id")
        }
        guard columns.contains(where: { $0.field === field }) || field.name == "id" && columns.contains(where: { $0.field.name == "id" })
        else {
            throw Diagnostic(
                .unmappedColumn, "no column of \(file) holds \(key.value), the key", at: key.range, help: "map \"Header\" = \(key.value)")
        }
        return columns.first(where: { $0.field.name == field.name })?.field
    }

    func checkRights(_ columns: [Column], keyField: FieldDefinition?) throws -> Rights {
        let commands = ChangeCommands(engine: engine, db: db, recorder: recorder)
        let plain = columns.filter { !ChangeCommands.assignmentFields.contains($0.field.name) && !$0.field.system }
        var rights = Rights()
        if command.key?.value != "id" {
            _ = try commands.allowedScope(.create, entity, fields: plain.map { ($0.field, command.path.range) }, at: command.entity.range)
        }
        if keyField != nil, duplicates == .update {
            let updatable = plain.filter { $0.field !== keyField }
            (rights.updateLevel, rights.updateRule, _) = try commands.allowedScope(
                .update, entity, fields: updatable.map { ($0.field, command.path.range) }, at: command.entity.range)
        }
        let assign = engine.access.decide(.assign, on: entity.name)
        if assign.deniedBy == nil { rights.assignLevel = assign.scope }
        return rights
    }

    /// A related record named in a cell: by natural key, or by number; owners within the assign right.
    func resolve(_ raw: String, in table: ReferenceTable, column: Column, rights: Rights) throws -> CellValue {
        let text = CellConverter.unneutralized(raw).trimmingCharacters(in: .whitespaces)
        // Empty: a new record's owner is the importer (`createRecords`); a matched one keeps its own.
        if text.isEmpty { return .value(.null) }
        let folded = text.lowercased()
        var id = table.byKey[folded]
        if table.ambiguous.contains(folded) {
            return .invalid("names several \(table.entity.name); use the number instead")
        }
        if id == nil, let number = Int64(text), table.ids.contains(number) { id = number }
        if id == nil {
            guard table.createsMissing else {
                let key = table.entity.naturalKey.first ?? "number"
                let readable = engine.access.readFilter(table.entity) == nil ? "" : " that \(engine.access.actor.handle) may read"
                return .invalid("names no \(table.entity.singular)\(readable) (by \(key))")
            }
            if let refusal = table.refused[folded] { return .invalid(refusal) }
            guard let newID = try createMissing(text, in: table) else { return .invalid(table.refused[folded] ?? "") }
            table.byKey[folded] = newID
            table.ids.insert(newID)
            table.created += 1
            id = newID
        }
        guard let id else { return .value(.null) }
        if ChangeCommands.assignmentFields.contains(column.field.name), id != engine.access.actor.id {
            switch rights.assignLevel {
            case nil:
                return .invalid("is someone else; \(engine.access.actor.handle) may not assign \(entity.name)")
            case .own:
                return .invalid("is someone else; \(engine.access.actor.handle) may only give records to themselves")
            case .team:
                if table.teams[id] == nil || table.teams[id] != engine.access.actor.teamID {
                    return .invalid("is outside \(engine.access.actor.handle)'s team; they may only give records to their team")
                }
            case .all:
                break
            }
        }
        return .value(id.databaseValue)
    }

    /// `create missing`: a new record named `name`, owned by the importer — unless it would break
    /// one of its entity's validation rules; then nothing is created, and this row and every
    /// other naming it are bad rows saying which rule (nil).
    func createMissing(_ name: String, in table: ReferenceTable) throws -> Int64? {
        if table.rules == nil { table.rules = try ValidationRule.load(db, entity: table.entity) }
        let rules = table.rules ?? []
        _ = try recorder.changeSetID  // opened outside the savepoint, so it outlives a refused record
        var created: Int64? = nil
        try db.inSavepoint {
            let id = try recorder.insert(
                table.entity, values: [(table.entity.naturalKey[0], name.databaseValue), ("owner_id", engine.access.actor.id.databaseValue)])
            for rule in rules {
                let breaking = try engine.recordsBreaking(
                    rule, db: db, scope: engine.ruleScope(table.entity), within: Select(value: Sql.value(id)).sql)
                if try Bool.fetchOne(db, breaking.limited(1).sql) != nil {
                    table.refused[name.lowercased()] =
                        "would be a new \(table.entity.singular) breaking rule \(rule.id): \(rule.message ?? rule.text)"
                    return .rollback
                }
            }
            created = id
            return .commit
        }
        return created
    }
}
