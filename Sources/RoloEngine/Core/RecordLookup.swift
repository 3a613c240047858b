import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// Finds one record by number or natural key (`42`, `"ana@acme.io"`, `bob`).
enum RecordLookup {
    /// The record's id. With `readableBy`, only records that engine's acting user may read are
    /// found: another record is answered exactly as a missing one, so a lookup never tells
    /// whether a record outside the user's read scope exists.
    static func id(
        of key: Located<RecordKey>, in entity: EntityDefinition, db: Database, readableBy engine: Engine? = nil
    ) throws -> Int64 {
        let scope = engine?.access.readFilter(entity)
        switch key.value {
        case .id(let id):
            if try Bool.fetchOne(db, record(entity, id: Int64(id).databaseValue).where(scope).sql) == true {
                return Int64(id)
            }
            if let engine, scope != nil {
                // Told apart from a missing record only in the audit log, as a refusal.
                let present = try Bool.fetchOne(db, record(entity, id: Int64(id).databaseValue).sql) == true
                if present { engine.access.lookupRefused = true }
                throw Diagnostic(
                    .unknownRecord, "there is no \(entity.singular) \(id) that \(engine.access.actor.handle) may read", at: key.range,
                    help: engine.access.readScopeHelp(entity))
            }
            let maxID = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: entity.name).sql) ?? 0
            throw Diagnostic(
                .unknownRecord, "there is no \(entity.singular) \(id)", at: key.range,
                help: maxID > 0
                    ? "\(entity.name) are numbered 1 to \(maxID), with gaps where records were deleted" : "there are no \(entity.name) yet")
        case .natural(let text):
            if let id = Int64(text) {
                return try Self.id(of: Located(.id(Int(id)), key.range), in: entity, db: db, readableBy: engine)
            }
            guard let keyField = entity.naturalKey.first else {
                throw Diagnostic(.unknownRecord, "\(entity.name) are named by number, e.g. show \(entity.singular) 42", at: key.range)
            }
            let lookup = Select(Sql.id("t0"), from: entity.name, as: "t0")
                .where(Sql.caseInsensitiveEquals(Sql.column("t0", keyField), Sql.value(text.trimmingCharacters(in: .whitespaces))))
                .where(scope).ordered(by: Sql.id("t0")).limited(6)
            let ids = try Int64.fetchAll(db, lookup.sql)
            if ids.count == 1 { return ids[0] }
            if ids.isEmpty {
                let readable = engine.map { " that \($0.access.actor.handle) may read" } ?? ""
                throw Diagnostic(
                    .unknownRecord, "no \(entity.singular)\(scope == nil ? "" : readable) has \(keyField) \"\(text)\"", at: key.range,
                    help: "try: find \(entity.name) where \(keyField) contains \"\(text.prefix(12))\"")
            }
            let list = ids.prefix(5).map(String.init).joined(separator: ", ")
            throw Diagnostic(
                .unknownRecord, "\(ids.count > 5 ? "more than 5" : String(ids.count)) \(entity.name) have \(keyField) \"\(text)\": \(list)",
                at: key.range, help: "name one by number, e.g. show \(entity.singular) \(ids[0])")
        }
    }

    /// A user's id by handle, or an error naming the nearest handle.
    static func userID(handle: String, at range: SourceRange?, db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db, named("users", handle, column: "handle").sql) {
            return id
        }
        let handles = try String.fetchAll(db, names("users", column: "handle").sql)
        let help = Suggestions.nearest(to: handle, in: handles).map { "did you mean '\($0)'?" } ?? "`users` lists who there is"
        throw Diagnostic(.unknownUser, "unknown user '\(handle)'", at: range, help: help)
    }

    /// The owner's handle of a record, for messages ("deal 1 belongs to emma").
    static func ownerHandle(of id: Int64, in entity: EntityDefinition, db: Database) throws -> String? {
        guard entity.hasOwner else { return nil }
        let owner = record(entity, id: id.databaseValue, columns: [Sql.column("u", "handle")])
            .joining(Sql.innerJoin("users", as: "u", on: Sql.equals(Sql.id("u"), Sql.column("t0", "owner_id"))))
        return try String.fetchOne(db, owner.sql)
    }

    /// Whether the engine's acting user may read the record.
    static func isReadable(_ id: Int64, of entity: EntityDefinition, engine: Engine, db: Database) throws -> Bool {
        guard let filter = engine.access.readFilter(entity) else { return true }
        return try Bool.fetchOne(db, record(entity, id: id.databaseValue).where(filter).sql) == true
    }

    /// Whether a record falls within `level` for the policy's user (the scope filter, run in SQL).
    static func isInScope(_ id: Int64, of entity: EntityDefinition, level: GrantedRule.Scope, policy: AccessPolicy, db: Database) throws
        -> Bool
    {
        guard level != .all, let filter = policy.scopeFilter(level, on: entity, alias: "t0") else { return true }
        return try Bool.fetchOne(db, record(entity, id: id.databaseValue).where(filter).sql) == true
    }

    /// Checks the record is within the user's scope for `action`, naming the rule if not.
    static func requireInScope(
        _ id: Int64, of entity: EntityDefinition, action: PermissionAction, decision: AccessPolicy.Decision,
        engine: Engine, db: Database, at range: SourceRange?
    ) throws {
        guard let level = decision.scope,
            !(try isInScope(id, of: entity, level: level, policy: engine.access.policy, db: db))
        else { return }
        let owner = try ownerHandle(of: id, in: entity, db: db).map { ": \(entity.singular) \(id) belongs to \($0)" } ?? ""
        let rule = decision.allowedBy?.description ?? "\(level.name) scope"
        throw Diagnostic(
            .permissionDenied, "\(engine.access.actor.handle) may not \(action) \(entity.singular) \(id)\(owner)",
            at: range, help: "\(rule) covers only \(level == .own ? "records they own or are assigned" : "records owned within their team")"
        )
    }

    // MARK: - Queries for one record

    /// `SELECT columns FROM entity AS t0 WHERE t0.id = ?`; by default the column is `1`, to ask
    /// whether the record exists.
    static func record(_ entity: EntityDefinition, id: DatabaseValue, columns: [SQLFragment] = [Sql.true]) -> Select {
        Select(columns, from: entity.name, as: "t0").where(Sql.equals(Sql.id("t0"), Sql.value(id)))
    }

    /// The record's title (`entity.title`).
    static func titleQuery(_ entity: EntityDefinition, id: DatabaseValue) -> Select {
        record(entity, id: id, columns: [SQLFragment(entity.title(alias: "t0"))])
    }

    /// A deleted record's title, from its latest deletion's history (its fields pivoted out of the
    /// deletion row, `HistoryRows`, then titled as a stored record is); NULL if there is none.
    static func deletedTitleQuery(_ entity: EntityDefinition, id: DatabaseValue) -> Select {
        let x = { Sql.column("x", $0) }
        let latest = Select(Sql.aggregate(.max, x("change_set_id")), from: "field_history", as: "x")
            .where(Sql.equals(x("entity"), Sql.value(entity.name))).where(Sql.equals(x("record_id"), Sql.value(id)))
            .where(Sql.equals(x("op"), Sql.value(HistoryOp.delete.rawValue)))
        let rows = HistoryRows(alias: "d")
        let fields = rows.select([Sql.named(rows.field, "field"), Sql.named(rows.oldValue, "old")])
            .where(Sql.equals(rows.column("entity"), Sql.value(entity.name))).where(Sql.equals(rows.column("record_id"), Sql.value(id)))
            .where(Sql.equals(rows.column("op"), Sql.value(HistoryOp.delete.rawValue)))
            .where(Sql.equals(rows.column("change_set_id"), Sql.subquery(latest)))
        let pivot = Select(
            entity.fields.map { field in
                Sql.named(
                    Sql.aggregate(.max, Sql.when([(Sql.equals(Sql.name("field"), Sql.value(field.name)), Sql.name("old"))], else: Sql.null)),
                    field.name)
            }, fromQuery: fields, as: "p")
        return Select([SQLFragment(entity.title(alias: "t0"))], fromQuery: pivot, as: "t0")
    }

    /// The id of the record of `table` whose `column` is `name`, ignoring case.
    static func named(_ table: String, _ name: String, column: String = "name") -> Select {
        Select(Sql.name("id"), from: table).where(Sql.caseInsensitiveEquals(Sql.name(column), Sql.value(name)))
    }

    /// Every value of `column` in `table`, in order (for suggestions and completion).
    static func names(_ table: String, column: String = "name") -> Select {
        Select(Sql.name(column), from: table).ordered(by: Sql.name(column))
    }

    /// A user's grants joined with their roles (`r`), `column` of each, by role name.
    static func grants(user: SQLFragment, column: SQLFragment) -> Select {
        Select(column, from: "user_roles", as: "ur")
            .joining(Sql.innerJoin("roles", as: "r", on: Sql.equals(Sql.id("r"), Sql.column("ur", "role_id"))))
            .where(Sql.equals(Sql.column("ur", "user_id"), user)).ordered(by: Sql.column("r", "name"))
    }

    /// The handles of the users holding a role, in order.
    static func holders(role: Int64) -> Select { holders(role: Sql.value(role)) }

    static func holders(role: SQLFragment) -> Select {
        Select(Sql.column("u", "handle"), from: "user_roles", as: "ur")
            .joining(Sql.innerJoin("users", as: "u", on: Sql.equals(Sql.id("u"), Sql.column("ur", "user_id"))))
            .where(Sql.equals(Sql.column("ur", "role_id"), role)).ordered(by: Sql.column("u", "handle"))
    }
}
