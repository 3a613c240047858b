import Foundation
import GRDB
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Long `and` / `or` chains and `in` lists, as generated scripts write them (issue 21, item 0):
/// 100,000 terms answer what the same test over the raw table answers, neither recursion nor
/// SQLite's limits get in the way, and what is compiled stays flat. No timings here: those are
/// `scripts/bench`'s (its chain row).
@Suite("Chains")
struct ChainTests {
    /// 100,000 ids from 1 to 600,000, some repeated, from a fixed seed: about one in seven of the
    /// table's 3,000 contacts among them.
    static let ids: [Int] = {
        var random = SplitMix64(seed: 21)
        return (0..<100_000).map { _ in Int(random.next() % 600_000) + 1 }
    }()

    /// How many of the table's ids are in `ids`: counted here, from the ids the table holds.
    func expectedCount(_ engine: Engine, among ids: [Int]) throws -> Int {
        let wanted = Set(ids)
        let all = try engine.store.dbQueue.read { try Int.fetchAll($0, sql: "SELECT id FROM contacts") }
        return all.filter { wanted.contains($0) }.count
    }

    /// A sum nests a level of the syntax tree per term: 10,000 `+`/`-` answer what the arithmetic
    /// says, more are refused with E112 — a generated sum of 100,000 terms overflowed the stack.
    @Test func longSumsAnswerOrAreRefusedNeverCrash() throws {
        let engine = try SampleDatabase.engine()
        nonisolated(unsafe) var problems: [String] = []
        onMainSizedStack {
            // 10,000 additions and subtractions: 1, then 5,021 ones added and 4,979 taken away, is 43.
            let sum = Array(repeating: "1", count: 5_022).joined(separator: " + ") + String(repeating: " - 1", count: 4_979)
            let answer = run(engine, "count contacts where id = \(sum)")
            if answer.error != nil || answer.output != "1\n" { problems.append("10,000 terms: \(answer.error?.message ?? answer.output)") }
            for n in [10_002, 100_000] {
                let long = Array(repeating: "1", count: n).joined(separator: " + ")
                let refused = run(engine, "count contacts where id = \(long)")
                if refused.error?.code != .nestingTooDeep || refused.error?.message.contains("10000 additions") != true {
                    problems.append("\(n) terms: \(refused.error?.message ?? refused.output)")
                }
            }
        }
        for problem in problems { Issue.record(Comment(rawValue: problem)) }
    }

    @Test func hundredThousandTermOrChainCountsWhatTheTableHolds() throws {
        let engine = try SampleDatabase.engine()
        let chain = "count contacts where " + Self.ids.map { "id = \($0)" }.joined(separator: " or ")
        let result = run(engine, chain)
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let expected = try expectedCount(engine, among: Self.ids)
        #expect(expected > 0 && expected < 3000)
        #expect(result.output == "\(expected)\n")
        // The same ids as one list, and as a script's line: the same answer.
        let list = "count contacts where id in (" + Self.ids.map(String.init).joined(separator: ", ") + ")"
        #expect(run(engine, list).output == "\(expected)\n")
    }

    @Test func hundredThousandTermAndChainCountsWhatTheTableHolds() throws {
        let engine = try SampleDatabase.engine()
        let chain = "count contacts where " + Self.ids.map { "id != \($0)" }.joined(separator: " and ")
        let total = try engine.store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM contacts") ?? 0 }
        #expect(run(engine, chain).output == "\(total - (try expectedCount(engine, among: Self.ids)))\n")
        let list = "count contacts where id not in (" + Self.ids.map(String.init).joined(separator: ", ") + ")"
        #expect(run(engine, list).output == "\(total - (try expectedCount(engine, among: Self.ids)))\n")
    }

