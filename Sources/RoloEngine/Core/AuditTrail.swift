import GRDB
import RoloStore
import RoloSyntax

/// One session's audit entries on their way into the chain: the session's audit service.
///
/// An entry of a read waits for the write lock (`pendingReads`), written when it is free, with the
/// next change, or spooled when the session ends; an entry of a statement inside an explicit
/// transaction is inserted under that transaction's lock (`pending`), a batch at a time, and kept
/// for a rollback (in memory, then in an `AuditSpill`), after which it is written again as rolled
/// back. Spooled lines of other sessions are judged and drained first by every write (`append`).
/// A session without the key of a keyed log may read, but refuses to write (`keyRefusal`).
///
/// The engine tells it whether a transaction is open; it knows nothing of statements or commands.
final class AuditTrail {
    let store: CRMStore
    let clock: any CRMClock
    /// The audit key (ROLO_AUDIT_KEY), if one is set: entries are then HMAC-chained.
    let key: AuditKey?
    /// Who acts, for the entry that notes rejected spool lines.
    var actor: () -> (id: Int64, impersonator: Int64?)

    /// Audit entries of the open transaction, written inside it at commit (or after a rollback).
    private var pending: [AuditEntry] = []
    /// How many of `pending` are inserted; the rest go in one batch (one read of the chain's
    /// head) at commit, before a command reads the audit log inside the transaction, or once
    /// `batch` of them wait.
    private var written = 0
    /// Inserted entries of the open transaction older than `pending`'s, kept out of memory for a
    /// rollback once more than `keptInMemory` are held.
    private let spill = AuditSpill()
    /// (Tests make these small.)
    var batch = 1_000
    var keptInMemory = 20_000
    /// Entries of the open transaction held in memory (for tests).
    var held: Int { pending.count }
    /// Entries of reads waiting for the write lock (see `flushReads`).
    private var pendingReads: [AuditEntry] = []
    /// Set once this session, which has no key, has found the log keyed: it may read, but it
    /// writes nothing (see `keyRefusal`), and its read entries are spooled unsealed.
    private var keylessOnKeyedLog = false
    /// The database's spool secret, once a committed write has seen it (`AuditSpoolSecret`).
    private var spoolSecret: [UInt8]? = nil
    /// The secret read or created by the write under way, kept once it commits.
    private var uncommittedSpoolSecret: [UInt8]? = nil
    /// Entries spooled by sessions that ended while the lock was taken, drained by this write.
    private var drainedSpool: AuditSpool.Drained? = nil
    private var appendedReads = 0

    init(store: CRMStore, clock: any CRMClock, key: AuditKey?, actor: @escaping () -> (id: Int64, impersonator: Int64?)) {
        self.store = store
        self.clock = clock
        self.key = key
        self.actor = actor
    }

    // MARK: - Entries

    /// The entry of a statement, made now for the acting user (and the admin behind an `as`).
    func entry(_ statement: ParsedStatement, outcome: AuditOutcome, rows: Int?, message: String?, changeSet: Int64? = nil) -> AuditEntry {
        let (user, impersonator) = actor()
        return AuditEntry(
            at: now(), userID: user, impersonatorID: impersonator, command: statement.text, outcome: outcome,
            rows: rows, message: message, changeSetID: changeSet)
    }

    /// An entry for something the session did itself (leaving the shell with a transaction open).
    func sessionEntry(_ command: String, outcome: AuditOutcome, message: String? = nil) -> AuditEntry {
        let (user, impersonator) = actor()
        return AuditEntry(
            at: now(), userID: user, impersonatorID: impersonator, command: command, outcome: outcome,
            rows: nil, message: message, changeSetID: nil)
    }

    /// The last time an entry was made at, and its text: the statements of one second share it
    /// rather than each writing it anew.
    private var lastTime: (time: Timestamp, text: String)? = nil

    /// The clock's time now, as entries hold it.
    private func now() -> String {
        let time = clock.now()
        if let lastTime, lastTime.time == time { return lastTime.text }
        let text = time.description
        lastTime = (time, text)
        return text
    }

    // MARK: - Keeping entries

