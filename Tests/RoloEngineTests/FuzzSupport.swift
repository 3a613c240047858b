import Foundation
import RoloSyntax

/// How much the metamorphic tests and the front-end fuzzer run, from the environment:
///
/// - `ROLO_FUZZ_CONDITIONS` conditions for the query relations (default 1,200: the quick version),
///   `ROLO_FUZZ_UPDATES` update / dry-run / undo rounds (default 60),
///   `ROLO_FUZZ_INPUTS` inputs through lexer, parser and binder (default 4,000);
/// - `ROLO_FUZZ_SEED` the run's seed (printed at the start and in every failure);
/// - `ROLO_FUZZ_SHARDS` parallel shards, each on its own copy of the sample company (default 2);
/// - `ROLO_FUZZ_REPLAY` one condition's seed (printed with its failure): check only that one;
/// - `ROLO_FUZZ_STRICT=1`: known issues (below) fail the run instead of being counted;
/// - `ROLO_FUZZ_LAST_INPUT` a file prefix: before each input the fuzzer writes it to
///   `<prefix>.<test>`, so after a crash the input that killed the process is on disk
///   (`scripts/fuzz` saves it to Tests/FuzzCorpus);
/// - `ROLO_FUZZ_SAVE` a folder to save inputs that found a failure in (and, with
///   `ROLO_FUZZ_SAVE_KNOWN=1`, a few examples of each known issue).
struct FuzzSettings {
    var conditions = 1_200
    var updates = 60
    var inputs = 4_000
    var seed: UInt64 = 20_261_122
    var shards = 2
    var replay: UInt64? = nil
    var strict = false
    var lastInput: String? = nil
    var saveFolder: String? = nil
    var saveKnown = false

    static let current: FuzzSettings = {
        let env = ProcessInfo.processInfo.environment
        var s = FuzzSettings()
        func number(_ name: String) -> UInt64? {
            guard let text = env[name]?.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ",", with: "") else {
                return nil
            }
            return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        }
        if let n = number("ROLO_FUZZ_CONDITIONS") { s.conditions = Int(n) }
        if let n = number("ROLO_FUZZ_UPDATES") { s.updates = Int(n) }
        if let n = number("ROLO_FUZZ_INPUTS") { s.inputs = Int(n) }
        if let n = number("ROLO_FUZZ_SEED") { s.seed = n }
        if let n = number("ROLO_FUZZ_SHARDS") { s.shards = max(1, Int(n)) }
        s.replay = number("ROLO_FUZZ_REPLAY")
        s.strict = env["ROLO_FUZZ_STRICT"] == "1"
        s.lastInput = env["ROLO_FUZZ_LAST_INPUT"]
        s.saveFolder = env["ROLO_FUZZ_SAVE"]
        s.saveKnown = env["ROLO_FUZZ_SAVE_KNOWN"] == "1"
        return s
    }()

    /// Items `0..<total` split over the shards: this shard's share.
    func share(of total: Int, shard: Int) -> Range<Int> {
        let per = total / shards
        let extra = total % shards
        let start = shard * per + min(shard, extra)
        return start..<(start + per + (shard < extra ? 1 : 0))
    }
}

