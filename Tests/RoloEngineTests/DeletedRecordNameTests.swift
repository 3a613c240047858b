import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// A deleted record in diffs: by the name its deletion's history row holds.
@Suite("Deleted records by name")
struct DeletedRecordNameTests {
    /// A deleted record is shown by its name from the deletion's history row.
    @Test func aDeletedRecordIsNamed() throws {
        let engine = try SampleDatabase.engine()
        let name = try #require(
            try engine.store.dbQueue.inDatabase {
                try String.fetchOne($0, sql: "SELECT first_name || ' ' || last_name FROM contacts WHERE id = 43")
            })
        let deleted = run(engine, "delete contact 43 --yes")
        #expect(deleted.output.contains("  contact 43 (\(name), deleted)\n"), "\(deleted.output)")
        #expect(deleted.output.contains(": contact 43 (\(name), deleted) → (empty)"), "\(deleted.output)")
        let created = run(engine, "create contact first_name = \"Una\", last_name = \"Doe\"")
        #expect(created.error == nil)
        let undo = run(engine, "undo")
        #expect(undo.output.contains("(Una Doe, deleted)"), "\(undo.output)")
        let dry = run(engine, "delete contact 44 --dry-run")
        #expect(dry.output.contains("contact 44 ("), "\(dry.output)")
        #expect(dry.output.contains(", deleted)"), "\(dry.output)")
    }
}
