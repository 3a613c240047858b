import Foundation
import GRDB
import RoloStore
import RoloTestSupport
import Testing

@testable import RoloEngine

/// The audit service alone, without an engine or a command: entries reach the chain at once when
/// the lock is free, wait and are spooled when it is not, are drained first by the next write, and
/// a transaction's entries are in the log after a commit and rolled back after a rollback.
@Suite("Audit trail")
struct AuditTrailTests {
    static func entry(_ command: String, outcome: AuditOutcome = .ok) -> AuditEntry {
        AuditEntry(
            at: SampleDatabase.clock.now().description, userID: 1, impersonatorID: nil, command: command, outcome: outcome, rows: nil,
            message: nil, changeSetID: nil)
    }

    static func trail(_ store: CRMStore) -> AuditTrail {
        AuditTrail(store: store, clock: SampleDatabase.clock, key: nil, actor: { (1, nil) })
    }

    /// The log's commands and outcomes after the ones it held before, by raw SQL.
    static func log(_ store: CRMStore, after: Int64) throws -> [String] {
        try store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT command, outcome FROM audit_log WHERE id > ? ORDER BY id", arguments: [after]).map {
                "\(try $0.decode(String.self, atIndex: 0))|\(try $0.decode(String.self, atIndex: 1))"
            }
        }
    }

    static func head(_ store: CRMStore) throws -> Int64 {
        try store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT coalesce(max(id), 0) FROM audit_log") } ?? 0
    }

    @Test func readsWaitForTheLockAndAreSpooledThenDrainedFirst() throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let start = try Self.head(store)
        let first = Self.trail(store)
        first.record(Self.entry("count contacts"), inTransaction: false)
        #expect(try Self.log(store, after: start) == ["count contacts|ok"])

        // Another session holds the write lock: the entry waits, and is spooled at the end.
        var config = Configuration()
        config.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: store.path, configuration: config)
        try other.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        store.busy.timeout = 0.1
        first.record(Self.entry("count deals"), inTransaction: false)
        first.finishSession()
        try other.inDatabase { db in try db.execute(sql: "COMMIT") }
        #expect(try Self.log(store, after: start) == ["count contacts|ok"])
        let spool = try String(contentsOfFile: store.path + "-audit-spool", encoding: .utf8)
        #expect(spool.contains("count deals"))

        // The next write drains the spool before its own entry.
        let second = Self.trail(store)
        second.record(Self.entry("count accounts"), inTransaction: false)
        #expect(try Self.log(store, after: start) == ["count contacts|ok", "count deals|ok", "count accounts|ok"])
    }

    @Test(arguments: [true, false])
    func aTransactionsEntriesCommitOrComeBackRolledBack(commit: Bool) throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let start = try Self.head(store)
        let trail = Self.trail(store)
        trail.batch = 2
        trail.keptInMemory = 3
        try store.dbQueue.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        for n in 1...9 { trail.record(Self.entry("step \(n)"), inTransaction: true) }
        #expect(trail.held <= 3 + 2)
        let closing = Self.entry(commit ? "commit" : "rollback", outcome: commit ? .ok : .rolledBack)
        if commit {
            try store.dbQueue.inDatabase { db in
                try trail.appendAtCommit(closing: closing, db: db)
                try db.execute(sql: "COMMIT")
            }
            trail.transactionEnded(committed: true, closing: nil)
        } else {
            try store.dbQueue.inDatabase { db in try db.execute(sql: "ROLLBACK") }
            trail.transactionEnded(committed: false, closing: closing)
        }
        let outcome = commit ? "ok" : "rolled_back"
        #expect(try Self.log(store, after: start) == (1...9).map { "step \($0)|\(outcome)" } + ["\(closing.command)|\(outcome)"])
    }
}
