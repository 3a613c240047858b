import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Query answers checked without a second implementation: random conditions from the schema
/// (ConditionGenerator), and relations between the answers of several queries that must hold
/// whatever the data — SQLancer's ternary-logic partitioning (TLP) and friends.
///
/// **The partition that holds in Rolo.** SQL's logic has three values, and TLP partitions a table
/// by P, NOT P and P IS NULL. Rolo's language has two: a comparison with an empty (NULL) value
/// counts as false, and `not` compiles to `NOT coalesce(P, 0)` (ConditionBinder: `.not`, and
/// likewise `not in`, `not contains`, `not between`; `!=` is `IS NOT`, which includes empties;
/// docs/language.md, "`!=` and `not` include records whose field is empty"). So the records where
/// P is unknown belong to `not (P)`, and the partition is two-way:
///
///     count(P) + count(not (P)) = count(all)
///
/// (The third part, "P is unknown", cannot be written in the language, and is empty once
/// `not` has absorbed it.) Under `where`, NULL is not true, so `P or Q` is true exactly where
/// one of them is true and `P and Q` where both are: inclusion–exclusion holds over the true sets,
/// count(P or Q) = count(P) + count(Q) − count(P and Q), and TLP within any Q does too:
/// count(Q) = count(Q and P) + count(Q and not (P)).
///
/// Quick by default (a few thousand conditions, part of `swift test`); `scripts/fuzz` runs the
/// long version with ROLO_FUZZ_CONDITIONS etc. (FuzzSettings). Every failure names the run's seed
/// and the condition's own seed: `ROLO_FUZZ_REPLAY=<seed> swift test --filter Metamorphic` replays it.
@Suite("Metamorphic relations")
struct MetamorphicTests {
    static let settings = FuzzSettings.current
    static let tally = FuzzTally()

    /// Every relation for each generated P (and a second condition Q), on the default company, as admin.
    @Test(arguments: Array(0..<FuzzSettings.current.shards))
    func queryRelationsHold(shard: Int) throws {
        let settings = Self.settings
        let engine = try SampleDatabase.engine()
        let generator = try engine.store.dbQueue.read { try ConditionGenerator(db: $0) }
        var checker = RelationChecker(engine: engine, generator: generator, tally: Self.tally, runSeed: settings.seed)
        let last = LastInputFile(name: "metamorphic-\(shard)")
        defer { last?.close() }
        let started = Date()
        var items: [UInt64] = []
        if let replay = settings.replay {
            if shard == 0 { items = [replay] }
        } else {
            items = settings.share(of: settings.conditions, shard: shard).map {
                FuzzRandom.derive(settings.seed, UInt64($0))
            }
        }
        print("metamorphic: seed \(settings.seed), shard \(shard): \(items.count) conditions")
        for (index, seed) in items.enumerated() {
            // A new session every 250 conditions: the engine keeps every distinct query's prepared
            // statement for the session and copies that cache on each query, so a long session of
            // distinct queries slows down query by query (a bug of its own, reported with this
            // work; docs/reliability.md). The relations are about answers, so the sessions are kept short.
            if index > 0 && index % 250 == 0 { try checker.reopen() }
            checker.check(conditionSeed: seed, last: last)
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "metamorphic: shard \(shard): \(checker.checked) conditions checked (\(checker.rejected) rejected, \(checker.failures) failures, \(checker.queries) queries) in \(String(format: "%.1f", seconds)) s"
        )
        if shard == 0 || settings.shards == 1 {
            let summary = Self.tally.summary()
            if !summary.isEmpty { print("metamorphic: tally so far (rejections, known issues):\n" + summary) }
        }
        // The generator is meant to write valid conditions: most must be accepted.
        #expect(checker.rejected * 10 <= max(items.count, 10), "too many generated conditions rejected: \(checker.rejected)")
    }