    /// Keeps an entry: with the open transaction, or with the reads waiting for the write lock.
    func record(_ entry: AuditEntry, inTransaction: Bool) {
        if store.isReadOnly { return }  // said at open: reads on a read-only file are not audited
        if inTransaction {
            // Inserted under the transaction's write lock, at the latest with its COMMIT: the
            // commit keeps the entries with the changes.
            pending.append(entry)
            // A long transaction (a generated script) inserts its entries as it goes and keeps the
            // inserted ones for a rollback out of memory: memory does not grow with its length.
            // A failed insert is retried at commit, where a failure fails the transaction.
            if pending.count - written >= batch {
                do {
                    try writeTransactionEntries()
                    if written > keptInMemory, spill.append(pending[..<written]) {
                        pending.removeFirst(written)
                        written = 0
                    }
                } catch {}
            }
        } else {
            pendingReads.append(entry)
            flushReads(waiting: false, inTransaction: false)
        }
    }

    /// Inserts the open transaction's entries so far, so a command reading the audit log inside
    /// the transaction sees them.
    func writeTransactionEntries() throws {
        guard written < pending.count else { return }
        let entries = Array(pending[written...])
        try store.inDatabase { db in try AuditLog.append(entries, db: db, key: key) }
        written = pending.count
    }

    // MARK: - Transactions

    /// Ends the open transaction's audit: on commit (inside the still open transaction, before
    /// its COMMIT) the entries not yet inserted and `closing` are appended.
    func appendAtCommit(closing: AuditEntry?, db: Database) throws {
        let unwritten = Array(pending[written...]) + (closing.map { [$0] } ?? [])
        try AuditLog.append(unwritten, db: db, key: key)
    }

    /// After the transaction ended: committed, its entries are in the log; rolled back, every
    /// entry of it is written again as rolled back — the spilled ones first, a batch at a time,
    /// then those in memory, then `closing`.
    func transactionEnded(committed: Bool, closing: AuditEntry?) {
        var entries = pending
        pending = []
        written = 0
        if committed {
            spill.reset()
            self.committed()
            return
        }
        restore()
        spill.drain(batch: batch * 10) { batch in
            pendingReads.append(contentsOf: batch.map { $0.rolledBack() })
            flushReads(waiting: true, inTransaction: false)
        }
        if let closing { entries.append(closing) }
        pendingReads.append(contentsOf: entries.map { $0.rolledBack() })
        flushReads(waiting: true, inTransaction: false)
    }

    // MARK: - Reads waiting for the lock

    /// Writes waiting read entries if the write lock can be had — at once, or (`waiting`) within
    /// the busy timeout. A read never fails because its audit entry has to wait.
    func flushReads(waiting: Bool, inTransaction: Bool) {
        guard !pendingReads.isEmpty, !inTransaction, !store.isReadOnly, !keylessOnKeyedLog else { return }
        let write = {
            try self.store.inDatabase { db in
                try db.execute(Sql.beginImmediate)
                do {
                    try self.append([], db: db, lockHeld: true)
                    try db.execute(Sql.commit)
                } catch {
                    try? db.execute(Sql.rollback)
                    throw error
                }
            }
        }
        do {
            if waiting { try write() } else { try store.busy.withoutWaiting(write) }
            committed()
        } catch {
            restore()
        }
    }

    /// At the end of a session: read entries still waiting are written if the lock is free, or
    /// spooled, or (when the spool cannot take them) written once the lock comes.
    func finishSession() {
        flushReads(waiting: false, inTransaction: false)
        if !pendingReads.isEmpty {
            if (try? spoolPendingReads()) != nil {
                pendingReads = []
            } else {
                flushReads(waiting: true, inTransaction: false)
            }
        }
    }

