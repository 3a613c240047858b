import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// `dedupe` (issue 22, item 2): precision and recall on a 600-contact company's planted
/// duplicates, with the truth read by raw SQL from how the generator plants them (the last
/// 5% of contacts copy an earlier one, keeping its email but for case); the similarity measure
/// against published values; the command's counts, rights and bad input.
@Suite("Dedupe")
struct DedupeTests {
    static func company(contacts: Int) throws -> CRMStore {
        let path = try SampleDatabase.temporaryFolder() + "/dedupe.db"
        let store = try CRMStore.open(path: path, mode: .createIfMissing)
        var options = SampleCompany.Options(contacts: contacts)
        options.clock = SampleDatabase.clock
        _ = try SampleCompany.generate(into: store, options: options)
        return store
    }

    /// Pairs within groups, as (smaller id, larger id).
    static func pairs(_ groups: [[Int64]]) -> Set<[Int64]> {
        var pairs = Set<[Int64]>()
        for group in groups {
            let ids = group.sorted()
            for i in ids.indices { for j in ids.indices where j > i { pairs.insert([ids[i], ids[j]]) } }
        }
        return pairs
    }

    @Test func precisionAndRecallOnPlantedDuplicates() throws {
        let store = try Self.company(contacts: 600)
        let planted = try #require(try store.dbQueue.read { db in try SampleCompany.plantedDirt(in: db) })
        let originals: Int64 = 600 - 600 / 20
        #expect(planted.duplicateContacts == 30)
        // The truth: each planted copy (id > originals) with every contact sharing its email, case aside.
        let truth: [[Int64]] = try store.dbQueue.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT group_concat(c.id) FROM contacts c
                    WHERE lower(trim(c.email)) IN (SELECT lower(trim(email)) FROM contacts WHERE id > ?)
                    GROUP BY lower(trim(c.email))
                    """, arguments: [originals]
            ).map { $0.split(separator: ",").compactMap { Int64($0) } }
        }
        #expect(truth.reduce(0) { $0 + $1.count - 1 } == 30)
        let records: [DuplicateDetector.Record] = try store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, first_name, last_name, email, phone, company FROM contacts ORDER BY id").map { row in
                DuplicateDetector.Record(
                    id: try row.decode(atIndex: 0), first: (try row.decode(atIndex: 1)) ?? "", last: (try row.decode(atIndex: 2)) ?? "",
                    company: (try row.decode(atIndex: 5)) ?? "", email: (try row.decode(atIndex: 3)) ?? "",
                    phone: (try row.decode(atIndex: 4)) ?? "")
            }
        }
        var detector = DuplicateDetector(
            records: records, threshold: DedupeCommand.defaultThreshold, fields: ["first", "last", "email", "phone", "company"])
        let found = detector.groups().map { $0.members.map { records[$0].id } }
        let (truePairs, foundPairs) = (Self.pairs(truth), Self.pairs(found))
        let hits = Double(truePairs.intersection(foundPairs).count)
        let precision = hits / Double(max(1, foundPairs.count))
        let recall = hits / Double(max(1, truePairs.count))
        #expect(precision >= 0.95, "precision \(precision)")
        #expect(recall >= 0.95, "recall \(recall)")

        // The command says the same counts.
        let engine = try Engine(store: store, clock: SampleDatabase.clock, user: "admin", auditKey: nil)
        let result = run(engine, "dedupe contacts")
        #expect(result.output.hasPrefix("\(found.count) groups of duplicates among 600 contacts"), "\(result.output.prefix(200))")
    }

    /// A score is compared as shown, in hundredths: the same email and phone (0.6 + 0.3) meet a
    /// threshold of 0.9, which in binary floating point they would miss.
    @Test func scoresMeetAThresholdTheyEqual() {
        let records = [
            DuplicateDetector.Record(id: 1, email: "ana@acme.io", phone: "+1 555 010 1234"),
            DuplicateDetector.Record(id: 2, email: "ANA@acme.io", phone: "(555) 010-1234"),
        ]
        var detector = DuplicateDetector(records: records, threshold: 0.9, fields: ["email", "phone"])
        let groups = detector.groups()
        #expect(groups.map(\.members) == [[0, 1]])
        #expect(groups.first?.score == 0.9)
    }

    /// Published Jaro–Winkler values (Winkler 1990; the usual test pairs).
    @Test func jaroWinklerAsPublished() {
        func near(_ a: String, _ b: String, _ expected: Double) {
            #expect(abs(DuplicateDetector.jaroWinkler(a, b) - expected) < 0.001, "\(a) ~ \(b)")
        }
        near("martha", "marhta", 0.961)
        near("dwayne", "duane", 0.840)
        near("dixon", "dicksonx", 0.813)
        near("abc", "xyz", 0)
        near("same", "same", 1)
    }

    /// A sales rep compares only the leads they may read (their own, docs/roles.md): the count
    /// compared is raw SQL's count of their leads, and every lead listed is one of them.
    @Test func onlyReadableRecordsAreCompared() throws {
        let alice = try SampleDatabase.engine(user: "alice")
        let result = run(alice, "dedupe leads threshold 0.1")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let own = try alice.store.dbQueue.read { db in
            Set(try Int64.fetchAll(db, sql: "SELECT id FROM leads WHERE owner_id = (SELECT id FROM users WHERE handle = 'alice')"))
        }
        let total = try alice.store.dbQueue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM leads") } ?? 0
        #expect(own.count > 0 && own.count < total)
        #expect(result.output.contains(" among \(own.count) leads "), "\(result.output.prefix(200))")
        let listed = result.output.split(separator: "\n").compactMap { line -> Int64? in
            guard line.hasPrefix("  lead ") else { return nil }
            return Int64(line.dropFirst("  lead ".count).prefix { $0.isNumber })
        }
        #expect(listed.allSatisfy { own.contains($0) })
    }

    @Test func badInputIsOneClearError() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, "dedupe contacts threshold 1.5").error?.code == .invalidValue)
        #expect(run(engine, "dedupe contacts by emial").error?.code == .unknownField)
        #expect(run(engine, "dedupe contacts by title").error?.code == .usage)
        #expect(run(engine, "dedupe deals").error?.code == .usage)
    }
}
