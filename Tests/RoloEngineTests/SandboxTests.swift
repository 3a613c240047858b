import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Sandboxes (docs/training.md): `checkpoint`, `checkpoints` and `reset`. The oracles are the
/// test's own: copies SQLite makes with `VACUUM INTO` on a connection of the test's, and every
/// table's rows read with SQL of the test's over the files, tables found in `sqlite_master`.
@Suite("Sandboxes")
struct SandboxTests {
    /// Every table of the database at `path` but `excluded`, found in `sqlite_master` (SQLite's own
    /// tables included), each row as its rowid and each column's storage type and quoted value,
    /// in rowid order: equal for two files exactly when the tables hold the same rows, byte for byte.
    static func tableRows(_ path: String, excluding excluded: Set<String> = ["audit_log"]) throws -> [String: [String]] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: config)
        return try queue.read { db in
            var tables: [String: [String]] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            where !excluded.contains(table) {
                let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table])
                let values = columns.map { "typeof(\"\($0)\"), quote(\"\($0)\")" }.joined(separator: ", ")
                tables[table] = try Row.fetchAll(db, sql: "SELECT rowid, \(values) FROM \"\(table)\" ORDER BY rowid").map(\.description)
            }
            return tables
        }
    }

    /// The audit log's rows, whole, in order.
    static func auditRows(_ path: String) throws -> [String] {
        try tableRows(path, excluding: [])["audit_log"] ?? []
    }

    /// A copy of the database at `path` that SQLite makes on the test's own connection.
    static func independentCopy(_ path: String) throws -> String {
        let copy = try SampleDatabase.temporaryFolder() + "/oracle.db"
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [copy]) }
        try queue.close()
        return copy
    }

    static func expectRuns(_ engine: Engine, _ commands: [String]) {
        for command in commands {
            let result = run(engine, command)
            #expect(result.error == nil, "\(command) → \(result.error?.message ?? "")")
        }
    }

    /// Changes across tables: records updated, created and deleted, a user made, granted a role
    /// and acting (so audit entries name them), a team, a validation rule, an assignment, a
    /// merge, an activity, an undo.
    static let changes = [
        #"update contacts where id <= 5 set title = "Trainer""#,
        #"create contact first_name="Tia" last_name="Test" email="tia@example.com""#,
        "delete deal 3",
        #"create user zed name="Zed Zimmer""#,
        "grant sales_rep to zed",
        "as zed count contacts",
        #"create team "Trainees""#,
        #"rule deals require close_date when stage >= proposal "Deals past proposal need a close date""#,
        "assign deals where owner = bob to carol",
        "merge contact 17 into 12",
        #"log call on contact 42 "Discussed the class""#,
        "undo",
    ]

    @Test func resetRestoresACheckpointByteForByteButTheAuditLog() throws {
        let engine = try SampleDatabase.sandboxEngine()
        let path = engine.store.path
        // A change before the checkpoint, so it holds field history and a change set too.
        Self.expectRuns(engine, [#"update contact 1 set title = "Before class""#, "checkpoint before-class"])
        let oracle = try Self.independentCopy(path)
        let kept = try Self.tableRows(oracle)
        Self.expectRuns(engine, Self.changes)
        // Tables whose rows have no number of their own (rowids only), changed by hand: a reset
        // puts them back under the same rowids.
        let other = try DatabaseQueue(path: path)
        try other.write { db in
            try db.execute(sql: "DELETE FROM rolo_meta WHERE key = 'sample.padded_emails'")
            try db.execute(sql: "INSERT INTO rolo_meta (key, value) VALUES ('note', 'written by hand')")
            try db.execute(sql: "UPDATE sqlite_stat1 SET stat = '1 1' WHERE rowid = (SELECT min(rowid) FROM sqlite_stat1)")
            // A case change in a column compared without case (COLLATE NOCASE) is a change too.
            try db.execute(sql: "UPDATE campaigns SET name = upper(name) WHERE id = 1")
        }
        try other.close()
        let changed = try Self.tableRows(path)
        for table in [
            "contacts", "deals", "users", "user_roles", "teams", "validation_rules", "change_sets", "field_history", "activities",
            "rolo_meta", "sqlite_stat1", "campaigns",
        ] {
            #expect(changed[table] != kept[table], "the changes reached \(table)")
        }
        let auditBefore = try Self.auditRows(path)

        let reset = run(engine, "reset before-class")
        #expect(reset.error == nil, "\(reset.error?.message ?? "")")
        #expect(reset.output.contains("reset to checkpoint 'before-class'"), "\(reset.output)")

        let restored = try Self.tableRows(path)
        #expect(Set(restored.keys) == Set(kept.keys))
        #expect(restored.keys.contains("sqlite_stat1") && restored.keys.contains("rolo_meta"))
        for (table, rows) in kept {
            #expect(restored[table] == rows, "\(table) differs from the checkpoint after the reset")
        }
        // The audit log kept every entry as it was, and the reset's own came after them.
        let auditAfter = try Self.auditRows(path)
        #expect(auditAfter.count > auditBefore.count)
        #expect(Array(auditAfter.prefix(auditBefore.count)) == auditBefore)
        let last = try DatabaseQueue(path: path).read { db in
            try Row.fetchOne(db, sql: "SELECT command, outcome, message FROM audit_log ORDER BY id DESC LIMIT 1")
        }
        #expect((last?["command"] as String?) == "reset before-class")
        #expect((last?["outcome"] as String?) == "ok")
        let message: String = last?["message"] ?? ""
        #expect(message.contains("#26 zed"), "the reset's entry names the user earlier entries name and the checkpoint lacks: \(message)")
        let verified = run(engine, "verify audit")
        #expect(verified.error == nil, "\(verified.error?.message ?? "")")
        #expect(verified.output.contains("the chain is intact"))
        // No foreign key is broken but the audit log's references to the user the reset took away.
        let broken = try DatabaseQueue(path: path).read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }
        #expect(!broken.isEmpty && broken.allSatisfy { ($0["table"] as String?) == "audit_log" }, "\(broken)")

        // The session goes on in the restored state: its change history is the checkpoint's.
        let undo = run(engine, "undo")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")")
        let title = try DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "SELECT title FROM contacts WHERE id = 1") }
        #expect(title == "Account Executive")
    }

    @Test func resetWithNoNameReturnsToTheFreshState() throws {
        let engine = try SampleDatabase.sandboxEngine()
        let path = engine.store.path
        let fresh = try Self.tableRows(try Self.independentCopy(path))
        Self.expectRuns(engine, Self.changes + ["checkpoint midway", #"update deals set amount = amount + 100"#])
        #expect(try Self.tableRows(path) != fresh)
        let reset = run(engine, "reset")
        #expect(reset.error == nil, "\(reset.error?.message ?? "")")
        #expect(reset.output.contains("checkpoint 'fresh'"), "\(reset.output)")
        #expect(try Self.tableRows(path) == fresh)
        // Still a sandbox, whose other checkpoints are still there.
        #expect(engine.session.isSandbox)
        #expect(run(engine, "checkpoints").output.contains("midway"))
    }

    /// A reset's dry-run says what would change and writes nothing: no table, no audit entry
    /// beyond its own (recorded as a dry-run).
    @Test func resetDryRunWritesNothing() throws {
        let engine = try SampleDatabase.sandboxEngine()
        let path = engine.store.path
        Self.expectRuns(engine, [#"create contact first_name="Tia" last_name="Test""#])
        let before = try Self.tableRows(path)
        let preview = run(engine, "reset --dry-run")
        #expect(preview.error == nil, "\(preview.error?.message ?? "")")
        #expect(preview.output.contains("contacts: 3,001 → 3,000 rows"), "\(preview.output)")
        #expect(preview.output.contains("nothing was written"))
        #expect(try Self.tableRows(path) == before)
        #expect(try auditOutcomes(engine.store).last == "dry_run")
    }

    /// `rolo init` databases are not sandboxes: each sandbox command is refused (E515) and
    /// writes nothing — no table changes (the audit log records the refusal, as for every
    /// refused command), no checkpoint file or folder.
    @Test(arguments: ["checkpoint before-class", "checkpoint before-class --force", "checkpoints", "reset", "reset before-class", "reset --dry-run"])
    func refusedOutsideASandbox(_ command: String) throws {
        let path = try SampleDatabase.temporaryFolder() + "/crm.db"
        let store = try CRMStore.open(path: path, mode: .createIfMissing)
        try Engine.bootstrapAdmin(store: store, handle: "ana", name: "Ana Ruiz", clock: SampleDatabase.clock)
        let engine = try Engine(store: store, clock: SampleDatabase.clock, user: "ana")
        #expect(!engine.session.isSandbox)
        let before = try Self.tableRows(path)
        let result = run(engine, command)
        #expect(result.error?.code == .notSandbox, "\(result.error?.message ?? "ran")")
        #expect(result.output.isEmpty)
        #expect(try Self.tableRows(path) == before)
        #expect(!FileManager.default.fileExists(atPath: Sandbox.folder(for: path)))
        #expect(try auditOutcomes(store).last == "error")
    }

    /// The sample company the tests use is not a sandbox either: only `rolo demo` (and
    /// `Sandbox.make`) makes one.
    @Test func aSampleCopyIsNotASandbox() throws {
        let engine = try SampleDatabase.engine()
        #expect(!engine.session.isSandbox)
        #expect(run(engine, "checkpoint x").error?.code == .notSandbox)
    }

    /// Checkpoints and resets are for admins; others are refused before anything is written.
    @Test(arguments: ["checkpoint mine", "reset", "reset fresh --dry-run"])
    func onlyAdminsCheckpointAndReset(_ command: String) throws {
        let engine = try SampleDatabase.sandboxEngine(user: "bob")
        let before = try Self.tableRows(engine.store.path)
        let files = try FileManager.default.contentsOfDirectory(atPath: Sandbox.folder(for: engine.store.path))
        let result = run(engine, command)
        #expect(result.error?.code == .permissionDenied, "\(result.error?.message ?? "ran")")
        #expect(try Self.tableRows(engine.store.path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: Sandbox.folder(for: engine.store.path)) == files)
        // Anyone may list them.
        #expect(run(engine, "checkpoints").error == nil)
    }

    @Test func checkpointNamesAndReplacing() throws {
        let engine = try SampleDatabase.sandboxEngine()
        let folder = Sandbox.folder(for: engine.store.path)
        for bad in [#"checkpoint "before class""#, "checkpoint a/b", "checkpoint ../x", "checkpoint " + String(repeating: "a", count: 65)] {
            #expect(run(engine, bad).error?.code == .badCheckpoint, "\(bad)")
        }
        #expect(run(engine, "checkpoint fresh").error?.code == .badCheckpoint)
        #expect(run(engine, "checkpoint fresh --force").error?.code == .badCheckpoint)
        #expect(run(engine, "checkpoint lesson_2-b").error == nil)
        let first = try Data(contentsOf: URL(fileURLWithPath: folder + "/lesson_2-b.db"))
        Self.expectRuns(engine, [#"update contact 1 set title = "X""#])
        #expect(run(engine, "checkpoint lesson_2-b").error?.code == .fileExists)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/lesson_2-b.db")) == first)
        #expect(run(engine, "checkpoint lesson_2-b --force").error == nil)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/lesson_2-b.db")) != first)
        // Only the checkpoints are left in the folder: no temporary file, no journal.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["fresh.db", "lesson_2-b.db"])
        // A dry-run writes no file.
        #expect(run(engine, "checkpoint later --dry-run").error == nil)
        #expect(!FileManager.default.fileExists(atPath: folder + "/later.db"))
        let unknown = run(engine, "reset lesson_2")
        #expect(unknown.error?.code == .badCheckpoint)
        #expect(unknown.error?.help == "did you mean 'lesson_2-b'?")
    }

    /// Both refuse inside `begin`: they work on the whole database.
    @Test func refusedInsideATransaction() throws {
        let engine = try SampleDatabase.sandboxEngine()
        Self.expectRuns(engine, ["begin"])
        #expect(run(engine, "checkpoint x").error?.code == .transactionOpen)
        #expect(run(engine, "reset").error?.code == .transactionOpen)
        Self.expectRuns(engine, ["rollback"])
    }

    /// A checkpoint of another sandbox (another `rolo demo`: its own spool secret), a file that is
    /// no checkpoint, or a link, is refused before anything is written.
    @Test func aCheckpointOfAnotherSandboxIsRefused() throws {
        let engine = try SampleDatabase.sandboxEngine()
        let otherPath = try SampleDatabase.temporaryFolder() + "/other.db"
        let other = try CRMStore.open(path: otherPath, mode: .createIfMissing)
        try SampleCompany.generate(into: other, options: SampleCompany.Options(contacts: 100, clock: SampleDatabase.clock))
        try Sandbox.make(store: other, clock: SampleDatabase.clock)
        let folder = Sandbox.folder(for: engine.store.path)
        try FileManager.default.copyItem(atPath: Sandbox.folder(for: otherPath) + "/fresh.db", toPath: folder + "/theirs.db")
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: folder + "/notes.db"))
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.db", withDestinationPath: folder + "/fresh.db")
        let before = try Self.tableRows(engine.store.path)
        for name in ["theirs", "notes", "link"] {
            let result = run(engine, "reset \(name)")
            #expect(result.error?.code == .badCheckpoint, "\(name): \(result.error?.message ?? "ran")")
        }
        #expect(try Self.tableRows(engine.store.path) == before)
    }
}
