import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// The engine's services each alone, without an engine or a command (docs/architecture.md's
/// map): access (who acts and what they may do), transactions, the session's settings and the
/// output choice. The oracles are raw SQL over the tables and literal expectations from
/// docs/roles.md, never the service's own answers.
@Suite("Engine services alone")
struct EngineServicesTests {
    static let here = SourceRange(.start, .start)

    static func access(_ handle: String, _ store: CRMStore) throws -> AccessControl {
        let (actor, policy) = try store.dbQueue.read { db in try AccessControl.load(handle: handle, db: db) }
        return AccessControl(actor: actor, policy: policy)
    }

    static func count(_ store: CRMStore, _ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try store.dbQueue.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) } ?? -1
    }

    // MARK: - Access

    /// docs/roles.md: a sales rep (alice) reads and updates only their own deals, may not grant,
    /// may not delete users; an admin may do all of it. The read filter, run as SQL, picks exactly the
    /// rows raw SQL says are the rep's.
    @Test func accessDecidesAsTheRolesSayAndFiltersExactlyTheOwnRows() throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let sam = try Self.access("alice", store)
        let deals = try #require(CRMSchema.entity(named: "deals"))
        let users = try #require(CRMSchema.entity(named: "users"))
        #expect(sam.decide(.read, on: "deals").scope == .own)
        #expect(sam.decide(.update, on: "deals").scope == .own)
        #expect(throws: Diagnostic.self) { try sam.require(.delete, users, at: nil) }
        #expect(throws: Diagnostic.self) { try sam.requireImpersonation(Located("admin", Self.here), command: "as") }
        do {
            _ = try sam.require(.grant, users, at: nil)
            Issue.record("alice was allowed to grant")
        } catch let error as Diagnostic {
            #expect(error.code == .permissionDenied)
            #expect(error.message == "alice may not grant users")
        }

        let filter = try #require(sam.readFilter(deals))
        let seen = try store.dbQueue.read { db in
            try Int.fetchOne(db, SQLFragment("SELECT count(*) FROM deals t0 WHERE ") + filter) ?? -1
        }
        let owned = try Self.count(store, "SELECT count(*) FROM deals WHERE owner_id = ?", [sam.actor.id])
        #expect(owned > 0)
        #expect(seen == owned)

        let admin = try Self.access("admin", store)
        #expect(admin.readFilter(deals) == nil)
        #expect((try? admin.require(.delete, users, at: nil)) != nil)
    }

    /// `acting(as:)` swaps who acts for its body only — also when the body throws — and a new
    /// policy empties the remembered decisions.
    @Test func actingAsRestoresAndANewPolicyForgetsOldDecisions() throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let admin = try Self.access("admin", store)
        let sam = try Self.access("alice", store)
        let adminID = admin.actor.id
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try admin.acting(as: sam.actor, policy: sam.policy, impersonator: adminID) {
                #expect(admin.actor.handle == "alice")
                #expect(admin.impersonator == adminID)
                #expect(admin.decide(.grant, on: "users").scope == nil)
                throw Stop()
            }
        }
        #expect(admin.actor.handle == "admin")
        #expect(admin.impersonator == nil)
        #expect(admin.decide(.grant, on: "users").scope == .all)

        // Remembered, then forgotten when the policy is replaced.
        #expect(sam.decide(.grant, on: "users").scope == nil)
        sam.replacePolicy(admin.policy)
        #expect(sam.decide(.grant, on: "users").scope == .all)
    }

    // MARK: - Transactions

    /// Begin, commit, rollback and the dry-run transaction, by raw SQL on the tables; the refusals
    /// of a second begin and of an end with none open.
    @Test func transactionsKeepOnlyWhatACommitKeeps() throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let audit = AuditTrail(store: store, clock: SampleDatabase.clock, key: nil, actor: { (1, nil) })
        let transactions = Transactions(store: store, audit: audit)
        let before = try Self.count(store, "SELECT count(*) FROM teams")
        func addTeam(_ name: String) throws {
            try store.dbQueue.inDatabase { db in try db.execute(sql: "INSERT INTO teams (name, created_at) VALUES (?, ?)", arguments: [name, "2026-01-01T00:00:00Z"]) }
        }

        try transactions.begin(dryRun: false)
        #expect(transactions.isOpen)
        #expect(throws: Diagnostic.self) { try transactions.begin(dryRun: false) }
        try addTeam("Rolled back")
        try transactions.end(commit: false)
        #expect(!transactions.isOpen)
        #expect(try Self.count(store, "SELECT count(*) FROM teams") == before)

        try transactions.begin(dryRun: true)
        #expect(transactions.isDryRun)
        try addTeam("Previewed")
        try transactions.end(commit: true)
        #expect(try Self.count(store, "SELECT count(*) FROM teams") == before)
        #expect(transactions.note?.hasPrefix("dry-run:") == true)

        try transactions.begin(dryRun: false)
        try addTeam("Kept")
        try transactions.end(commit: true)
        #expect(try Self.count(store, "SELECT count(*) FROM teams WHERE name = 'Kept'") == 1)
        #expect(transactions.note == nil)

        do {
            try transactions.end(commit: true)
            Issue.record("an end with no transaction open was accepted")
        } catch let error as Diagnostic {
            #expect(error.code == .noTransaction)
        }
    }

    // MARK: - Session

    /// `set` on the session alone: values land in its settings (and busy_timeout in the store's
    /// wait), a wrong value or name changes nothing and says what is known.
    @Test func sessionSettingsApplyAndRefuse() throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let session = Session(isSandbox: false, busy: store.busy)
        func set(_ name: String, _ value: String) throws -> String {
            try session.applySetting(name: Located(name, Self.here), value: Located(value, Self.here))
        }
        _ = try set("confirm", "7")
        _ = try set("format", "csv")
        _ = try set("busy_timeout", "3")
        #expect(session.settings.confirmThreshold == 7)
        #expect(session.settings.format == .csv)
        #expect(store.busy.timeout == 3)
        #expect(throws: Diagnostic.self) { try set("confirm", "-1") }
        #expect(throws: Diagnostic.self) { try set("format", "bars") }
        #expect(session.settings.confirmThreshold == 7)
        #expect(session.settings.format == .csv)
        do {
            _ = try set("confrim", "3")
            Issue.record("an unknown setting was accepted")
        } catch let error as Diagnostic {
            #expect(error.help == "did you mean 'confirm'?")
        }
    }

    // MARK: - Output choice

    /// `--format` (the command's `as FORMAT` is its own syntax), else `set format`, else a table;
    /// bars only for the commands that draw them.
    @Test func outputChoiceTakesTheCommandsFormatThenTheSessionsThenATable() throws {
        func choose(_ text: String, default session: OutputFormat? = nil) throws -> OutputFormat {
            let statement = try Parser.parseStatement(text)
            return try OutputChoice.format(for: statement.unit, statement, default: session)
        }
        #expect(try choose("find contacts where id = 1") == .table)
        #expect(try choose("find contacts where id = 1", default: .json) == .json)
        #expect(try choose("find contacts where id = 1 --format csv", default: .json) == .csv)
        #expect(try choose("count deals by stage --format bars") == .bars)
        #expect(throws: Diagnostic.self) { try choose("find contacts where id = 1 --format bars") }
        #expect(throws: Diagnostic.self) { try choose("find contacts where id = 1 --format xml") }
    }
}
