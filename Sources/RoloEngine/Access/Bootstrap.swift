import GRDB
import RoloStore
import RoloSyntax

extension Engine {
    /// Handles of active users holding the admin role.
    public static func activeAdmins(in store: CRMStore) throws -> [String] {
        try store.dbQueue.read { db in
            try String.fetchAll(db, activeHolders(of: "admin").sql)
        }
    }

    /// Handles of the active users holding a role, in order (`u`, `ur`, `r`).
    static func activeHolders(of role: String) -> Select {
        Select(Sql.column("u", "handle"), from: "users", as: "u")
            .joining(Sql.innerJoin("user_roles", as: "ur", on: Sql.equals(Sql.column("ur", "user_id"), Sql.id("u"))))
            .joining(Sql.innerJoin("roles", as: "r", on: Sql.equals(Sql.id("r"), Sql.column("ur", "role_id"))))
            .where(Sql.equals(Sql.column("r", "name"), Sql.value(role))).where(Sql.equals(Sql.column("u", "active"), Sql.true))
            .ordered(by: Sql.column("u", "handle"))
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
            var userID = try Int64.fetchOne(db, RecordLookup.named("users", handle, column: "handle").sql)
            let creating = userID == nil
            if creating {
                try db.execute(
                    Insert(
                        into: "users",
                        [
                            ("handle", handle.databaseValue), ("name", (name ?? handle).databaseValue), ("active", 1.databaseValue),
                            ("created_at", now.databaseValue), ("updated_at", now.databaseValue),
                        ]
                    ).sql)
                userID = db.lastInsertedRowID
            }
            guard let id = userID else { return }
            let actor = Actor(id: id, handle: handle, name: name ?? handle, teamID: nil)
            let command = "init --admin \(handle)"
            let recorder = try ChangeRecorder(db: db, actor: actor, impersonator: nil, command: command, now: now)
            if creating, let users = CRMSchema.entity(named: "users") {
                try recorder.recordSnapshot(
                    users, .create, fields: ["handle", "name", "active", "created_at", "updated_at"], conditions: [Sql.idEquals("t0", id)])
            } else if let users = CRMSchema.entity(named: "users"), let active = users.field(named: "active") {
                _ = try recorder.update(users, filter: Sql.idEquals("t0", id), set: [(active, .value(1))])
            }
            guard
                let roleID = try Int64.fetchOne(
                    db, Select(Sql.name("id"), from: "roles").where(Sql.equals(Sql.name("name"), Sql.value("admin"))).sql)
            else {
                throw Diagnostic(.unknownRole, "the admin role is missing from this database")
            }
            if try Bool.fetchOne(db, SecurityCommands.grant(user: id, role: roleID, column: Sql.true).sql) != true {
                _ = try recorder.insert(
                    CRMSchema.userRoles,
                    values: [
                        ("user_id", id.databaseValue), ("role_id", roleID.databaseValue), ("granted_by", DatabaseValue.null),
                        ("granted_at", now.databaseValue),
                    ])
            }
            try recorder.finish(records: 1, summary: "admin \(handle)")
            try AuditLog.append(
                AuditEntry(at: now, userID: id, impersonatorID: nil, command: command, outcome: .ok, rows: 1, message: nil), db: db)
        }
    }
}