    /// A dry-run says what the real run then does, and undo puts every domain table back.
    @Test(arguments: Array(0..<FuzzSettings.current.shards))
    func dryRunMatchesRunAndUndoRestores(shard: Int) throws {
        let settings = Self.settings
        var engine = try SampleDatabase.engine()
        let generator = try engine.store.dbQueue.read { try ConditionGenerator(db: $0) }
        let last = LastInputFile(name: "updates-\(shard)")
        defer { last?.close() }
        var items: [UInt64] = []
        if let replay = settings.replay {
            if shard == 0 { items = [replay] }
        } else {
            items = settings.share(of: settings.updates, shard: shard).map {
                FuzzRandom.derive(settings.seed ^ 0x5555, UInt64($0))
            }
        }
        var checked = 0
        var changed = 0
        var rejected = 0
        var failures = 0
        let started = Date()
        for seed in items {
            var rng = FuzzRandom(seed: seed)
            let root = rng.pick(ConditionGenerator.roots)
            let p = generator.condition(root, &rng)
            let assignment = generator.assignment(root, &rng)
            let command = "update \(root) where \(p) set \(assignment)"
            last?.write(command)
            let replay = "seed \(settings.seed), condition seed \(seed): \(command)"
            func fail(_ message: String) {
                failures += 1
                if failures <= 5 {
                    saveFailingInput(command, kind: "update", expect: "relation", note: "\(message) (ROLO_FUZZ_REPLAY=\(seed))")
                }
                Issue.record(Comment(rawValue: "\(message)\n  \(replay)"))
            }
            let preview = run(engine, command + " --dry-run")
            if let error = preview.error {
                if isLeak(error) {
                    if let known = KnownIssue.matching(error.message), !settings.strict {
                        Self.tally.add("known \(known.rawValue)", example: command)
                    } else {
                        fail("leaked database error in a dry-run: \(error.code.rawValue) \(error.message)")
                    }
                } else {
                    rejected += 1
                    Self.tally.add("update rejected \(error.code.rawValue)", example: command + "  →  " + error.message)
                }
                continue
            }
            checked += 1
            let before = try domainSnapshot(engine.store)
            let real = run(engine, command)
            if let error = real.error {
                fail("the dry-run was accepted but the run failed: \(error.code.rawValue) \(error.message)")
                engine = try SampleDatabase.engine()
                continue
            }
            // Every integer column (numbers, money, references) still holds integers.
            if let column = try Self.nonIntegerColumn(root, engine.store) {
                if settings.strict {
                    fail("the update wrote a non-integer into \(root).\(column)")
                } else {
                    Self.tally.add("known K7", example: command)
                }
            }
            let (previewed, done) = (Self.changeCount(preview.output), Self.changeCount(real.output))
            if previewed == nil || previewed != done {
                fail(
                    "the dry-run said \(previewed.map(String.init) ?? "?") records, the run \(done.map(String.init) ?? "?"): \(preview.output.prefix(120)) / \(real.output.prefix(120))"
                )
            }
            guard let done, done > 0 else { continue }
            changed += 1
            let undo = run(engine, "undo --yes")
            if let error = undo.error {
                fail("undo failed: \(error.code.rawValue) \(error.message)")
                engine = try SampleDatabase.engine()
                continue
            }
            let after = try domainSnapshot(engine.store)
            if after != before {
                fail("undo did not restore the domain tables: " + Self.firstDifference(before, after))
                engine = try SampleDatabase.engine()
            }
        }
        let summary = Self.tally.summary(prefix: "known K")
        if !summary.isEmpty { print("metamorphic updates: known issues so far:\n" + summary) }
        print(
            "metamorphic updates: shard \(shard): \(checked) dry-run/run pairs (\(changed) changed something and were undone, \(rejected) rejected, \(failures) failures) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
        )
    }

    /// The first integer column of `root` holding something else (a REAL, say), if any.
    static func nonIntegerColumn(_ root: String, _ store: CRMStore) throws -> String? {
        guard let entity = CRMSchema.entity(named: root) else { return nil }
        return try store.dbQueue.inDatabase { db in
            for field in entity.fields where field.type.sqlType == "INTEGER" {
                let n =
                    try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM \(root) WHERE typeof(\(field.quotedName)) NOT IN ('integer', 'null')") ?? 0
                if n > 0 { return field.name }
            }
            return nil
        }
    }

    /// The record count a change reports: "dry-run: 12 contacts would be updated…", "updated 12
    /// contacts (change 7)"; 0 for "no contacts matched" and "… already had those values".
    static func changeCount(_ output: String) -> Int? {
        guard let first = output.split(separator: "\n").first else { return nil }
        if first.hasSuffix("nothing changed") { return 0 }
        return first.split(separator: " ").lazy.compactMap { Int($0) }.first
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let (la, lb) = (a.split(separator: "\n"), b.split(separator: "\n"))
        for (x, y) in zip(la, lb) where x != y { return "before: \(x)\n  after:  \(y)" }
        return "\(la.count) lines before, \(lb.count) after"
    }
}

