import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@Suite("Undo and output")
struct UndoAndOutputTests {
    /// Deleting a lead deletes its campaign memberships with it; undo brings both back, the lead
    /// first, so the memberships' references hold. Undo restores every domain table row for row.
    @Test func undoOfADeleteRestoresDependentsInOrder() throws {
        let engine = try SampleDatabase.engine()
        let lead = try #require(
            try engine.store.dbQueue.read { db in
                try Int64.fetchOne(db, sql: "SELECT lead_id FROM campaign_members WHERE lead_id IS NOT NULL ORDER BY id LIMIT 1")
            })
        let before = try domainRows(engine.store)
        #expect(run(engine, "delete lead \(lead)").error == nil)
        #expect(try domainRows(engine.store) != before)
        let undo = run(engine, "undo")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")")
        #expect(try domainRows(engine.store) == before)
    }

    /// A money sum as CSV is dollars with cents, as every amount in CSV is — compared with SQL.
    @Test func moneyAggregatesAsCSVAreDollars() throws {
        let engine = try SampleDatabase.engine()
        let cents = try #require(try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT sum(amount) FROM deals") })
        let expected = "\(cents / 100).\(String(format: "%02d", cents % 100))"
        #expect(run(engine, "sum deals.amount as csv").output == "sum(amount)\n\(expected)\n")
    }

    /// The preview of a delete that also clears links lists the deleted records first and says
    /// how many linked records it touched.
    @Test func aDeletesPreviewListsItsOwnRecordsFirst() throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, "delete deals where stage = lost --dry-run")
        let lines = result.output.split(separator: "\n")
        #expect(lines.count > 2)
        #expect(lines[1].hasPrefix("  deal "), "first diff line: \(lines[1])")
        let touched = try engine.store.dbQueue.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM activities WHERE deal_id IN (SELECT id FROM deals WHERE stage = 'lost'))
                         + (SELECT count(*) FROM tasks WHERE deal_id IN (SELECT id FROM deals WHERE stage = 'lost'))
                    """) ?? 0
        }
        let lost = try engine.store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM deals WHERE stage = 'lost'") ?? 0 }
        #expect(result.output.contains("(\(lost) records and \(touched) linked records they touched)"), "\(result.output)")
    }

    private func domainRows(_ store: CRMStore) throws -> [String] {
        try store.dbQueue.read { db in
            var rows: [String] = []
            for table in ["leads", "campaign_members", "activities", "tasks", "deals", "contacts", "accounts"] {
                // updated_at too: undo puts it back.
                let columns = try db.columns(in: table).map(\.name)
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                rows += try Row.fetchAll(db, sql: "SELECT \(list) FROM \(table) ORDER BY id").map { table + " " + $0.description }
            }
            return rows
        }
    }
}
