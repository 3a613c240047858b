import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// The session's transactions: the explicit one (`begin`, and around every script) with its
/// change set and dry-run state, and the implicit one a change runs in on its own.
///
/// One of the engine's services (docs/architecture.md); a command reaches it as
/// `context.transactions`. Every transaction takes the write lock at once (`BEGIN IMMEDIATE`);
/// its audit entries go into it through the `AuditTrail`, so a commit keeps changes and entries
/// together and a rollback writes the entries again as rolled back.
public final class Transactions {
    /// The open transaction's change set and dry-run state.
    struct State {
        /// The change set every change of the transaction joins (nil until the first change).
        var changeSet: Int64? = nil
        var changes = 0
        var firstSummary: String? = nil
        /// What the change set is listed under instead of its first statement: `script FILE` for
        /// a script run from a file.
        var label: String? = nil
        /// Opened in dry-run mode: changes are kept until its end, then all rolled back.
        var dryRun = false
        var dryRunRecords = 0
    }

    private let store: CRMStore
    private let audit: AuditTrail
    /// An explicit transaction is open (`begin`, or a running script).
    public private(set) var isOpen = false
    var state = State()
    /// What ending the last transaction said beyond "committed" (a dry-run's total).
    public private(set) var note: String? = nil
    /// The statement is a dry-run alone in its own transaction, which the engine rolls back whole.
    var dryRunOwnsTransaction = false

    init(store: CRMStore, audit: AuditTrail) {
        self.store = store
        self.audit = audit
    }

    /// The open transaction is a dry-run: all of it is rolled back at its end.
    public var isDryRun: Bool { isOpen && state.dryRun }

    /// A write on a file opened read-only (E601), naming the file and what to do.
    func readOnlyRefusal(_ what: String, at range: SourceRange?) -> Diagnostic {
        Diagnostic(
            .databaseUnavailable, "read-only: \(URL(fileURLWithPath: store.path).lastPathComponent) cannot be written, so \(what)",
            at: range, help: "give this user write access to the file (and its folder), or work on a copy")
    }

    // MARK: - The explicit transaction

    /// Opens an explicit transaction. It takes the write lock at once: every statement in it may
    /// write, and its audit entries are appended under that lock at commit.
    /// `label` names the change set in `changes` and `history` (a script's file) instead of the
    /// transaction's first change; `dryRun` rolls all of it back at its end.
    func begin(at range: SourceRange? = nil, label: String? = nil, dryRun: Bool) throws {
        if isOpen {
            throw Diagnostic(.transactionOpen, "a transaction is already open", at: range, help: "commit or rollback it first")
        }
        if store.isReadOnly {
            throw readOnlyRefusal("transactions cannot be opened", at: range)
        }
        if let refusal = audit.keyRefusal(at: range) { throw refusal }
        do {
            try store.inDatabase { db in
                try db.execute(Sql.beginImmediate)
                // Spooled and waiting read entries go first, inside the transaction.
                do {
                    try audit.append([], db: db, lockHeld: true)
                } catch {
                    try? db.execute(Sql.rollback)
                    throw error
                }
            }
        } catch {
            audit.restore()
            if let error = error as? DatabaseError, error.resultCode == .SQLITE_BUSY {
                throw Diagnostic(
                    .databaseUnavailable, "another session is writing to this database and did not finish in time", at: range,
                    help: "try again, or wait longer with `set busy_timeout SECONDS`")
            }
            if let diagnostic = error as? Diagnostic, diagnostic.code == .auditKeyRequired { throw AuditTrail.keyRequired(at: range) }
            throw error
        }
        isOpen = true
        state = State()
        state.label = label
        state.dryRun = dryRun
        note = nil
    }

    /// Commits or rolls back the open transaction. Its audit entries were appended inside it as
    /// its statements ran, so COMMIT keeps changes and entries together; after a ROLLBACK they are
    /// written again in a transaction of their own, each change marked `rolled_back`.
    /// `closing` is the entry of the statement that ends it.
    func end(commit: Bool, at range: SourceRange? = nil, closing: AuditEntry? = nil) throws {
        guard isOpen else {
            throw Diagnostic(.noTransaction, "no transaction is open", at: range, help: "begin one with `begin`")
        }
        isOpen = false
        let ended = state
        state = State()
        if ended.dryRun {
            // A dry-run of the whole transaction: each statement ran and saw the ones before it;
            // now nothing of it is kept.
            note =
                "dry-run: \(ended.changes) \(ended.changes == 1 ? "change" : "changes") touching \(ended.dryRunRecords) \(ended.dryRunRecords == 1 ? "record" : "records") in all would be made; the whole transaction was rolled back and nothing was written"
        } else {
            note = nil
        }
        let commit = commit && !ended.dryRun
        if commit {
            do {
                try store.inDatabase { db in
                    try audit.appendAtCommit(closing: closing, db: db)
                    try db.execute(Sql.commit)
                }
                audit.transactionEnded(committed: true, closing: nil)
                return
            } catch {
                // Nothing was committed: roll back, and record what was tried as rolled back.
                try? store.inDatabase { db in if db.isInsideTransaction { try db.execute(Sql.rollback) } }
                audit.transactionEnded(committed: false, closing: closing)
                throw error
            }
        }
        try store.inDatabase { db in
            if db.isInsideTransaction { try db.execute(Sql.rollback) }
        }
        audit.transactionEnded(committed: false, closing: closing)
    }

    // MARK: - A change's own transaction

    /// Opens the transaction one change runs in, outside an explicit one.
    func beginImplicit() throws {
        try store.inDatabase { db in try db.execute(Sql.beginImmediate) }
    }

    /// Commits a change's own transaction with its audit entry.
    func commitImplicit(with entry: AuditEntry) throws {
        do {
            try store.inDatabase { db in
                try audit.append([entry], db: db, lockHeld: true)
                try db.execute(Sql.commit)
            }
            audit.committed()
        } catch {
            rollbackImplicit()
            audit.restore()
            throw error
        }
    }

    /// Rolls back a change's own transaction (an error, or a dry-run's end).
    func rollbackImplicit() {
        try? store.inDatabase { db in
            if db.isInsideTransaction { try db.execute(Sql.rollback) }
        }
    }
}