/// Bugs the fuzzers found that are not fixed yet. A failure matching one is counted and printed,
/// not recorded as a test failure (unless ROLO_FUZZ_STRICT=1), so the suite stays runnable; the
/// generators also keep away from the inputs that crash the process (`crashShapesAllowed`).
/// docs/reliability.md and the fuzzing report describe each with a minimal reproduction.
enum KnownIssue: String, CaseIterable {
    /// SQLite's "parser stack overflow" (or "Expression tree is too large") leaks as E501 "the
    /// database refused this": the binder nests SQL for `*` and `/` chains
    /// (`rolo_money_mul(rolo_money_mul(…))`) and for `not` (`NOT coalesce(NOT coalesce(…))`)
    /// past what SQLite's parser takes.
    case sqlNestingLeak = "K1"
    /// Long `*` or `/` chains (`amount * 1 * 1 …`, some 800 terms) overflow the stack in
    /// ExpressionBinder.bindArithmetic, which recurses once per operator: the process crashes.
    case arithmeticChainCrash = "K2"
    /// The parser's nesting counter goes down twice after every `in (…)` list and function call,
    /// so after such predicates brackets, `not` and unary minus may nest past the limit of 100 (E112).
    case nestingCounterDrift = "K3"
    /// Money arithmetic past ±$92,233,720,368,547,758.07 at run time (`amount * 1000000 * 1000000`
    /// in a condition, `set amount = amount * 10000000000000`) stops the command with E501 "the database refused this: rolo: amount of money out of range",
    /// a database error passed through, where a literal past the range gets E308.
    case moneyOverflowLeak = "K4"
    /// SQLite's "integer overflow" leaks as E501: `abs(-9223372036854775807 - 1)` in a condition,
    /// or `sum accounts.employees` once two records hold 9,223,372,036,854,775,807.
    case integerOverflowLeak = "K5"
    /// A `$` amount literal is refused (E308) from $92,233,720,368,547,757.00 up, though the
    /// documented maximum is $92,233,720,368,547,758.07 (and the same amount in quotes, or as a
    /// plain number, is taken).
    case moneyLiteralLimit = "K6"
    /// Integer arithmetic in `set` past 9,223,372,036,854,775,807 (`employees + 9223372036854775000`)
    /// is written as a REAL (9.22337203685478e+18) into an integer column, where E308 should refuse it.
    case integerOverflowWrite = "K7"
    /// An update that breaks a UNIQUE or CHECK constraint is not checked first: SQLite's own message
    /// comes through, E501 "the database refused this: UNIQUE constraint failed: campaigns.name"
    /// (`update campaign 1 set name = "Winter Product Launch"`) or "CHECK constraint failed: lead_id
    /// IS NOT NULL OR contact_id IS NOT NULL" (`update campaign_member 1 set lead = null`).
    case constraintMessageLeak = "K8"
    /// Not an oracle's finding but the long run's: every distinct query's prepared statement stays
    /// in the session's statement cache, and each query copies the cache, so query k of a session
    /// costs O(k) (16,000 distinct counts in one script: 14.6 s, against 3.5 s for one repeated).
    case statementCacheGrowth = "K9"

    var summary: String {
        switch self {
        case .sqlNestingLeak: return "SQLite parser stack overflow leaks as E501 for nested SQL (* / chains, not chains)"
        case .arithmeticChainCrash: return "stack overflow crash binding a long * or / chain"
        case .nestingCounterDrift: return "nesting limit (E112) not enforced after in-lists and function calls"
        case .moneyOverflowLeak: return "money overflow at run time leaks as E501 instead of E308"
        case .integerOverflowLeak: return "SQLite integer overflow (abs, sum) leaks as E501"
        case .moneyLiteralLimit: return "$ literals refused from $92,233,720,368,547,757.00, below the documented maximum"
        case .integerOverflowWrite: return "integer overflow in set writes a REAL into an integer column instead of E308"
        case .constraintMessageLeak: return "UNIQUE / CHECK constraint failures on update leak SQLite's message (E501)"
        case .statementCacheGrowth: return "the statement cache grows with every distinct query and is copied on each: sessions slow down"
        }
    }

    /// The known issue a leaked database message belongs to, if any.
    static func matching(_ message: String) -> KnownIssue? {
        if message.contains("parser stack overflow") || message.contains("Expression tree is too large") {
            return .sqlNestingLeak
        }
        if message.contains("amount of money out of range") { return .moneyOverflowLeak }
        if message.contains("integer overflow") { return .integerOverflowLeak }
        if message.contains("UNIQUE constraint failed") || message.contains("CHECK constraint failed") {
            return .constraintMessageLeak
        }
        return nil
    }

    /// Generators produce the inputs that crash the process only when strict.
    static var crashShapesAllowed: Bool { FuzzSettings.current.strict }
}

