import Crypto
import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

@Suite("Audit log")
struct AuditTests {
    func engineWithHistory() throws -> Engine {
        let engine = try SampleDatabase.engine()
        for command in ["count contacts", #"update contact 42 set title = "COO""#, "update contact 1 set emial = 1", "whoami"] {
            _ = run(engine, command)
        }
        return engine
    }

    @Test func everyOutcomeIsRecorded() throws {
        let engine = try engineWithHistory()
        _ = run(engine, #"update contact 42 set title = "CEO" --dry-run"#)
        let bob = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "bob")
        _ = run(bob, "update deal 1 set stage = won")
        _ = run(engine, "as bob count deals")
        let rows = try engine.store.dbQueue.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT u.handle, i.handle AS by, outcome, command FROM audit_log a JOIN users u ON u.id = a.user_id LEFT JOIN users i ON i.id = a.impersonator_id ORDER BY a.id"
            )
        }
        let summary = rows.map { "\($0["handle"] as String)/\(($0["by"] as String?) ?? "-")/\($0["outcome"] as String)" }
        #expect(summary == ["admin/-/ok", "admin/-/ok", "admin/-/error", "admin/-/ok", "admin/-/dry_run", "bob/-/refused", "bob/admin/ok"])
    }

    /// The chain's digest is a stored format: these hashes were computed outside Rolo (Python's
    /// hashlib over "len:field|len:field|…"), so a change to how the text is built fails here
    /// before it breaks the chains already written.
    @Test func digestIsTheDocumentedFormat() {
        #expect(
            AuditLog.digest(
                id: 1, at: "2026-11-22T10:00:00Z", user: 3, impersonator: nil, command: #"count contacts where company = "Acme Inc""#,
                outcome: "ok", rows: 1_234_567_890_123, message: nil, previous: AuditLog.genesis)
                == "d9ec9d268de79b40d5af39240fdb6d9847e629461bff97e8b5a2580a6ad38860")
        #expect(
            AuditLog.digest(
                id: 9_876_543_210, at: "2026-11-22T10:00:00.125Z", user: nil, impersonator: -7,
                command: #"update deal 1 set name = "Café ☕""#, outcome: "error", rows: -1, message: "E301 unknown field",
                previous: String(repeating: "ab", count: 32))
                == "1d13f29edec3b58a4c892b357aec8a148635bf80a32c3cb4ef5de4c401c4a640")
    }

    /// The digest and the CSV export write numbers through `DecimalBytes`; both formats are
    /// `String(value)`'s spelling.
    @Test func decimalBytesSpellNumbersAsStringDoes() {
        let values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 1_234_567_890_123, -987_654_321, .max, .min, .min + 1]
        for value in values {
            var bytes: [UInt8] = [UInt8(ascii: "x")]
            DecimalBytes.append(value, to: &bytes)
            #expect(String(decoding: bytes.dropFirst(), as: UTF8.self) == String(value))
            #expect(DecimalBytes.count(value) == String(value).utf8.count, "count of \(value)")
        }
    }

    /// A transaction's entries are written together at commit (one read of the chain's head):
    /// every entry lands, in order, and the chain verifies.
    @Test func aTransactionsEntriesKeepTheChain() throws {
        let engine = try engineWithHistory()
        let before = try engine.store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT max(id) FROM audit_log") ?? 0 }
        let commands = (1...57).map { "count deals where amount > \($0)" }
        #expect(run(engine, "begin").error == nil)
        for command in commands { #expect(run(engine, command).error == nil) }
        #expect(run(engine, "commit").error == nil)
        let written = try engine.store.dbQueue.read { db in
            try String.fetchAll(db, sql: "SELECT command FROM audit_log WHERE id > ? ORDER BY id", arguments: [before])
        }
        #expect(Array(written.prefix(commands.count + 1)) == ["begin"] + commands)
        #expect(run(engine, "verify audit").output.contains("chain is intact"))
    }

    @Test func verifyFindsAlteredAndMissingEntries() throws {
        let engine = try engineWithHistory()
        #expect(run(engine, "verify audit").output.contains("chain is intact"))
        // Alter an entry behind Rolo's back.
        try engine.store.dbQueue.write { try $0.execute(sql: "UPDATE audit_log SET command = 'count deals' WHERE id = 2") }
        let altered = run(engine, "verify audit")
        #expect(altered.error?.message == "audit entry 2 was altered after it was written")
        try engine.store.dbQueue.write {
            try $0.execute(sql: "UPDATE audit_log SET command = ? WHERE id = 2", arguments: [#"update contact 42 set title = "COO""#])
        }
        #expect(run(engine, "verify audit").error == nil)
        // Remove one.
        try engine.store.dbQueue.write { try $0.execute(sql: "DELETE FROM audit_log WHERE id = 3") }
        #expect(run(engine, "verify audit").error?.message == "audit entries 3 are missing")
    }

    @Test func escalationIsRefused() throws {
        let engine = try SampleDatabase.engine()
        let bob = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "bob")
        let attempts: [(Engine, String, DiagnosticCode)] = [
            (bob, "grant admin to bob", .permissionDenied),
            (bob, "grant sales_manager to bob", .permissionDenied),
            (bob, "allow sales_rep update deals scope all", .permissionDenied),
            (bob, "as carol find deals", .escalation),
            (bob, "login carol", .escalation),
            (engine, "revoke admin from admin", .escalation),
            (engine, "deactivate user admin", .escalation),
        ]
        for (actor, command, code) in attempts {
            let before = try totalChanges(engine.store)
            let result = run(actor, command)
            #expect(result.error?.code == code, "\(command): \(result.error?.message ?? "succeeded")")
            #expect(try totalChanges(engine.store) - before == 1, "\(command) wrote something")
        }
        // A granter may hand on only what they hold.
        for command in [
            "create role helpdesk", "allow helpdesk grant roles scope all", "allow helpdesk read users scope all",
            #"create user hana name="Hana""#, "grant helpdesk to hana",
        ] {
            #expect(run(engine, command).error == nil, "\(command)")
        }
        let hana = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "hana")
        #expect(run(hana, "grant admin to hana").error?.code == .escalation)
        #expect(run(hana, "grant cfo to ivan").error?.code == .escalation)
        #expect(run(hana, "allow helpdesk read deals scope all").error?.code == .escalation)
        #expect(run(hana, "deny support_rep read contacts.phone").error == nil)
    }

    @Test func deactivatedUsersCannotAct() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, "deactivate user bob").error == nil)
        #expect(throws: Diagnostic.self) { try Engine(store: engine.store, clock: SampleDatabase.clock, user: "bob") }
        #expect(run(engine, "as bob count deals").error?.code == .permissionDenied)
    }

    /// Every break is reported, not only the first; an anchor kept outside the database catches
    /// what a chain alone cannot: entries cut from the end, and a chain recomputed from scratch.
    @Test func anchorsCatchTruncationAndRecomputedChains() throws {
        let engine = try engineWithHistory()
        let anchor = run(engine, "audit anchor").output.split(separator: "\n")[0]
        let anchor2 =
            try "2:" + (engine.store.dbQueue.read { try String.fetchOne($0, sql: "SELECT hash FROM audit_log WHERE id = 2") } ?? "")
        #expect(run(engine, "verify audit --anchor \"\(anchor)\"").output.contains("holds the anchor"))
        // Two alterations: both are reported.
        try engine.store.dbQueue.write { db in
            try db.execute(sql: "UPDATE audit_log SET command = 'x' WHERE id IN (1, 3)")
        }
        let twice = run(engine, "verify audit")
        #expect(twice.error?.code == .auditBroken)
        #expect(twice.output.contains("break: audit entry 1 was altered") && twice.output.contains("break: audit entry 3 was altered"))
        // Put them right, then cut the last two entries: the chain left is intact, the anchor is not.
        try engine.store.dbQueue.write { db in
            try db.execute(sql: "UPDATE audit_log SET command = 'count contacts' WHERE id = 1")
            try db.execute(sql: "UPDATE audit_log SET command = 'update contact 1 set emial = 1' WHERE id = 3")
        }
        let anchored = Int64(anchor.split(separator: ":")[0]) ?? 0
        try engine.store.dbQueue.write { try $0.execute(sql: "DELETE FROM audit_log WHERE id >= ?", arguments: [anchored]) }
        let store = engine.store
        func verify(_ anchor: Substring) throws -> (String, Diagnostic?) {
            var result: (String, Diagnostic?) = ("", nil)
            let output = StringOutput()
            do {
                let parsed = try AuditLog.parseAnchor(String(anchor), at: nil)
                _ = try store.dbQueue.read { db in try AuditLog.verify(db: db, key: nil, anchor: parsed, output: output) }
            } catch let diagnostic as Diagnostic {
                result.1 = diagnostic
            }
            result.0 = output.text
            return result
        }
        #expect(try verify(anchor).1?.message.contains("entries were removed from the end") == true)
        // A recomputed chain (every hash rewritten consistently) verifies alone, not against the anchor.
        try store.dbQueue.write { db in
            try db.execute(sql: "UPDATE audit_log SET command = command || ' ' WHERE id = 1")
            var previous = AuditLog.genesis
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id") {
                let hash = AuditLog.digest(
                    id: row["id"], at: row["at"], user: row["user_id"], impersonator: row["impersonator_id"], command: row["command"],
                    outcome: row["outcome"], rows: row["rows"], message: row["message"], changeSet: row["change_set_id"],
                    previous: previous, key: nil)
                try db.execute(sql: "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", arguments: [previous, hash, row["id"]])
                previous = hash
            }
        }
        #expect(run(engine, "verify audit").error == nil)
        #expect(try verify(Substring(anchor2)).1?.message.contains("differs from the anchor") == true)
    }

    /// A NUL in a command is stored as ␀ and hashed as stored, so the chain still verifies.
    @Test func aNulByteDoesNotBreakTheChain() throws {
        let engine = try SampleDatabase.engine()
        _ = run(engine, "count contacts where first_name = \"a\u{0}b\"")
        _ = run(engine, "count deals")
        #expect(run(engine, "verify audit").error == nil)
    }

    /// With a key the chain is an HMAC: verified with the key, unverifiable without it, and an
    /// unkeyed entry after keyed ones is a break.
    @Test func aKeyedChainNeedsItsKey() throws {
        let store = try CRMStore.inMemory()
        let key = AuditKey(key: SymmetricKey(data: Data(repeating: 7, count: 32)))
        func entry(_ command: String) -> AuditEntry {
            AuditEntry(
                at: "2026-11-22T10:00:00Z", userID: 1, impersonatorID: nil, command: command, outcome: .ok, rows: 1, message: nil)
        }
        try store.dbQueue.write { db in
            try db.execute(sql: "INSERT INTO users (handle, name, created_at, updated_at) VALUES ('a', 'A', 'now', 'now')")
            try AuditLog.append([entry("one"), entry("two")], db: db, key: key)
        }
        func verify(_ key: AuditKey?) throws -> (String, Diagnostic?) {
            let output = StringOutput()
            do {
                _ = try store.dbQueue.read { db in try AuditLog.verify(db: db, key: key, anchor: nil, output: output) }
                return (output.text, nil)
            } catch let diagnostic as Diagnostic {
                return (output.text, diagnostic)
            }
        }
        #expect(try verify(key).1 == nil)
        #expect(try verify(nil).0.contains("keyed"))
        let wrong = AuditKey(key: SymmetricKey(data: Data(repeating: 8, count: 32)))
        #expect(try verify(wrong).1?.code == .auditBroken)
        try store.dbQueue.write { db in try AuditLog.append([entry("three")], db: db, key: nil) }
        #expect(try verify(key).1?.message.contains("not keyed") == true)
    }

    /// A read runs while another connection holds an open write transaction: it neither waits
    /// nor fails, and its entry reaches the log with the next change.
    @Test func aReadRunsBesideAnOpenWriteTransaction() throws {
        let engine = try SampleDatabase.engine()
        var config = Configuration()
        config.allowsUnsafeTransactions = true  // another session holding its transaction open
        let other = try DatabaseQueue(path: engine.store.path, configuration: config)
        try other.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "UPDATE contacts SET title = 'held' WHERE id = 1")
        }
        engine.store.busy.timeout = 0.2
        let started = Date()
        let read = run(engine, "count contacts")
        #expect(read.error == nil && read.output == "3000\n")
        #expect(Date().timeIntervalSince(started) < 0.15)
        // A change now cannot take the lock: refused before it wrote, saying why.
        let blocked = run(engine, "update contact 2 set title = \"x\"")
        #expect(blocked.error?.code == .databaseUnavailable)
        try other.inDatabase { db in try db.execute(sql: "COMMIT") }
        #expect(run(engine, "update contact 2 set title = \"x\"").error == nil)
        let commands = try engine.store.dbQueue.read { db in try String.fetchAll(db, sql: "SELECT command FROM audit_log ORDER BY id") }
        #expect(commands == ["count contacts", "update contact 2 set title = \"x\"", "update contact 2 set title = \"x\""])
        let linked = try engine.store.dbQueue.read { db in
            try Int64.fetchOne(db, sql: "SELECT change_set_id FROM audit_log WHERE outcome = 'ok' AND command LIKE 'update%'")
        }
        #expect(linked != nil)
        #expect(run(engine, "verify audit").error == nil)
    }
}
