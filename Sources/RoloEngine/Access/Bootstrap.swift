import GRDB
import RoloStore
import RoloSyntax

extension Engine {
    /// Handles of active users holding the admin role.
    public static func activeAdmins(in store: CRMStore) throws -> [String] {
        try store.dbQueue.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT u.handle FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
                    WHERE r.name = 'admin' AND u.active = 1 ORDER BY u.handle
                    """)
        }
    }

    /// Gives a database its first admin (`rolo init FILE --admin HANDLE`), or a new one when no
    /// active admin is left. Refused while an active admin exists: then grants go through them.
    /// Recorded like any change: a change set, field history and an audit entry.
    public static func bootstrapAdmin(store: CRMStore, handle: String, name: String?, clock: any CRMClock) throws {
        let admins = try activeAdmins(in: store)
        if !admins.isEmpty {
            throw Diagnostic(
                .escalation, "this database already has an active admin (\(admins.joined(separator: ", ")))",
                help: "ask them to run: grant admin to \(handle)")
        }
        guard !handle.isEmpty, handle.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }) else {
            throw Diagnostic(.invalidValue, "a handle is one word of letters, digits, '.', '_' or '-'")
        }
        let now = clock.now().description
        try store.dbQueue.write { db in
            var userID = try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE handle = ? COLLATE NOCASE", arguments: [handle])
            let creating = userID == nil
            if creating {
                try db.execute(
                    sql: "INSERT INTO users (handle, name, active, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
                    arguments: [handle, name ?? handle, now, now])
                userID = db.lastInsertedRowID
            }
            guard let id = userID else { return }
            let actor = Actor(id: id, handle: handle, name: name ?? handle, teamID: nil)
            let command = "init --admin \(handle)"
            let recorder = try ChangeRecorder(db: db, actor: actor, impersonator: nil, command: command, now: now)
            if creating {
                try db.execute(
                    sql:
                        "INSERT INTO field_history (change_set_id, entity, record_id, op, field, old_value, new_value, user_id, changed_at) SELECT ?, 'users', ?, 'create', 'handle', NULL, ?, ?, ?",
                    arguments: [try recorder.changeSetID, id, handle, id, now])
            } else if let users = CRMSchema.entity(named: "users"), let active = users.field(named: "active") {
                _ = try recorder.update(users, filter: Sql.idEquals("t0", id), set: [(active, .value(1))])
            }
            guard let roleID = try Int64.fetchOne(db, sql: "SELECT id FROM roles WHERE name = 'admin'") else {
                throw Diagnostic(.unknownRole, "the admin role is missing from this database")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM user_roles WHERE user_id = ? AND role_id = ?", arguments: [id, roleID]) != true {
                _ = try recorder.insert(
                    CRMSchema.userRoles,
                    values: [
                        ("user_id", id.databaseValue), ("role_id", roleID.databaseValue), ("granted_by", DatabaseValue.null),
                        ("granted_at", now.databaseValue),
                    ])
            }
            try recorder.finish(records: 1, summary: "admin \(handle)")
            try AuditLog.append(
                AuditEntry(at: now, userID: id, impersonatorID: nil, command: command, outcome: "ok", rows: 1, message: nil), db: db)
        }
    }
}
