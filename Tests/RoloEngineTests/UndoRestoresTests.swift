import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// What undo puts back: every column, `updated_at` included.
@Suite("Undo restores every column")
struct UndoRestoresTests {
    /// A change and its undo leave every column of every data table as it was, `updated_at`
    /// included (raw SQL over the tables, not Rolo's reading of them).
    @Test(arguments: [
        "update contact 42 set title = \"Chief of Staff\"",
        "update contacts where company = \"Acme Inc\" set company = \"Acme, Inc.\", city = \"Porto\"",
        "delete contact 43 --yes",
        "merge contact 2 into 1",
        "assign contacts where id in (42, 44) to bob",
        "update deal 1 set stage = won",
    ])
    func aChangeAndItsUndoLeaveEveryColumn(_ command: String) throws {
        let engine = try SampleDatabase.engine()
        let before = try UndoOrderTests.dataTables(engine.store, keepUpdatedAt: true)
        try UndoOrderTests.apply(engine, [command])
        #expect(try UndoOrderTests.dataTables(engine.store, keepUpdatedAt: true) != before)
        try UndoOrderTests.apply(engine, ["undo"])
        let after = try UndoOrderTests.dataTables(engine.store, keepUpdatedAt: true)
        #expect(after == before, "\(TextDiff.unified(expected: before, actual: after, label: "data"))")
    }

    /// The data-decay measure: an update and its undo leave the count of stale contacts alone.
    @Test func anUndoneUpdateIsNotFreshData() throws {
        let engine = try SampleDatabase.engine()
        let stale = "count contacts where updated_at < 1 year ago"
        let id = try #require(
            try engine.store.dbQueue.inDatabase {
                try Int64.fetchOne($0, sql: "SELECT id FROM contacts WHERE updated_at < '2025-11-22' ORDER BY id")
            })
        let count = run(engine, stale).output
        try UndoOrderTests.apply(engine, ["update contact \(id) set title = \"Stale no more\""])
        #expect(run(engine, stale).output != count)
        try UndoOrderTests.apply(engine, ["undo"])
        #expect(run(engine, stale).output == count)
    }

    /// Undo keeps its own history rows: the update and its undo are both in the record's history.
    @Test func undoKeepsItsHistory() throws {
        let engine = try SampleDatabase.engine()
        try UndoOrderTests.apply(engine, ["update contact 42 set title = \"Chief of Staff\"", "undo"])
        let history = run(engine, "history contact 42 --format csv")
        #expect(history.output.contains("\"Chief of Staff\"") || history.output.contains("Chief of Staff"))
        #expect(history.output.split(separator: "\n").filter { $0.contains(",update,title,") }.count == 2, "\(history.output)")
    }
}
