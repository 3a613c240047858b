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
}
