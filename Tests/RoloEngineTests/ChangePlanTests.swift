import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// The change plan is what the change path recorded: read back after a change, it names every
/// record the change touched with the old and new value of every field, as raw SQL over the tables
/// before and after the change says.
@Suite("Change plan")
struct ChangePlanTests {
    static func plan(_ engine: Engine, changeSet: Int64) throws -> [String] {
        try engine.store.dbQueue.read { db in
            var lines: [String] = []
            try ChangePlan(db: db, changeSetID: changeSet, floor: 0).eachRecord { record in
                for change in record.fields {
                    lines.append("\(record.entity.name) \(record.id) \(record.op.rawValue) \(change.field): \(change.old) → \(change.new)")
                }
            }
            return lines
        }
    }

    static func latestChangeSet(_ engine: Engine) throws -> Int64 {
        try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") } ?? 0
    }

    @Test func aBulkUpdatesPlanIsEveryChangedRowsBeforeAndAfter() throws {
        let engine = try SampleDatabase.engine()
        // The before-image, by raw SQL: the contacts in Japan whose city is not already Osaka.
        let before = try engine.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, city FROM contacts WHERE country = 'JP' AND city IS NOT 'Osaka' ORDER BY id").map {
                (try $0.decode(Int64.self, atIndex: 0), try $0.decode(DatabaseValue.self, atIndex: 1))
            }
        }
        #expect(before.count > 12)  // more than a diff prints
        #expect(run(engine, #"update contacts where country = "JP" set city = "Osaka""#).error == nil)
        let plan = try Self.plan(engine, changeSet: try Self.latestChangeSet(engine))
        let expected = before.map { "contacts \($0.0) update city: \($0.1) → \("Osaka".databaseValue)" }
        #expect(plan.sorted() == expected.sorted())
    }

    @Test func aDeletesPlanHoldsTheRecordAndTheLinksItCleared() throws {
        let engine = try SampleDatabase.engine()
        let (fields, linked) = try engine.store.dbQueue.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM contacts WHERE id = 42"))
            let fields = row.columnNames.filter { !(row[$0] as DatabaseValue).isNull }.count
            let linked = try Int.fetchOne(db, sql: "SELECT count(*) FROM activities WHERE contact_id = 42") ?? 0
            return (fields, linked)
        }
        #expect(linked > 0)
        #expect(run(engine, "delete contact 42").error == nil)
        let plan = try Self.plan(engine, changeSet: try Self.latestChangeSet(engine))
        #expect(plan.filter { $0.hasPrefix("contacts 42 delete ") }.count == fields)
        #expect(plan.filter { $0.hasPrefix("activities ") && $0.contains(" contact_id: 42 → NULL") }.count == linked)
    }
}