/// Counts known issues and rejections across a run, for the printed summary.
final class FuzzTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var examples: [String: String] = [:]

    static let verbose = ProcessInfo.processInfo.environment["ROLO_FUZZ_VERBOSE"] == "1"

    func add(_ key: String, example: String? = nil) {
        if Self.verbose, let example { print("[\(key)] \(example)") }
        lock.lock()
        defer { lock.unlock() }
        counts[key, default: 0] += 1
        if let example, examples[key] == nil { examples[key] = example }
    }

    func count(_ key: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return counts[key] ?? 0
    }

    func summary(prefix: String = "") -> String {
        lock.lock()
        defer { lock.unlock() }
        return counts.keys.filter { $0.hasPrefix(prefix) }.sorted().map { key in
            "  \(key): \(counts[key] ?? 0)" + (examples[key].map { "   e.g. " + String($0.prefix(160)) } ?? "")
        }.joined(separator: "\n")
    }
}

/// Keeps the input being worked on in a file, so a crash leaves it behind.
struct LastInputFile {
    private let fd: Int32

    init?(name: String) {
        guard let prefix = FuzzSettings.current.lastInput else { return nil }
        let fd = open(prefix + "." + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = ftruncate(fd, 0)
        _ = bytes.withUnsafeMutableBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    func close() {
        _ = ftruncate(fd, 0)
        _ = Foundation.close(fd)
    }
}

/// Saves an input that found a failure in ROLO_FUZZ_SAVE (if set; scripts/fuzz points it at
/// Tests/FuzzCorpus), named by its hash, with a first line saying what it is expected to show
/// (`# expect: K1`, or `# expect: failure` for a new bug) — the corpus test replays it.
func saveFailingInput(_ text: String, kind: String, expect: String, note: String) {
    guard let folder = FuzzSettings.current.saveFolder else { return }
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/\(kind)-" + String(hash, radix: 16) + ".rolo"
    let header = "# expect: \(expect) — \(note.replacingOccurrences(of: "\n", with: " ").prefix(200))\n"
    try? (header + text).write(toFile: path, atomically: true, encoding: .utf8)
}

/// Runs `body` on a thread with an 8 MiB stack, the size the `rolo` binary's main thread has,
/// so deep recursion fails (or not) in the tests as it would for a user.
func onMainSizedStack(_ body: @escaping () -> Void) {
    final class Box: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    let box = Box(body)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.body()
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    done.wait()
}

/// The records of CSV text (RFC 4180 quoting), each a list of fields.
func csvRecords(_ text: String) -> [[String]] {
    var records: [[String]] = []
    var record: [String] = []
    var field = ""
    var quoted = false
    var chars = text.makeIterator()
    var pending: Character? = nil
    while let ch = pending ?? chars.next() {
        pending = nil
        if quoted {
            if ch == "\"" {
                if let next = chars.next() {
                    if next == "\"" {
                        field.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    quoted = false
                }
            } else {
                field.append(ch)
            }
            continue
        }
        switch ch {
        case "\"": quoted = true
        case ",":
            record.append(field)
            field = ""
        case "\n", "\r\n":
            record.append(field)
            records.append(record)
            record = []
            field = ""
        default: field.append(ch)
        }
    }
    if !field.isEmpty || !record.isEmpty {
        record.append(field)
        records.append(record)
    }
    return records
}

/// A diagnostic that is the database's message passed through: a failure, whatever the input.
/// A constraint refusal put in the user's terms (E501 naming the rule, with help: "another
/// campaign already has that name", "a campaign member is a lead or a contact") is a rejection
/// like any other since K8 was fixed; SQLite's own words, or the catch-all E501 without help, leak.
func isLeak(_ diagnostic: Diagnostic) -> Bool {
    diagnostic.message.contains("the database refused") || diagnostic.message.lowercased().contains("sqlite")
        || diagnostic.message.contains("constraint failed")
        || (diagnostic.code == .constraintViolated && diagnostic.help == nil)
}