/// Every row of the domain and security tables, in id order, without `updated_at`: an undo
/// writes the undo's own time there (it is a change like any other), so that column is the one
/// an undo does not restore. System tables (change sets, field history, audit) are left out:
/// they record the change and its undo.
func domainSnapshot(_ store: CRMStore) throws -> String {
    try store.dbQueue.inDatabase { db in
        var text = ""
        for entity in CRMSchema.entities where entity.kind != .system {
            // Built by SQLite itself (quote() keeps each value's storage type apart: 1 ≠ '1').
            let row = entity.fields.filter { $0.name != "updated_at" }.map { "quote(\($0.quotedName))" }.joined(separator: " || ',' || ")
            text += "== \(entity.name)\n"
            text +=
                try String.fetchOne(db, sql: "SELECT group_concat(\(row), char(10)) FROM (SELECT * FROM \(entity.name) ORDER BY id)") ?? ""
            text += "\n"
        }
        return text
    }
}

/// Checks the relations for one condition at a time, counting what it did.
struct RelationChecker {
    private(set) var engine: Engine
    let generator: ConditionGenerator
    let tally: FuzzTally
    let runSeed: UInt64
    var checked = 0
    var rejected = 0
    var failures = 0
    var queries = 0
    private var totals: [String: Int] = [:]
    private var context = ""
    private var failed = false
    private var lastRejection: Diagnostic? = nil
    /// P's and Q's counts, saved with a failure.
    private var currentInput = ""

    init(engine: Engine, generator: ConditionGenerator, tally: FuzzTally, runSeed: UInt64) {
        self.engine = engine
        self.generator = generator
        self.tally = tally
        self.runSeed = runSeed
    }

    /// A new engine (a new connection) on the same file.
    mutating func reopen() throws {
        engine = try Engine(store: CRMStore.open(path: engine.store.path), clock: SampleDatabase.clock, user: "admin")
    }

    enum Answer {
        case ok(String)
        case rejected(Diagnostic)
        /// A leak, a crash-like error or a known issue (already recorded).
        case failed
    }

    private mutating func fail(_ message: String, _ command: String) {
        failures += 1
        failed = true
        if failures <= 5 {
            saveFailingInput(command + "\n" + currentInput, kind: "relation", expect: "relation", note: message + " " + context)
        }
        Issue.record(Comment(rawValue: message + "\n  " + context))
    }

    /// Runs a read; a leaked database error is a failure (or a known issue).
    private mutating func ask(_ command: String) -> Answer {
        queries += 1
        let (output, error) = run(engine, command)
        guard let error else { return .ok(output) }
        if isLeak(error) {
            if let known = KnownIssue.matching(error.message), !FuzzSettings.current.strict {
                tally.add("known \(known.rawValue)", example: command)
            } else {
                fail("leaked database error: \(error.code.rawValue) \(error.message)\n  command: \(command)", command)
            }
            failed = true
            return .failed
        }
        return .rejected(error)
    }

