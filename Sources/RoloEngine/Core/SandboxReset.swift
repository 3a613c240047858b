import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// A reset about to happen: the checkpoint, checked against the open sandbox.
struct ResetPlan {
    let name: String
    let path: String
    let contents: CheckpointFile.Contents
}

extension Engine {
    /// Finds the checkpoint `name` and checks that a reset can use it (E516 otherwise), reading
    /// only: a regular file that is not the database, an SQLite file of this very sandbox (its
    /// audit spool secret, which `rolo demo` made, is the same), taken under the same schema, and
    /// holding the acting user, active, so the session has someone to act as afterwards.
    func planReset(_ name: String, at range: SourceRange?) throws -> ResetPlan {
        let path = Sandbox.path(of: name, databasePath: store.path)
        let shown = Sandbox.displayPath(of: name, databasePath: store.path)
        func refuse(_ message: String, help: String? = nil) -> Diagnostic {
            Diagnostic(.badCheckpoint, message, at: range, help: help)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if name == Sandbox.freshName {
                throw refuse(
                    "this sandbox's fresh state is missing (\(shown)); nothing was changed",
                    help: "reset NAME returns to a checkpoint of yours (checkpoints lists them); rolo demo FILE --fresh makes the sandbox anew")
            }
            throw refuse("there is no checkpoint '\(name)'; nothing was changed", help: checkpointNamesHelp(for: name))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw refuse("\(shown) is not a regular file; nothing was changed", help: "a checkpoint is a file checkpoint NAME writes")
        }
        if let identity = OutputFile.FileIdentity(path: path), protectedFiles.identities.contains(identity) {
            throw refuse("\(shown) is the open database or a file it keeps beside it; nothing was changed")
        }
        let contents: CheckpointFile.Contents
        do {
            contents = try CheckpointFile.open(path: path).read { db in try CheckpointFile.contents(of: db) }
        } catch {
            throw refuse("\(shown) is not a checkpoint Rolo can read; nothing was changed", help: "take checkpoints with checkpoint NAME")
        }
        let (schema, secret) = try store.inDatabase { db in
            (try CheckpointFile.schemaObjects(db), try AuditSpoolSecret.read(db))
        }
        guard contents.applicationID == CRMSchema.applicationID, contents.isSandbox else {
            throw refuse("\(shown) is not a checkpoint of a sandbox; nothing was changed", help: "take checkpoints with checkpoint NAME")
        }
        guard contents.spoolSecret == secret else {
            throw refuse(
                "checkpoint '\(name)' is of another sandbox, not this one; nothing was changed",
                help: "a sandbox made anew (rolo demo --fresh) starts without the old one's checkpoints")
        }
        guard contents.schema == schema else {
            throw refuse(
                "checkpoint '\(name)' was taken under another version of Rolo's schema; nothing was changed",
                help: "take a new checkpoint with this version")
        }
        let acting = access.actor
        guard contents.users.contains(where: { $0.id == acting.id && $0.active && $0.handle.lowercased() == acting.handle.lowercased() })
        else {
            throw refuse(
                "checkpoint '\(name)' has no active user \(acting.handle) (#\(acting.id)): the session would be left acting as nobody; nothing was changed",
                help: "reset as a user the checkpoint holds: login HANDLE first")
        }
        return ResetPlan(name: name, path: path, contents: contents)
    }

    /// `help` for an unknown checkpoint: the nearest name, or the names there are.
    private func checkpointNamesHelp(for name: String) -> String {
        let names = checkpointListings().map(\.name)
        if let near = Suggestions.nearest(to: name, in: names) { return "did you mean '\(near)'?" }
        return names.isEmpty ? "this sandbox has no checkpoints: checkpoint NAME keeps one" : "checkpoints are " + names.joined(separator: ", ")
    }

    /// The tables a reset puts back: every table of the database but the audit log.
    func restoredTables(_ db: Database) throws -> [String] {
        try String.fetchAll(db, SnapshotSQL.tables()).filter { $0 != CRMSchema.auditLog.name }
    }