    /// Writes the waiting read entries to the spool, sealed with the key this session would write
    /// with; a session without the key of a keyed log cannot seal them, and they will be kept
    /// aside, not appended. Fails (and the caller waits for the lock) when the database has no
    /// spool secret yet or the spool is not safe to write.
    private func spoolPendingReads() throws {
        let seal: AuditSpool.Seal
        if key == nil, try keylessOnKeyedLog || store.inDatabase({ db in try AuditLog.headIsKeyed(db: db) }) {
            seal = .none
        } else {
            guard let secret = try spoolSecret ?? store.inDatabase({ db in try AuditSpoolSecret.read(db) }) else {
                throw AuditSpool.Unsafe(description: "this database has no spool secret yet")
            }
            seal = AuditSpool.Seal(secret: secret, auditKey: key)
        }
        try AuditSpool(databasePath: store.path).spool(pendingReads, seal: seal)
    }

    // MARK: - The key

    /// A keyed audit log takes entries only from a session with its key: one without it may
    /// read, but its changes are refused before anything is written (an unkeyed entry after
    /// keyed ones would break the chain for good). Nil when this session may write.
    func keyRefusal(at range: SourceRange?) -> Diagnostic? {
        guard key == nil, !store.isReadOnly else { return nil }
        if !keylessOnKeyedLog {
            keylessOnKeyedLog = (try? store.inDatabase { db in try AuditLog.headIsKeyed(db: db) }) ?? false
        }
        return keylessOnKeyedLog ? Self.keyRequired(at: range) : nil
    }

    static func keyRequired(at range: SourceRange?) -> Diagnostic {
        Diagnostic(
            .auditKeyRequired, "this database's audit log is keyed and this session has no audit key: changes are refused; nothing was written",
            at: range, help: "set ROLO_AUDIT_KEY to the audit key file to write; reads work without it")
    }

    // MARK: - Writing under the lock

    /// Appends spooled entries, waiting reads, then `entries`, in that order. Outside a held
    /// lock (`lockHeld` false) it only drains when there is something to write.
    /// Spooled lines are judged first (`AuditSpool`): those not appended are noted in the chain
    /// by an entry of their own, and kept aside once the write commits.
    func append(_ entries: [AuditEntry], db: Database, lockHeld: Bool) throws {
        guard lockHeld else { return }
        if key == nil, try AuditLog.headIsKeyed(db: db) {
            keylessOnKeyedLog = true
            throw Self.keyRequired(at: nil)
        }
        let secret = try spoolSecret ?? AuditSpoolSecret.ensure(db)
        uncommittedSpoolSecret = secret
        let spool = AuditSpool(databasePath: store.path)
        drainedSpool = try spool.drain(seal: AuditSpool.Seal(secret: secret, auditKey: key), db: db, now: clock.now())
        appendedReads = pendingReads.count
        var spooled = drainedSpool?.entries ?? []
        if let drainedSpool, let note = drainedSpool.rejectionNote {
            let actor = actor()
            spooled.append(
                AuditEntry(
                    at: clock.now().description, userID: actor.id, impersonatorID: actor.impersonator, command: "(audit spool)",
                    outcome: .refused, rows: drainedSpool.review.rejected.count, message: note, changeSetID: nil))
        }
        try AuditLog.append(spooled + pendingReads + entries, db: db, key: key)
    }

    /// After a commit: the spooled and waiting entries are in the log.
    func committed() {
        if let uncommittedSpoolSecret { spoolSecret = uncommittedSpoolSecret }
        uncommittedSpoolSecret = nil
        drainedSpool?.discard()
        drainedSpool = nil
        pendingReads.removeFirst(min(appendedReads, pendingReads.count))
        appendedReads = 0
    }

    /// After a failed write: spooled entries go back to the spool, waiting reads keep waiting.
    func restore() {
        uncommittedSpoolSecret = nil
        drainedSpool?.restore()
        drainedSpool = nil
        appendedReads = 0
    }
}

/// One line of the audit log, before the chain gives it its hash.
public struct AuditEntry: Codable, Sendable {
    let at: String
    let userID: Int64
    let impersonatorID: Int64?
    let command: String
    var outcome: AuditOutcome
    let rows: Int?
    let message: String?
    var changeSetID: Int64? = nil

    /// The entry of a statement whose transaction was rolled back.
    func rolledBack() -> AuditEntry {
        var entry = self
        if entry.outcome == .ok {
            entry.outcome = .rolledBack
            entry.changeSetID = nil
        }
        return entry
    }
}