    /// `count ROOT where CONDITION` (nil when rejected or failed; a rejection here, after P itself
    /// was accepted, is a failure: the parts are built of P and Q only).
    private mutating func count(_ root: String, _ condition: String?, firstUse: Bool = false) -> Int? {
        let command = "count \(root)" + (condition.map { " where " + $0 } ?? "")
        switch ask(command) {
        case .ok(let output):
            guard let n = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                fail("count printed \(output.debugDescription)\n  command: \(command)", command)
                return nil
            }
            return n
        case .rejected(let diagnostic):
            lastRejection = diagnostic
            if !firstUse {
                fail(
                    "rejected a condition made of accepted ones: \(diagnostic.code.rawValue) \(diagnostic.message)\n  command: \(command)",
                    command)
            }
            return nil
        case .failed:
            return nil
        }
    }

    /// The total of the last column of CSV output (counts or money), skipping the header.
    private mutating func columnTotal(_ command: String) -> Decimal? {
        switch ask(command) {
        case .ok(let output):
            var total = Decimal(0)
            for record in csvRecords(output).dropFirst() {
                guard let last = record.last else { continue }
                if last.isEmpty { continue }
                guard let value = Decimal(string: last, locale: Locale(identifier: "en_US_POSIX")) else {
                    fail("not a number in CSV: \(last.debugDescription)\n  command: \(command)", command)
                    return nil
                }
                total += value
            }
            return total
        case .rejected(let diagnostic):
            fail("rejected: \(diagnostic.code.rawValue) \(diagnostic.message)\n  command: \(command)", command)
            return nil
        case .failed:
            return nil
        }
    }

    private mutating func expectEqual<T: Equatable>(_ relation: String, _ left: T?, _ right: T?, _ detail: String) {
        guard let left, let right, !failed else { return }
        if left != right {
            fail("relation \(relation) does not hold: \(left) ≠ \(right) (\(detail))", "# relation: \(relation)")
        }
    }

    mutating func check(conditionSeed seed: UInt64, last: LastInputFile?) {
        var rng = FuzzRandom(seed: seed)
        let root = rng.pick(ConditionGenerator.roots)
        let p = generator.condition(root, &rng)
        let q = generator.condition(root, &rng)
        context = "seed \(runSeed), condition seed \(seed) (ROLO_FUZZ_REPLAY=\(seed)): root \(root)\n  P = \(p)\n  Q = \(q)"
        failed = false
        currentInput = "count \(root) where \(p)\ncount \(root) where \(q)"
        if FuzzTally.verbose { print("P[\(root)] \(p)") }
        last?.write("count \(root) where \(p)\n# Q: \(q)")
        if totals[root] == nil { totals[root] = count(root, nil) }
        guard let all = totals[root] else { return }

        guard let cp = count(root, p, firstUse: true) else {
            if !failed, let d = lastRejection {
                if d.code == .valueOutOfRange, d.message.contains("$92,233,720,368,547,75") {
                    // The documented maximum amount, refused: a known issue, not the generator's fault.
                    if FuzzSettings.current.strict {
                        fail("the documented maximum amount was refused: \(d.message)", "count \(root) where \(p)")
                    }
                    tally.add("known K6", example: "\(root): \(p)  →  \(d.message)")
                } else {
                    rejected += 1
                    tally.add("rejected \(d.code.rawValue)", example: "\(root): \(p)  →  \(d.message)")
                }
            }
            return
        }
        guard let cq = count(root, q, firstUse: true) else {
            if !failed, let d = lastRejection {
                rejected += 1
                tally.add("rejected \(d.code.rawValue)", example: "\(root): \(q)  →  \(d.message)")
            }
            return
        }
        checked += 1
        // 1. Partition: count(P) + count(not (P)) = count(all).
        let cNotP = count(root, "not (\(p))")
        expectEqual("count(P) + count(not P) = count(all)", cNotP.map { cp + $0 }, all, "count(P) = \(cp), count(not P) = \(cNotP ?? -1)")
        // 2. TLP within Q: count(Q) = count(Q and P) + count(Q and not (P)).
        let qAndP = count(root, "(\(q)) and (\(p))")
        let qAndNotP = count(root, "(\(q)) and not (\(p))")
        if let a = qAndP, let b = qAndNotP {
            expectEqual("count(Q) = count(Q and P) + count(Q and not P)", cq, a + b, "\(a) + \(b)")
        }
        // 3. Inclusion–exclusion: count(P or Q) = count(P) + count(Q) − count(P and Q).
        let pOrQ = count(root, "(\(p)) or (\(q))")
        if let qAndP { expectEqual("count(P or Q) = count(P) + count(Q) − count(P and Q)", pOrQ, cp + cq - qAndP, "") }
        // 4. De Morgan, against the complement: count(not P and not Q) = count(all) − count(P or Q).
        let neither = count(root, "not (\(p)) and not (\(q))")
        if let pOrQ { expectEqual("count(not P and not Q) = count(all) − count(P or Q)", neither, all - pOrQ, "") }
        // 5. find returns as many rows as count counts.
        let find = "find \(root) id where \(p) as csv"
        if case .ok(let output) = ask(find) {
            let rows = csvRecords(output).count - 1
            expectEqual("rows of find = count", rows, cp, find)
        }
        // 6. The groups of `count … by X` add up to the count.
        let group = generator.groupPath(root, &rng)
        let byCount = columnTotal("count \(root) by \(group) where \(p) as csv")
        expectEqual("Σ count by \(group) = count", byCount, Decimal(cp), "")
        // 7. The groups of `sum … by X` add up to the sum (money fields, the root's or related).
        let money = generator.moneyPaths(root)
        if !money.isEmpty {
            let field = rng.pick(money)
            let sumGroup = generator.groupPath(root, &rng)
            let total = columnTotal("sum \(root).\(field) where \(p) as csv")
            let byGroup = columnTotal("sum \(root).\(field) by \(sumGroup) where \(p) as csv")
            expectEqual("Σ sum \(field) by \(sumGroup) = sum \(field)", byGroup, total, "")
        }
    }
}