    /// `!=` counts empty values as different, gathered into one list or not; `=` on emails ignores
    /// case; a chain over two fields is one list per field.
    @Test func gatheredListsMeanWhatTheTermsMean() throws {
        let engine = try SampleDatabase.engine()
        let rows = try engine.store.dbQueue.read {
            try Row.fetchAll($0, sql: "SELECT id, company, email FROM contacts ORDER BY id").map {
                (id: $0["id"] as Int, company: $0["company"] as String?, email: $0["email"] as String?)
            }
        }
        let companies = Array(Set(rows.compactMap(\.company)).sorted().prefix(40)) + (0..<2_000).map { "No such \($0)" }
        let notCompanies = "count contacts where " + companies.map { "company != \"\($0)\"" }.joined(separator: " and ")
        let outside = rows.filter { row in row.company.map { !companies.contains($0) } ?? true }.count
        #expect(rows.contains { $0.company == nil } || outside > 0)
        #expect(run(engine, notCompanies).output == "\(outside)\n")
        // Emails in capitals, some real, some not, with ids in the same chain.
        let emails =
            rows.compactMap(\.email).filter { !$0.isEmpty }.prefix(300).map { $0.uppercased() }
            + (0..<1_500).map { "NOBODY\($0)@EXAMPLE.COM" }
        let someIDs = Array(Self.ids.prefix(3_000))
        let terms = emails.map { "email = \"\($0)\"" } + someIDs.map { "id = \($0)" }
        let mixed = "count contacts where " + terms.joined(separator: " or ")
        let wantedEmails = Set(emails.map { $0.lowercased() })
        let wantedIDs = Set(someIDs)
        let expected = rows.filter { row in wantedIDs.contains(row.id) || row.email.map { wantedEmails.contains($0.lowercased()) } == true }
            .count
        #expect(run(engine, mixed).output == "\(expected)\n")
    }

    /// Deep and mixed chains — brackets, `not`, `and` under `or` — of 100,000 terms neither
    /// exhaust the stack (parsing, binding, compiling, explaining, freeing the tree) nor reach
    /// SQLite as a depth or variable limit: they answer, or are refused with Rolo's E512.
    @Test func mixedChainsOfAHundredThousandTermsDoNotCrash() throws {
        let engine = try SampleDatabase.engine()
        // Accepted: lists under brackets, and chains of lists, 100,000 terms in all.
        var accepted = "count contacts where ("
        accepted += Self.ids.prefix(50_000).map { "id = \($0)" }.joined(separator: " or ")
        accepted += ") and not (" + Self.ids.suffix(50_000).map { "id = \($0)" }.joined(separator: " or ")
        accepted += ") or (country = \"Nowhere\" and title contains \"x\")"
        let first = Set(Self.ids.prefix(50_000))
        let second = Set(Self.ids.suffix(50_000))
        let all = try engine.store.dbQueue.read { try Int.fetchAll($0, sql: "SELECT id FROM contacts") }
        let result = run(engine, accepted)
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(result.output == "\(all.filter { first.contains($0) && !second.contains($0) }.count)\n")
        let explained = run(engine, "explain " + accepted)
        #expect(explained.error == nil)
        // Refused: 100,000 tests that are not lists of values, and a bracketed mix.
        let contains = "count contacts where " + (0..<100_000).map { "title contains \"t\($0)\"" }.joined(separator: " or ")
        var mixed = "count contacts where "
        mixed += (0..<100_000).map { i in
            i % 3 == 0 ? "(id = \(i) and title contains \"a\")" : i % 3 == 1 ? "not (id > \(i) or email = \"e\(i)@x.io\")" : "id = \(i)"
        }.joined(separator: " or ")
        for command in [contains, mixed] {
            let refused = run(engine, command)
            #expect(
                refused.error?.code.rawValue == "E512", "\(refused.error.map { "\($0.code.rawValue) \($0.message)" } ?? refused.output)")
            // The range is the whole chain, and it renders.
            let start = "count contacts where ".utf8.count
            #expect(refused.error?.range?.start.offset == start)
            #expect(refused.error?.range?.end.offset == command.utf8.count)
            if let error = refused.error {
                #expect(DiagnosticRenderer().render(error, source: command, file: nil).contains("^^^^"))
            }
        }
        // A history filter past the limit: the same refusal, not SQLite's.
        let history = "history contact 1 where " + (0..<10_001).map { _ in "field = email" }.joined(separator: " or ")
        #expect(run(engine, history).error?.code.rawValue == "E512")
    }

    /// One test past the limit is refused (10,000 are taken: FrontEndFuzzTests' long chains).
    @Test func oneTestPastTheLimitIsRefused() throws {
        let engine = try SampleDatabase.engine()
        let chain = "count contacts where " + (0...10_000).map { "title contains \"q\($0)\"" }.joined(separator: " and ")
        let refused = run(engine, chain).error
        #expect(refused?.code.rawValue == "E512")
        #expect(refused?.message.contains("10,001 tests") == true)
    }
}
