import Crypto
import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// The audit spool (`FILE-audit-spool`): read entries of a session that ended while another held
/// the write lock. Only lines the spool itself wrote join the chain; anything else is kept aside
/// and reported by `verify audit`. The oracles read the files and the raw tables, not the code
/// under test; spool lines are built here by hand (HMAC with the secret read by SQL).
@Suite("Audit spool")
struct AuditSpoolTests {
    static let forged =
        #"{"at":"2026-11-22T10:00:00Z","userID":1,"impersonatorID":null,"command":"delete contacts where id > 0","outcome":"ok","rows":3000,"message":null,"changeSetID":1}"#

    func spoolPath(_ engine: Engine) -> String { engine.store.path + "-audit-spool" }
    func rejectedPath(_ engine: Engine) -> String { engine.store.path + "-audit-spool-rejected" }

    /// Another session holding the write lock (an open `BEGIN IMMEDIATE`).
    func holdLock(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: path, configuration: config)
        try other.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        return other
    }

    func release(_ other: DatabaseQueue) throws {
        try other.inDatabase { db in try db.execute(sql: "COMMIT") }
    }

    /// A session that reads while the lock is held and ends: its entries are spooled.
    func spoolReads(_ engine: Engine, _ commands: [String]) throws {
        let other = try holdLock(engine.store.path)
        engine.store.busy.timeout = 0.1
        for command in commands { #expect(run(engine, command).error == nil, "\(command)") }
        engine.finish()
        try release(other)
    }

    func commands(_ store: CRMStore) throws -> [String] {
        try store.dbQueue.read { db in try String.fetchAll(db, sql: "SELECT command FROM audit_log ORDER BY id") }
    }

    func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    func write(_ text: String, to path: String, mode: mode_t = 0o600) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
    }

    /// The per-database spool secret, read with SQL.
    func secret(_ store: CRMStore) throws -> [UInt8] {
        let hex = try store.dbQueue.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM rolo_meta WHERE key = 'audit_spool_secret'")
        }
        let text = Array((hex ?? "").utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < text.count {
            bytes.append(UInt8(String(decoding: text[index...index + 1], as: UTF8.self), radix: 16) ?? 0)
            index += 2
        }
        return bytes
    }

    /// A spool line as the spool writes it: `s:` and the HMAC-SHA-256 of the JSON with the
    /// database's secret, a space, the JSON.
    func line(
        secret: [UInt8], session: String, seq: Int, of count: Int, at: String = "2026-11-22T10:00:00Z", user: Int64 = 1,
        command: String, changeSet: Int64? = nil, macOf other: String? = nil
    ) -> String {
        let changeSetJSON = changeSet.map(String.init) ?? "null"
        let json =
            #"{"session":"\#(session)","seq":\#(seq),"of":\#(count),"entry":{"at":"\#(at)","userID":\#(user),"impersonatorID":null,"command":"\#(command)","outcome":"ok","rows":1,"message":null,"changeSetID":\#(changeSetJSON)}}"#
        let mac = HMAC<SHA256>.authenticationCode(for: Data((other ?? json).utf8), using: SymmetricKey(data: secret))
        return "s:" + mac.map { String(format: "%02x", $0) }.joined() + " " + json
    }

    /// A hand-written line (valid JSON in the old format, any user, outcome, change set) and a line
    /// of garbage: neither joins the chain; both are kept aside, and `verify audit` reports them.
    @Test func aForgedLineIsNotAppended() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, "count contacts").error == nil)
        let before = try commands(engine.store)
        try write(Self.forged + "\nthis is not an entry {\n", to: spoolPath(engine))
        let writer = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "admin")
        #expect(run(writer, #"update contact 2 set title = "x""#).error == nil)
        let after = try commands(engine.store)
        #expect(!after.contains("delete contacts where id > 0"))
        #expect(Array(after.prefix(before.count)) == before)
        #expect(access(spoolPath(engine), F_OK) != 0, "the spool was drained")
        #expect(mode(rejectedPath(engine)) == 0o600)
        let kept = String(decoding: FileManager.default.contents(atPath: rejectedPath(engine)) ?? Data(), as: UTF8.self)
        #expect(kept.contains("delete contacts where id \\u003e 0") || kept.contains("delete contacts where id > 0"))
        #expect(kept.contains("this is not an entry"))
        // The chain itself records the rejection.
        let noted = try engine.store.dbQueue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE outcome = 'refused' AND message LIKE '%rejected%'")
        }
        #expect(noted == 1)
        let verify = run(writer, "verify audit")
        #expect(verify.error?.code == .auditBroken)
        #expect(verify.error?.message.contains("2 lines of the audit spool") == true, "\(verify.error?.message ?? "passed")")
        #expect(verify.output.contains("without a valid MAC") && verify.output.contains("unparseable"), "\(verify.output)")
        #expect(!verify.output.contains("altered"))
        #expect(verify.error?.help?.contains("the chain itself is intact") == true)
        // Dealt with: once the kept lines are removed, the chain verifies.
        unlink(rejectedPath(engine))
        #expect(run(writer, "verify audit").error == nil)
    }

    /// A line in the spool is reported by `verify audit` before any write drains it.
    @Test func verifyReportsAForgedLineStillInTheSpool() throws {
        let engine = try SampleDatabase.engine()
        try write(Self.forged + "\n", to: spoolPath(engine))
        let verify = run(engine, "verify audit")
        #expect(verify.error?.code == .auditBroken)
        #expect(verify.output.contains("without a valid MAC"), "\(verify.output)")
        // Verify's own entry was then appended, and the line moved aside on the way.
        #expect(access(spoolPath(engine), F_OK) != 0)
        #expect(run(engine, "verify audit").output.contains("1 line of the audit spool was not appended"))
    }

    /// What the spool wrote itself joins the chain at the next write, before it, and verifies.
    @Test func aGenuineSpooledReadJoinsTheChain() throws {
        let engine = try SampleDatabase.engine()
        try spoolReads(engine, ["count contacts", "count deals"])
        #expect(mode(spoolPath(engine)) == 0o600)
        #expect(try commands(engine.store).isEmpty)
        let writer = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "bob")
        #expect(run(writer, "count tasks").error == nil)
        #expect(try commands(engine.store) == ["count contacts", "count deals", "count tasks"])
        #expect(access(spoolPath(engine), F_OK) != 0)
        #expect(access(rejectedPath(engine), F_OK) != 0)
        let verify = run(engine, "verify audit")
        #expect(verify.error == nil, "\(verify.error?.message ?? "")")
    }

    /// A line with a valid MAC is still refused when it names a user or change set that does not
    /// exist, when its session's lines are out of time order, or when lines of its session are
    /// missing; a line with another line's MAC is refused. A good line beside them goes in.
    @Test func validMacsAreNotEnough() throws {
        let engine = try SampleDatabase.engine()
        try spoolReads(engine, ["count contacts"])
        let writer = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "admin")
        #expect(run(writer, "count tasks").error == nil)
        let secret = try secret(engine.store)
        #expect(secret.count >= 16, "a spool secret is kept in rolo_meta")
        let lines = [
            line(secret: secret, session: "a1", seq: 0, of: 1, user: 999_999, command: "ghost user"),
            line(secret: secret, session: "a2", seq: 0, of: 1, command: "ghost change", changeSet: 999_999),
            line(secret: secret, session: "a3", seq: 0, of: 2, at: "2026-11-22T10:00:00Z", command: "late one"),
            line(secret: secret, session: "a3", seq: 1, of: 2, at: "2026-11-22T09:00:00Z", command: "early one"),
            line(secret: secret, session: "a4", seq: 0, of: 1, command: "stolen mac", macOf: "something else"),
            line(secret: secret, session: "a5", seq: 1, of: 2, command: "half a session"),
            line(secret: secret, session: "a6", seq: 0, of: 1, command: "count deals"),
        ]
        try write(lines.joined(separator: "\n") + "\n", to: spoolPath(engine))
        #expect(run(writer, #"update contact 2 set title = "x""#).error == nil)
        let written = try commands(engine.store)
        for refused in ["ghost user", "ghost change", "late one", "early one", "stolen mac", "half a session"] {
            #expect(!written.contains(refused), "\(refused) was appended")
        }
        #expect(written.contains("count deals"))
        let verify = run(writer, "verify audit")
        #expect(verify.error?.code == .auditBroken)
        #expect(verify.error?.message.contains("6 lines of the audit spool") == true, "\(verify.error?.message ?? "passed")")
        for reason in ["no such user", "no such change set", "out of time order", "without a valid MAC", "missing"] {
            #expect(verify.output.contains(reason), "\(reason) in: \(verify.output)")
        }
    }

    /// A spool someone else could write (mode wider than 0600) is not trusted; a spool that is a
    /// symbolic link is not followed, neither to read nor to write.
    @Test func anUnsafeSpoolIsNotTrusted() throws {
        let engine = try SampleDatabase.engine()
        try spoolReads(engine, ["count contacts"])
        chmod(spoolPath(engine), 0o644)
        let writer = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "admin")
        #expect(run(writer, "count deals").error == nil)
        #expect(try commands(engine.store) == ["count deals"] || !(try commands(engine.store)).contains("count contacts"))
        let verify = run(writer, "verify audit")
        #expect(verify.error?.code == .auditBroken)
        #expect(verify.output.contains("0644"), "\(verify.output)")
        unlink(rejectedPath(engine))

        // A symbolic link: the spool is not written through it, and what it points to is not read.
        let victim = engine.store.path + "-victim"
        try write(Self.forged + "\n", to: victim, mode: 0o600)
        symlink(victim, spoolPath(engine))
        let reader = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "admin")
        let other = try holdLock(engine.store.path)
        reader.store.busy.timeout = 0.1
        #expect(run(reader, "count tasks").error == nil)
        reader.finish()
        try release(other)
        #expect(String(decoding: FileManager.default.contents(atPath: victim) ?? Data(), as: UTF8.self) == Self.forged + "\n")
        #expect(run(writer, #"update contact 2 set title = "x""#).error == nil)
        #expect(!(try commands(engine.store)).contains("delete contacts where id > 0"))
        #expect(String(decoding: FileManager.default.contents(atPath: victim) ?? Data(), as: UTF8.self) == Self.forged + "\n")
        let linked = run(writer, "verify audit")
        #expect(linked.error?.code == .auditBroken)
        #expect(linked.output.contains("symbolic link"), "\(linked.output)")
    }

    /// A keyed log: a session without the key reads, but refuses to write — saying why, and
    /// changing nothing — and its read entries do not break the chain.
    @Test func aKeyedLogRefusesASessionWithoutTheKey() throws {
        let engine = try SampleDatabase.engine()
        let key = AuditKey(key: SymmetricKey(data: Data(repeating: 7, count: 32)))
        try engine.store.dbQueue.write { db in
            try AuditLog.append(
                [
                    AuditEntry(
                        at: "2026-11-22T10:00:00Z", userID: 1, impersonatorID: nil, command: "count contacts", outcome: .ok, rows: 1,
                        message: nil)
                ], db: db, key: key)
        }
        let keyless = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "admin")
        let before = try snapshot(engine.store)
        let auditBefore = try commands(engine.store)
        for command in [#"update contact 2 set title = "x""#, "begin", #"create task title="t" status=open"#] {
            let refused = run(keyless, command)
            #expect(refused.error?.code == DiagnosticCode("E513"), "\(command): \(refused.error?.message ?? "succeeded")")
            #expect(refused.error?.help?.contains("ROLO_AUDIT_KEY") == true)
        }
        #expect(run(keyless, "count contacts").error == nil)
        #expect(try snapshot(engine.store) == before)
        #expect(try commands(engine.store) == auditBefore)
        keyless.finish()
        #expect(try commands(engine.store) == auditBefore)
        // With the key, the chain verifies: nothing unkeyed was appended after the keyed entry.
        let keyed = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "admin", auditKey: key)
        #expect(run(keyed, #"update contact 2 set title = "y""#).error == nil)
        let hashes = try engine.store.dbQueue.read { db in try String.fetchAll(db, sql: "SELECT hash FROM audit_log ORDER BY id") }
        #expect(hashes.allSatisfy { $0.hasPrefix("k:") })
        let verify = run(keyed, "verify audit")
        #expect(!verify.output.contains("not keyed"))
        #expect(!verify.output.contains("altered"))
        // The keyless session's entries (a read and three refusals) had no seal: kept aside, reported.
        #expect(verify.error?.code == .auditBroken)
        #expect(verify.output.contains("4 lines of the audit spool") && verify.output.contains("without a valid MAC"), "\(verify.output)")
        let kept = String(decoding: FileManager.default.contents(atPath: rejectedPath(engine)) ?? Data(), as: UTF8.self)
        #expect(kept.contains("without the audit key"))
    }
}