    /// What a reset would change, reading only: each table's rows now and in the checkpoint.
    func previewReset(_ plan: ResetPlan) throws -> [RestoredTable] {
        let (tables, now) = try store.inDatabase { db in
            let tables = try restoredTables(db)
            return (tables, try CheckpointFile.rowCounts(db, tables: tables))
        }
        let checkpointTables = Set(plan.contents.schema.filter { $0.type == "table" }.map(\.name))
        let then = try CheckpointFile.open(path: plan.path).read { db in
            try CheckpointFile.rowCounts(db, tables: tables.filter(checkpointTables.contains))
        }
        return tables.map { RestoredTable(name: $0, before: now[$0] ?? 0, after: then[$0] ?? 0) }
    }

    /// Returns the sandbox to the checkpoint: in one transaction, under the write lock, entries
    /// waiting for the lock (and spooled ones) are appended first, every table but the audit log
    /// is emptied and filled from the attached checkpoint, and the reset's own entry is appended
    /// — so the audit log loses nothing and says where the state it describes changed. Foreign
    /// keys are off meanwhile (set outside the transaction, as SQLite requires), so no `ON DELETE`
    /// action reaches the audit log's references to users. Then the session's user, rules and
    /// sandbox mark are read again.
    /// - Returns: each table's rows before and after.
    func reset(to plan: ResetPlan, _ statement: ParsedStatement, label: String) throws -> [RestoredTable] {
        var restored: [RestoredTable] = []
        let schemaName = SnapshotSQL.checkpointSchema
        let keptUsers = Dictionary(plan.contents.users.map { ($0.id, $0.handle.lowercased()) }, uniquingKeysWith: { a, _ in a })
        try store.inDatabase { db in
            try db.execute(Sql.set("foreign_keys", "OFF"))
            defer { try? db.execute(Sql.set("foreign_keys", "ON")) }
            try db.execute(SnapshotSQL.attach(plan.path, as: schemaName))
            defer { try? db.execute(SnapshotSQL.detach(schemaName)) }
            try db.execute(Sql.beginImmediate)
            do {
                // Entries of reads still waiting, and spooled ones, join the chain under the state they ran in.
                try audit.append([], db: db, lockHeld: true)
                // Checked again under the lock: the checkpoint attached is the file planned.
                guard try CheckpointFile.schemaObjects(db, in: schemaName).filter({ $0.name != SnapshotSQL.labelTable })
                    == CheckpointFile.schemaObjects(db)
                else {
                    throw Diagnostic(.badCheckpoint, "checkpoint '\(plan.name)' changed while it was being read; nothing was changed")
                }
                // Users the audit log may name that the checkpoint does not hold: said in the reset's entry.
                var departed: [String] = []
                for row in try Row.fetchAll(db, Select(Select.columns(["id", "handle"]), from: "users").ordered(by: Sql.name("id")).sql) {
                    let (id, handle): (Int64, String) = (try row.decode(forColumn: "id"), try row.decode(forColumn: "handle"))
                    if keptUsers[id] != handle.lowercased() { departed.append("#\(id) \(handle)") }
                }
                let lastChangeSet = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: "change_sets").sql)
                restored = try CheckpointFile.replaceTables(db, from: schemaName, keeping: [CRMSchema.auditLog.name])
                var note = label
                if !departed.isEmpty { note += "; users not in it, whom earlier entries may name: " + departed.joined(separator: ", ") }
                if let lastChangeSet, lastChangeSet > (plan.contents.lastChangeSet ?? 0) {
                    let first = (plan.contents.lastChangeSet ?? 0) + 1
                    note += "; change sets \(first == lastChangeSet ? "\(first)" : "\(first)–\(lastChangeSet)") are gone (numbers a later change may take again)"
                }
                try AuditLog.append([audit.entry(statement, outcome: .ok, rows: nil, message: note)], db: db, key: audit.key)
                try db.execute(Sql.commit)
            } catch {
                try? db.execute(Sql.rollback)
                audit.restore()
                throw error
            }
        }
        audit.committed()
        try reloadSession()
        return restored
    }
}
