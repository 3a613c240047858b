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
        let table = SQLDialect.quote(entity.name)
        let scope = engine?.readFilter(entity)
        let scoped = scope.andClause
        switch key.value {
        case .id(let id):
            let exists = SQLFragment("SELECT 1 FROM \(table) AS t0 WHERE t0.id = ?", [Int64(id).databaseValue]) + scoped
            if try Bool.fetchOne(db, sql: exists.sql, arguments: exists.statementArguments) == true {
                return Int64(id)
            }
            if let engine, scope != nil {
                // Told apart from a missing record only in the audit log, as a refusal.
                let present = try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE id = ?", arguments: [Int64(id)]) == true
                if present { engine.lookupRefused = true }
                throw Diagnostic(
                    .unknownRecord, "there is no \(entity.singular) \(id) that \(engine.actor.handle) may read", at: key.range,
                    help: engine.readScopeHelp(entity))
            }
            let maxID = try Int64.fetchOne(db, sql: "SELECT max(id) FROM \(table)") ?? 0
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
            let lookup =
                SQLFragment(
                    "SELECT t0.id FROM \(table) AS t0 WHERE t0.\(SQLDialect.quote(keyField)) = ? COLLATE NOCASE",
                    [text.trimmingCharacters(in: .whitespaces).databaseValue]) + scoped + " ORDER BY t0.id LIMIT 6"
            let ids = try Int64.fetchAll(db, sql: lookup.sql, arguments: lookup.statementArguments)
            if ids.count == 1 { return ids[0] }
            if ids.isEmpty {
                let readable = engine.map { " that \($0.actor.handle) may read" } ?? ""
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
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE handle = ? COLLATE NOCASE", arguments: [handle]) {
            return id
        }
        let handles = try String.fetchAll(db, sql: "SELECT handle FROM users ORDER BY handle")
        let help = Suggestions.nearest(to: handle, in: handles).map { "did you mean '\($0)'?" } ?? "`users` lists who there is"
        throw Diagnostic(.unknownUser, "unknown user '\(handle)'", at: range, help: help)
    }

    /// The owner's handle of a record, for messages ("deal 1 belongs to emma").
    static func ownerHandle(of id: Int64, in entity: EntityDefinition, db: Database) throws -> String? {
        guard entity.hasOwner else { return nil }
        return try String.fetchOne(
            db, sql: "SELECT u.handle FROM \(SQLDialect.quote(entity.name)) t JOIN users u ON u.id = t.owner_id WHERE t.id = ?",
            arguments: [id])
    }

    /// Whether the engine's acting user may read the record.
    static func isReadable(_ id: Int64, of entity: EntityDefinition, engine: Engine, db: Database) throws -> Bool {
        guard let filter = engine.readFilter(entity) else { return true }
        let sql = SQLFragment("SELECT 1 FROM \(SQLDialect.quote(entity.name)) AS t0 WHERE t0.id = ? AND ", [id.databaseValue]) + filter
        return try Bool.fetchOne(db, sql: sql.sql, arguments: sql.statementArguments) == true
    }

    /// Whether a record falls within `level` for the policy's user (the scope filter, run in SQL).
    static func isInScope(_ id: Int64, of entity: EntityDefinition, level: GrantedRule.Scope, policy: AccessPolicy, db: Database) throws
        -> Bool
    {
        guard level != .all, let filter = policy.scopeFilter(level, on: entity, alias: "t0") else { return true }
        let sql = SQLFragment("SELECT 1 FROM \(SQLDialect.quote(entity.name)) AS t0 WHERE t0.id = ? AND ", [id.databaseValue]) + filter
        return try Bool.fetchOne(db, sql: sql.sql, arguments: sql.statementArguments) == true
    }

    /// Checks the record is within the user's scope for `action`, naming the rule if not.
    static func requireInScope(
        _ id: Int64, of entity: EntityDefinition, action: PermissionAction, decision: AccessPolicy.Decision,
        engine: Engine, db: Database, at range: SourceRange?
    ) throws {
        guard let level = decision.scope,
            !(try isInScope(id, of: entity, level: level, policy: engine.policy, db: db))
        else { return }
        let owner = try ownerHandle(of: id, in: entity, db: db).map { ": \(entity.singular) \(id) belongs to \($0)" } ?? ""
        let rule = decision.allowedBy?.description ?? "\(level.name) scope"
        throw Diagnostic(
            .permissionDenied, "\(engine.actor.handle) may not \(action) \(entity.singular) \(id)\(owner)",
            at: range, help: "\(rule) covers only \(level == .own ? "records they own or are assigned" : "records owned within their team")"
        )
    }
}
