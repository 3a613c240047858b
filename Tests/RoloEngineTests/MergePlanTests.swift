import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// Merge plans (`dedupe … to PLAN.rolo`, issue 22, item 2): a line removed skips exactly its
/// group; a run and its undo leave every merged record and its related records as they were,
/// column for column (raw SQL over the tables); another database, or a record gone since, stops
/// the plan with nothing merged.
@Suite("Merge plans")
struct MergePlanTests {
    static let related = ["contacts", "activities", "tasks", "deals", "tickets", "campaign_members"]

    /// The tables a merge touches, row for row, by raw SQL.
    static func tables(_ store: CRMStore) throws -> [String: [String]] {
        try store.dbQueue.read { db in
            var tables: [String: [String]] = [:]
            for table in related {
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY rowid").map(\.description)
            }
            return tables
        }
    }

    static func ids(_ store: CRMStore, _ sql: String) throws -> Set<Int64> {
        Set(try store.dbQueue.read { db in try Int64.fetchAll(db, sql: sql) })
    }

    /// The plan's merge lines: (the merged records, the kept one).
    static func merges(_ text: String) -> [(from: [Int64], into: Int64)] {
        text.split(separator: "\n").filter { $0.hasPrefix("merge contacts ") }.map { line in
            let body = line.dropFirst("merge contacts ".count)
            let parts = body.components(separatedBy: " into ")
            return (parts[0].split(separator: ",").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }, Int64(parts[1])!)
        }
    }

    @Test func aRemovedLineSkipsExactlyItsGroupAndUndoRestoresEverything() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        let made = run(engine, "dedupe contacts keep most complete to \"\(folder)/plan.rolo\"")
        #expect(made.error == nil, "\(made.error?.message ?? "")")
        var text = try String(contentsOfFile: folder + "/plan.rolo", encoding: .utf8)
        let all = Self.merges(text)
        #expect(all.count > 100)
        // Skip the fifth group: its line deleted.
        let skipped = all[4]
        text = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0 != "merge contacts \(skipped.from.map(String.init).joined(separator: ", ")) into \(skipped.into)" }
            .joined(separator: "\n")
        try text.write(toFile: folder + "/plan.rolo", atomically: true, encoding: .utf8)

        let before = try Self.tables(engine.store)
        let result = run(engine, "run \"\(folder)/plan.rolo\"")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let left = try Self.ids(engine.store, "SELECT id FROM contacts")
        for merge in all {
            let isSkipped = merge.into == skipped.into
            #expect(left.contains(merge.into))
            for id in merge.from { #expect(left.contains(id) == isSkipped, "contact \(id)") }
        }
        // Related records of the merged ones now point at the kept one (raw SQL).
        let merged = all.filter { $0.into != skipped.into }.flatMap(\.from).map(String.init).joined(separator: ",")
        #expect(try Self.ids(engine.store, "SELECT id FROM activities WHERE contact_id IN (\(merged))").isEmpty)

        #expect(run(engine, "undo").error == nil)
        let after = try Self.tables(engine.store)
        for table in Self.related { #expect(after[table] == before[table], "\(table) after undo") }
    }

    @Test func anotherDatabaseOrARecordGoneStopsThePlanWithNothingMerged() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        #expect(run(engine, "dedupe contacts where account = \"Acme\" to \"\(folder)/plan.rolo\"").error == nil)
        let plan = try String(contentsOfFile: folder + "/plan.rolo", encoding: .utf8)
        let first = try #require(Self.merges(plan).first)

        // Another company (another seed: another secret, other records).
        let otherPath = folder + "/other.db"
        let otherStore = try CRMStore.open(path: otherPath, mode: .createIfMissing)
        var options = SampleCompany.Options(contacts: 300, seed: 7)
        options.clock = SampleDatabase.clock
        _ = try SampleCompany.generate(into: otherStore, options: options)
        let other = try Engine(store: otherStore, clock: SampleDatabase.clock, user: "admin", auditKey: nil)
        let otherBefore = try snapshot(otherStore)
        let refused = run(other, "run \"\(folder)/plan.rolo\"")
        #expect(refused.error?.code == .planRefused)
        #expect(try snapshot(otherStore) == otherBefore)

        // A merge plan given to apply, and a file that is no plan at all: refused, nothing written.
        let unchanged = try snapshot(engine.store)
        let applied = run(engine, "apply \"\(folder)/plan.rolo\"")
        #expect(applied.error?.code == .planRefused)
        #expect(applied.error?.message.contains("it is a merge plan (a Rolo script), not a plan file") == true)
        try "id,name\n1,Ana\n".write(toFile: folder + "/not-a-plan.rolo", atomically: true, encoding: .utf8)
        #expect(run(engine, "run \"\(folder)/not-a-plan.rolo\"").error?.code == .unknownCommand)
        #expect(run(engine, "apply \"\(folder)/not-a-plan.rolo\"").error?.code == .planRefused)
        #expect(try snapshot(engine.store) == unchanged)

        // A record merged by the plan deleted since: the plan stops at its line, nothing kept.
        #expect(run(engine, "delete contact \(first.from[0])").error == nil)
        let before = try snapshot(engine.store)
        let gone = run(engine, "run \"\(folder)/plan.rolo\"")
        #expect(gone.error?.code == .unknownRecord)
        #expect(try snapshot(engine.store) == before)
    }

    @Test func badPlanOptionsWriteNoFile() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        #expect(run(engine, "dedupe contacts prefer titel from newest to \"\(folder)/p.rolo\"").error?.code == .unknownField)
        #expect(run(engine, "dedupe contacts to \"\(folder)/p.csv\"").error != nil)
        #expect(!FileManager.default.fileExists(atPath: folder + "/p.rolo"))
    }
}
