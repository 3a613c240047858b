import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// Issue 19, item 7: a rule means the same whoever acts, names records by number, names itself
/// when its arithmetic overflows, and refuses only the records a change newly breaks. Oracles are
/// raw SQL over the tables.
@Suite("Validation rules: hardening")
struct RuleHardeningTests {
    static func scalar<T: DatabaseValueConvertible>(_ engine: Engine, _ sql: String, _ arguments: StatementArguments = []) throws -> T? {
        try engine.store.dbQueue.inDatabase { try T.fetchOne($0, sql: sql, arguments: arguments) }
    }

    /// `me`, `my team` and script parameters depend on who runs the command: refused in a rule,
    /// pointing at the word, with a help line, and nothing is written.
    @Test(arguments: [
        ("rule deals must owner = me", 25),
        ("rule deals must owner in my team", 26),
        ("rule deals.owner must be in (me, bob)", 30),
        ("rule deals must count(tasks where assignee = me) = 0", 46),
        ("rule deals must name != $old", 25),
    ])
    func actorWordsAreRefused(command: String, column: Int) throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let result = run(engine, command)
        #expect(result.error?.code == .invalidRule, "\(command): \(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
        #expect(result.error?.range?.start.column == column, "\(command): column \(result.error?.range?.start.column ?? 0)")
        #expect(result.error?.help?.isEmpty == false)
        #expect(try snapshot(engine.store) == before)
    }

    /// A rule naming an account by name binds to its number: after a rename it still holds, and
    /// `rules` shows the new name.
    @Test func aRuleNamingARecordSurvivesItsRename() throws {
        let engine = try SampleDatabase.engine()
        let (account, name): (Int64, String) = try engine.store.dbQueue.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT id, name FROM accounts ORDER BY id LIMIT 1"))
            return (row["id"], row["name"])
        }
        let other = try #require(
            try Self.scalar(engine, "SELECT id FROM contacts WHERE account_id IS NOT ? ORDER BY id LIMIT 1", [account]) as Int64?)
        let made = run(engine, "rule contacts must account != \"\(name)\" \"Not that account\"")
        try #require(made.error == nil, "\(made.error?.message ?? "")")
        let stored: String = try #require(try Self.scalar(engine, "SELECT condition FROM validation_rules"))
        #expect(stored == "account != \(account)", "stored: \(stored)")
        #expect(run(engine, "update account \(account) set name = \"Renamed Holdings\"").error == nil)
        let refused = run(engine, "update contact \(other) set account = \(account)")
        #expect(refused.error?.code == .ruleBroken, "\(refused.error?.message ?? refused.output)")
        #expect(try Self.scalar(engine, "SELECT account_id FROM contacts WHERE id = ?", [other]) as Int64? != account)
        let listed = run(engine, "rules")
        #expect(listed.output.contains(#"contacts must account != "Renamed Holdings""#), "\(listed.output)")
        #expect(!listed.output.contains(name))
        // A name no record has, or several have, is refused where it is written.
        let missing = run(engine, #"rule contacts must account != "No Such Account Ltd""#)
        #expect(missing.error?.code == .unknownRecord)
        #expect(missing.error?.range?.start.column == 31)
        // Users too: owner = bob is stored by bob's number and shown as bob.
        let bob: Int64 = try #require(try Self.scalar(engine, "SELECT id FROM users WHERE handle = 'bob'"))
        #expect(run(engine, "rule deals must owner != bob").error == nil)
        #expect(
            try Self.scalar(engine, "SELECT condition FROM validation_rules WHERE entity = 'deals'") as String? == "owner != \(bob)")
        #expect(run(engine, "rules deals").output.contains("deals must owner != bob"))
    }

    /// Money arithmetic that overflows inside a rule names the rule.
    @Test func overflowInARuleNamesTheRule() throws {
        let engine = try SampleDatabase.engine()
        let deal: Int64 = try #require(try Self.scalar(engine, "SELECT id FROM deals ORDER BY id LIMIT 1"))
        let made = run(engine, "rule deals must amount * 100000 >= $0")
        try #require(made.error == nil, "\(made.error?.message ?? "")")
        let before = try snapshot(engine.store)
        let result = run(engine, "update deal \(deal) set amount = $1,000,000,000,000")
        #expect(result.error?.code == .valueOutOfRange, "\(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
        #expect(result.error?.message.contains("rule 1") == true, "\(result.error?.message ?? "")")
        #expect(try snapshot(engine.store) == before)
    }

    /// A change is refused only for records it newly breaks: those that broke the rule already
    /// are not counted (a delete clearing their links, an update of another field).
    @Test func onlyNewlyBrokenRecordsCount() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, "rule contacts require title").error == nil)
        let untitled: Int64 = try #require(
            try Self.scalar(engine, "SELECT id FROM contacts WHERE title IS NULL OR trim(title) = '' ORDER BY id LIMIT 1"))
        let titled: Int64 = try #require(try Self.scalar(engine, "SELECT id FROM contacts WHERE trim(title) != '' ORDER BY id LIMIT 1"))
        // Another field of a record that already broke the rule: it breaks no more than before.
        let other = run(engine, "update contact \(untitled) set phone = \"+1 555 010 2030\"")
        #expect(other.error == nil, "\(other.error?.message ?? "")")
        #expect(try Self.scalar(engine, "SELECT phone FROM contacts WHERE id = ?", [untitled]) == "+1 555 010 2030")
        // Both in one change: only the newly broken one is counted and named.
        let both = run(engine, "update contacts where id in (\(untitled), \(titled)) set title = null")
        #expect(both.error?.code == .ruleBroken)
        #expect(both.error?.help?.contains("contact \(titled) would break it") == true, "\(both.error?.help ?? "")")
        // Deleting an account clears its contacts' links; those that broke the rule already do not count.
        let account: Int64? = try Self.scalar(
            engine,
            """
            SELECT a.id FROM accounts a WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND (c.title IS NULL OR trim(c.title) = ''))
            AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.account_id = a.id) ORDER BY a.id LIMIT 1
            """)
        let doomed = try #require(account)
        let deleted = run(engine, "delete account \(doomed)")
        #expect(deleted.error == nil, "\(deleted.error?.message ?? "") \(deleted.error?.help ?? "")")
        #expect(try Self.scalar(engine, "SELECT count(*) FROM accounts WHERE id = ?", [doomed]) == 0)
    }
}
