import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// Validation rules (issue 14): stored, counted, enforced, never blocking undo. The oracles are
/// hand-written SQL over the raw tables and Swift re-statements of the documented forms.
@Suite("Validation rules")
struct ValidationRuleTests {
    /// The documented email form: one @, something before it, a dot inside the domain, no spaces.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !text.contains(" ") else { return false }
        let domain = parts[1]
        return domain.contains(".") && !domain.hasPrefix(".") && !domain.hasSuffix(".")
    }

    /// The documented phone form: 7–30 characters of digits, spaces and + ( ) . -, starting with a
    /// digit, + or (, ending with a digit.
    static func isPhone(_ text: String) -> Bool {
        let allowed = Set("0123456789 +().-")
        guard (7...30).contains(text.count), text.allSatisfy({ allowed.contains($0) }), let first = text.first, let last = text.last
        else { return false }
        return (first.isNumber || first == "+" || first == "(") && last.isNumber
    }

    /// The number a `count` prints.
    static func number(_ output: String) -> Int? {
        Int(output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ",", with: ""))
    }

    static func blank(_ text: String?) -> Bool { (text ?? "").trimmingCharacters(in: .whitespaces).isEmpty }

    /// `check rules` counts, and the count of the `find` it prints, equal independent counts.
    @Test func checkRulesCountsMatchTheRawTables() throws {
        let engine = try SampleDatabase.engine()
        for rule in [
            "rule contacts.email must be valid email", "rule contacts.phone must match phone",
            "rule leads.source must be in (web, referral, event, partner)",
            "rule deals require close_date when stage >= proposal", "rule contacts require title",
        ] {
            let made = run(engine, rule)
            try #require(made.error == nil, "\(rule): \(made.error?.message ?? "")")
        }
        let expected: [Int] = try engine.store.dbQueue.read { db in
            let emails = try String?.fetchAll(db, sql: "SELECT email FROM contacts")
            let phones = try String?.fetchAll(db, sql: "SELECT phone FROM contacts")
            let sources = try Int.fetchOne(
                db,
                sql:
                    "SELECT count(*) FROM leads WHERE source IS NOT NULL AND trim(source) != '' AND source NOT IN ('web', 'referral', 'event', 'partner')"
            )!
            let closeDates = try Int.fetchOne(
                db,
                sql:
                    "SELECT count(*) FROM deals WHERE (close_date IS NULL OR trim(close_date) = '') AND stage IN ('proposal', 'negotiation', 'won', 'lost')"
            )!
            let titles = try String?.fetchAll(db, sql: "SELECT title FROM contacts")
            return [
                emails.filter { !Self.blank($0) && !Self.isEmail($0!) }.count,
                phones.filter { !Self.blank($0) && !Self.isPhone($0!) }.count,
                sources, closeDates, titles.filter(Self.blank).count,
            ]
        }
        #expect(expected[0] > 0 && expected[2] > 0 && expected[4] > 0, "the sample company has dirt to find: \(expected)")
        let check = run(engine, "check rules")
        try #require(check.error == nil)
        let lines = check.output.split(separator: "\n").map(String.init)
        var counts: [Int] = []
        var finds: [String] = []
        for line in lines where line.hasPrefix("rule ") {
            let tail = line[line.range(of: "): ")!.upperBound...]
            counts.append(tail.hasPrefix("no ") ? 0 : Int(tail.split(separator: " ")[0])!)
        }
        for line in lines where line.hasPrefix("  find ") { finds.append(String(line.dropFirst(2))) }
        #expect(counts == expected, "\(check.output)")
        // Each printed find runs as it is and lists exactly the records counted.
        #expect(finds.count == expected.filter { $0 > 0 }.count)
        for (find, count) in zip(finds, expected.filter { $0 > 0 }) {
            let counted = run(engine, "count" + find.dropFirst("find".count))
            #expect(counted.error == nil, "\(find): \(counted.error?.message ?? "")")
            #expect(Self.number(counted.output) == count, "\(find) → \(counted.output)")
        }
    }

    /// A change that leaves a touched record breaking a rule is refused with the rule's number and
    /// message, keeps nothing (every table as it was), and is audited as an error; its dry-run is too.
    @Test func aRefusedChangeKeepsNothing() throws {
        let engine = try SampleDatabase.engine()
        let made = run(engine, #"rule contacts require title "Every contact needs a title""#)
        try #require(made.error == nil)
        let id = try #require(
            try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT id FROM contacts WHERE title IS NOT NULL LIMIT 1") })
        let before = try snapshot(engine.store)
        for command in [
            "update contact \(id) set title = null", "update contact \(id) set title = null --dry-run",
            #"create contact first_name="Ana" last_name="Ruiz""#,
            "update contacts where id <= \(id + 5) set title = \"\"",
        ] {
            let refused = run(engine, command)
            #expect(refused.error?.code == .ruleBroken, "\(command): \(refused.error?.message ?? refused.output)")
            #expect(refused.error?.message.contains("rule 1: Every contact needs a title") == true)
            #expect(try snapshot(engine.store) == before, "\(command) kept something")
            #expect(try auditOutcomes(engine.store).last == "error")
        }
        // A change that keeps every touched record within the rules goes through.
        #expect(run(engine, "update contact \(id) set title = \"CEO\"").error == nil)
        #expect(try snapshot(engine.store) != before)
    }

    /// Rules never block undo: a change undone after a rule that its old values break still undoes.
    @Test func undoIsNeverBlockedByARule() throws {
        let engine = try SampleDatabase.engine()
        let (id, title) = try engine.store.dbQueue.read { db in
            let row = try #require(
                try Row.fetchOne(db, sql: "SELECT id, title FROM contacts WHERE title IS NOT NULL AND title != 'CFO' LIMIT 1"))
            return (row["id"] as Int64, row["title"] as String)
        }
        let changed = run(engine, "update contact \(id) set title = \"CFO\"")
        try #require(changed.error == nil)
        let change = try #require(
            try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") })
        #expect(run(engine, #"rule contacts.title must be in ("CFO", "CEO")"#).error == nil)
        // The rule holds for ordinary changes: putting the old title back by hand is refused…
        #expect(run(engine, "update contact \(id) set title = \"\(title)\"").error?.code == .ruleBroken)
        // …but undo puts it back.
        let undone = run(engine, "undo change \(change)")
        #expect(undone.error == nil, "\(undone.error?.message ?? "")")
        #expect(
            try engine.store.dbQueue.read { try String.fetchOne($0, sql: "SELECT title FROM contacts WHERE id = ?", arguments: [id]) }
                == title)
    }

    /// Merge moves related records; one that would break a rule refuses the merge.
    @Test func mergeIsChecked() throws {
        let engine = try SampleDatabase.engine()
        let (from, into) = try engine.store.dbQueue.read { db in
            let from = try #require(try Int64.fetchOne(db, sql: "SELECT contact_id FROM tickets WHERE contact_id IS NOT NULL LIMIT 1"))
            let into = try #require(
                try Int64.fetchOne(
                    db,
                    sql:
                        "SELECT id FROM contacts WHERE id != ? AND id NOT IN (SELECT contact_id FROM tickets WHERE contact_id IS NOT NULL) LIMIT 1",
                    arguments: [from]))
            return (from, into)
        }
        #expect(run(engine, "rule tickets must contact is empty or contact != \(into)").error == nil)
        let before = try snapshot(engine.store)
        let merged = run(engine, "merge contact \(from) into \(into)")
        #expect(merged.error?.code == .ruleBroken, "\(merged.error?.message ?? merged.output)")
        #expect(try snapshot(engine.store) == before)
    }

    /// Rule changes are changes: dropping is undone with the rule's number; creating is undone.
    @Test func ruleChangesAreUndone() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, "rule contacts require title").error == nil)
        let rules = {
            try engine.store.dbQueue.read { try String.fetchAll($0, sql: "SELECT id || ':' || rule FROM validation_rules ORDER BY id") }
        }
        #expect(try rules() == ["1:contacts require title"])
        #expect(run(engine, "drop rule 1").error == nil)
        #expect(try rules() == [])
        #expect(run(engine, "undo").error == nil)
        #expect(try rules() == ["1:contacts require title"])
        #expect(run(engine, "drop rule 7").error?.code == .unknownRule)
        #expect(run(engine, "rule contacts require title").error?.code == .invalidRule)
    }

    /// Bad rules are refused where they go wrong and change nothing.
    @Test(arguments: [
        ("rule contacts.emial must be valid email", "E202", 15),
        ("rule contcts.email must be valid email", "E201", 6),
        ("rule deals.amount must be valid email", "E301", 12),
        ("rule deals.stage must be in (wonn)", "E208", 30),
        ("rule users require email", "E521", 6),
        ("rule deals.id must be > 0", "E521", 12),
        ("rule deals require close_date when stage >=", "E104", 44),
        ("rule deals.amount must be wibble", "E103", 27),
    ])
    func badRulesChangeNothing(command: String, code: String, column: Int) throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let result = run(engine, command)
        #expect(
            result.error?.code.rawValue == code, "\(command): \(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
        #expect(result.error?.range?.start.column == column, "\(command): column \(result.error?.range?.start.column ?? 0)")
        #expect(try snapshot(engine.store) == before)
    }

    /// `is valid email|phone` is a condition of the language, usable in find and count.
    @Test func validityIsACondition() throws {
        let engine = try SampleDatabase.engine()
        let invalid = try engine.store.dbQueue.read { db in
            try String?.fetchAll(db, sql: "SELECT phone FROM contacts").filter { !Self.blank($0) && !Self.isPhone($0!) }.count
        }
        let valid = try engine.store.dbQueue.read { db in
            try String?.fetchAll(db, sql: "SELECT phone FROM contacts").filter { !Self.blank($0) && Self.isPhone($0!) }.count
        }
        #expect(Self.number(run(engine, "count contacts where phone is not valid phone").output) == invalid)
        #expect(Self.number(run(engine, "count contacts where phone is valid phone").output) == valid)
        #expect(run(engine, "count deals where amount is valid phone").error?.code == .typeMismatch)
    }
}

/// The seam an importer calls with the records it wrote: the same rules, the same refusal.
@Suite("Validation rules: the import seam")
struct RuleSeamTests {
    @Test func enforceRulesOnGivenRecords() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, "rule contacts require title \"Every contact needs a title\"").error == nil)
        let (untitled, titled) = try engine.store.dbQueue.read { db in
            (
                try #require(try Int64.fetchOne(db, sql: "SELECT id FROM contacts WHERE title IS NULL OR trim(title) = '' LIMIT 1")),
                try #require(try Int64.fetchOne(db, sql: "SELECT id FROM contacts WHERE trim(title) != '' LIMIT 1"))
            )
        }
        try engine.store.dbQueue.inDatabase { db in
            try engine.enforceRules(db, touched: [(CRMSchema.contacts, Sql.values([titled.databaseValue]))])
            #expect(throws: Diagnostic.self) {
                try engine.enforceRules(db, touched: [(CRMSchema.contacts, Sql.values([titled.databaseValue, untitled.databaseValue]))])
            }
            // Other entities' records are not this rule's business.
            try engine.enforceRules(db, touched: [(CRMSchema.deals, Sql.values([untitled.databaseValue]))])
        }
    }
}
