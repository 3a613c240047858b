import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// `verify ENTITY …` (issue 22, item 0): last_verified_at becomes now on exactly the records
/// matched, through the change path (dry-run, undo, rights). Oracles: raw SQL over the contacts
/// table, whole-database snapshots, docs/roles.md's rights.
@Suite("Verify records")
struct VerifyRecordsTests {
    static let now = SampleDatabase.clock.now().description

    static func ids(_ store: CRMStore, _ sql: String) throws -> [Int64] {
        try store.dbQueue.read { db in try Int64.fetchAll(db, sql: sql) }
    }

    /// Exactly the contacts the condition selects (by raw SQL) get the clock's time; every other
    /// row of every table is as it was; the dry-run's count is the real run's; undo restores all.
    @Test func setsTheStampOnExactlyTheMatchedRecordsAndUndoRestoresEverything() throws {
        let engine = try SampleDatabase.engine()
        let expected = try Self.ids(engine.store, "SELECT id FROM contacts WHERE country = 'PT' ORDER BY id")
        #expect(expected.count > 3)
        let before = try snapshot(engine.store)
        let preview = run(engine, #"verify contacts where country = "PT" --dry-run"#)
        #expect(preview.error == nil, "\(preview.error?.message ?? "")")
        #expect(preview.output.hasPrefix("dry-run: \(expected.count) contacts would be verified"))
        #expect(try snapshot(engine.store) == before)

        let real = run(engine, #"verify contacts where country = "PT""#)
        #expect(real.output.hasPrefix("verified \(expected.count) contacts (change "))
        let stamped = try Self.ids(engine.store, "SELECT id FROM contacts WHERE last_verified_at = '\(Self.now)' ORDER BY id")
        #expect(stamped == expected)
        // Nothing else of the contacts moved: the rows outside the selection are as they were.
        let others = { (store: CRMStore) in
            try store.dbQueue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM contacts WHERE country IS NOT 'PT' ORDER BY id").map(\.description)
            }
        }
        let untouched = try others(engine.store)
        #expect(run(engine, "undo").error == nil)
        #expect(try others(engine.store) == untouched)
        #expect(try Self.ids(engine.store, "SELECT id FROM contacts WHERE last_verified_at = '\(Self.now)'").isEmpty)
    }

    @Test func oneRecordWithTheFieldsCheckedNamedInTheChangeSet() throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, "verify contact 12 email, phone")
        #expect(result.error == nil)
        #expect(result.output.contains("checked: email, phone"))
        #expect(try Self.ids(engine.store, "SELECT id FROM contacts WHERE last_verified_at = '\(Self.now)'") == [12])
        let command = try engine.store.dbQueue.read { db in
            try String.fetchOne(db, sql: "SELECT command FROM change_sets ORDER BY id DESC LIMIT 1")
        }
        #expect(command == "verify contact 12 email, phone")
    }

    /// docs/roles.md: a sales rep updates only their own contacts; a support rep may update
    /// last_verified_at on all. Refusals write nothing.
    @Test func rightsAsTheRolesSay() throws {
        let alice = try SampleDatabase.engine(user: "alice")
        let aliceID = alice.access.actor.id
        let notHers = try #require(try Self.ids(alice.store, "SELECT id FROM contacts WHERE owner_id <> \(aliceID) LIMIT 1").first)
        let hers = try #require(try Self.ids(alice.store, "SELECT id FROM contacts WHERE owner_id = \(aliceID) LIMIT 1").first)
        let before = try snapshot(alice.store)
        #expect(run(alice, "verify contact \(notHers)").error?.code == .permissionDenied)
        #expect(try snapshot(alice.store) == before)
        #expect(run(alice, "verify contact \(hers)").error == nil)

        let sofia = try SampleDatabase.engine(user: "sofia")
        #expect(run(sofia, "verify contact \(notHers)").error == nil)
        #expect(try Self.ids(sofia.store, "SELECT id FROM contacts WHERE last_verified_at = '\(Self.now)'") == [notHers])
    }

    @Test func badInputChangesNothing() throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let unknown = run(engine, "verify contact 12 emial")
        #expect(unknown.error?.code == .unknownField)
        #expect(unknown.error?.help == "did you mean 'email'?")
        #expect(run(engine, "verify deal 1").error?.code == .usage)
        #expect(run(engine, "verify contact 999999").error?.code == .unknownRecord)
        #expect(run(engine, "verify").error != nil)
        #expect(try snapshot(engine.store) == before)
    }
}
