import Foundation
import GRDB
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Answers checked against SQL over the raw tables, not against the engine's own arithmetic.
@Suite("Correct answers")
struct CorrectAnswerTests {
    func int(_ engine: Engine, _ sql: String) throws -> Int {
        try engine.store.dbQueue.read { try Int.fetchOne($0, sql: sql) ?? -1 }
    }

    /// Money × number is money (the number is a factor, not dollars), money ÷ number is money
    /// rounded half-even to the cent, money ÷ money is a number; in conditions and sets alike.
    @Test func moneyArithmetic() throws {
        let engine = try SampleDatabase.engine()
        #expect(
            run(engine, "count deals where amount * 2 > $100,000").output
                == "\(try int(engine, "SELECT count(*) FROM deals WHERE amount * 2 > 10000000"))\n")
        #expect(
            run(engine, "count deals where amount / 4 < 1000").output
                == "\(try int(engine, "SELECT count(*) FROM deals WHERE amount < 400000"))\n")
        #expect(
            run(engine, "count deals where amount / amount = 1").output
                == "\(try int(engine, "SELECT count(*) FROM deals WHERE amount > 0"))\n")
        #expect(run(engine, "update deals where id = 3 set amount = 835.83").error == nil)
        #expect(run(engine, "update deals where id = 3 set amount = amount / 3").error == nil)
        #expect(try int(engine, "SELECT amount FROM deals WHERE id = 3") == 27861)  // $278.61
        #expect(run(engine, "update deals where id = 3 set amount = 83583").error == nil)
        let preview = run(engine, "update deal 3 set amount = amount * 1.1 --dry-run").output
        #expect(preview.contains("$83,583.00 → $91,941.30"), "\(preview)")
        #expect(run(engine, "update deal 3 set amount = amount * 1.1").error == nil)
        #expect(try int(engine, "SELECT amount FROM deals WHERE id = 3") == 9_194_130)
        // Half-even: $0.05 / 2 = 2.5 cents → 2; $0.07 / 2 = 3.5 cents → 4.
        #expect(run(engine, "update deals where id = 3 set amount = 0.05").error == nil)
        #expect(run(engine, "update deals where id = 3 set amount = amount / 2").error == nil)
        #expect(try int(engine, "SELECT amount FROM deals WHERE id = 3") == 2)
        #expect(run(engine, "update deals where id = 3 set amount = 0.07").error == nil)
        #expect(run(engine, "update deals where id = 3 set amount = amount / 2").error == nil)
        #expect(try int(engine, "SELECT amount FROM deals WHERE id = 3") == 4)
        // Addition: a number beside money means dollars.
        #expect(run(engine, "update deals where id = 3 set amount = amount + 100").error == nil)
        #expect(try int(engine, "SELECT amount FROM deals WHERE id = 3") == 10_004)
        #expect(run(engine, "update deal 3 set amount = amount * amount").error?.code == .typeMismatch)
        #expect(run(engine, "update deal 3 set amount = amount / 0").error?.code == .divisionByZero)
    }

    /// Matching folds case and Unicode normalisation in every script.
    @Test func unicodeMatchingFoldsCaseAndNormalisation() throws {
        let engine = try SampleDatabase.engine()
        for command in [
            #"create contact first_name="Zoë" last_name="Composed" email="zoë@example.com" title="Директор по продажам""#,
            "create contact first_name=\"Zoe\u{308}\" last_name=\"Decomposed\" title=\"GROSSE STRASSE\"",
            #"create contact first_name="ZOË" last_name="Capital" title="Straße""#,
        ] {
            #expect(run(engine, command).error == nil, "\(command)")
        }
        // Accents aside too: the sample company's Zoes match as well, so the three are picked out.
        let three = #"last_name in ("Composed", "Decomposed", "Capital")"#
        #expect(run(engine, #"count contacts where first_name contains "ZOË" and "# + three).output == "3\n")
        #expect(run(engine, #"count contacts where (first_name = "Zoë" or first_name starts with "zoë") and "# + three).output == "3\n")
        #expect(
            run(engine, #"count contacts where first_name contains "ZOË""#).output
                == "\(try int(engine, "SELECT count(*) FROM contacts WHERE lower(first_name) IN ('zoe', 'zoë') OR last_name IN ('Composed', 'Decomposed', 'Capital')"))\n")
        #expect(run(engine, #"count contacts where title contains "директор""#).output == "1\n")
        #expect(run(engine, #"count contacts where title ends with "ПРОДАЖАМ""#).output == "1\n")
        #expect(run(engine, #"count contacts where title contains "strasse""#).output == "2\n")
        #expect(run(engine, #"count contacts where email = "ZOË@EXAMPLE.COM""#).output == "1\n")
        #expect(run(engine, #"count contacts where email in ("ZOË@example.com", "nobody@x.io")"#).output == "1\n")
        // count(P) + count(not P) + count(P empty) = count(all)
        let all = try int(engine, "SELECT count(*) FROM contacts")
        let p = Int(run(engine, #"count contacts where title contains "директор""#).output.dropLast()) ?? -1
        let notP = Int(run(engine, #"count contacts where not (title contains "директор")"#).output.dropLast()) ?? -1
        let unknown = Int(run(engine, "count contacts where title is null").output.dropLast()) ?? -1
        #expect(p + notP == all && unknown >= 0)
    }

    /// Emails group, sort and match without regard to case, as `=` does.
    @Test func emailsGroupWithoutRegardToCase() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, #"update contact 1 set email = "Ryan.Burnett@Example.com""#).error == nil)
        #expect(run(engine, #"update contact 2 set email = "ryan.burnett@example.com""#).error == nil)
        let groups = run(engine, #"count contacts by email where email contains "burnett@example""#).output
        #expect(groups.contains("ryan.burnett@example.com │     2"), "\(groups)")
        let expected = try int(engine, "SELECT count(DISTINCT lower(email)) FROM contacts WHERE email IS NOT NULL")
        let csv = run(engine, "count contacts by email as csv").output.split(separator: "\n")
        // Header, one line per address, and the empty group.
        let withEmail = csv.dropFirst().filter { !$0.hasPrefix(",") }
        #expect(withEmail.count == expected)
    }
}

/// A script is one unit: previewed whole by a dry-run, and one change set, undone as one.
@Suite("Scripts as one unit")
struct ScriptUnitTests {
    static let script = """
        create account name="Zeta Widgets" industry=software
        create contact first_name="Ann" last_name="Lee" account="Zeta Widgets"
        create contact first_name="Bo" last_name="Lee" account="Zeta Widgets"
        update contacts where account = "Zeta Widgets" set title = "CEO"
        count contacts by title where account = "Zeta Widgets"
        """

    func runScript(_ engine: Engine, _ source: String) -> (status: RoloShell.ExitStatus, output: String, errors: String) {
        let output = StringOutput()
        let errors = StringOutput()
        let status = Shell(engine: engine, output: output, errors: errors).runSource(source, file: "fix.rolo")
        return (status, output.text, errors.text)
    }

    /// Every table but the history Rolo keeps of itself, and without the time of the last change.
    func domainTables(_ store: CRMStore) throws -> String {
        try store.dbQueue.read { db in
            var text = ""
            for entity in CRMSchema.entities where entity.kind != .system {
                let columns = try db.columns(in: entity.name).map(\.name).filter { $0 != "updated_at" }
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                for row in try Row.fetchAll(db, sql: "SELECT \(list) FROM \"\(entity.name)\" ORDER BY id") {
                    text += entity.name + " " + row.description + "\n"
                }
            }
            return text
        }
    }

    /// A dry-run runs the whole script — a later statement sees what an earlier one would do —
    /// keeps nothing, and previews exactly what the real run then reports.
    @Test func aDryRunPreviewsTheWholeScriptAndMatchesTheRealRun() throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        engine.session.settings.dryRun = true
        let preview = runScript(engine, Self.script)
        #expect(preview.status == .success, "\(preview.errors)")
        #expect(preview.output.contains(" CEO   │     2"), "\(preview.output)")
        #expect(preview.output.contains("the whole transaction was rolled back"))
        #expect(try snapshot(engine.store) == before)
        engine.session.settings.dryRun = false
        let real = runScript(engine, Self.script)
        #expect(real.status == .success, "\(real.errors)")
        // A whole script's preview says one line per change ("fix.rolo:4: 2 contacts would be
        // updated — …"); the real run then does exactly those changes, in that order.
        let previewed = preview.output.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("fix.rolo:"), let would = line.range(of: " would be ") else { return nil }
            let figures = line[..<would.lowerBound].split(separator: " ").suffix(2)  // "2 contacts"
            let verb = line[would.upperBound...].prefix { $0 != " " }
            return "\(verb) " + figures.joined(separator: " ")
        }
        let done = real.output.split(separator: "\n").compactMap { line -> String? in
            guard ["created ", "updated ", "deleted "].contains(where: { line.hasPrefix($0) }), let change = line.range(of: " (change")
            else { return nil }
            return String(line[..<change.lowerBound])
        }
        #expect(previewed.count == 4 && previewed == done, "preview \(previewed), run \(done)")
        #expect(real.output.contains(" CEO   │     2"))
    }

    /// A script makes one change set; one undo reverts all of it, and every domain table is as before.
    @Test func aScriptIsOneChangeSetUndoneAsOne() throws {
        let engine = try SampleDatabase.engine()
        let before = try domainTables(engine.store)
        let sets = { try engine.store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM change_sets") ?? 0 } }
        let setsBefore = try sets()
        let result = runScript(engine, Self.script)
        #expect(result.status == .success, "\(result.errors)")
        #expect(try sets() == setsBefore + 1)
        let records = try engine.store.dbQueue.read {
            try Int.fetchOne($0, sql: "SELECT records FROM change_sets ORDER BY id DESC LIMIT 1")
        }
        #expect(records == 5)
        #expect(run(engine, "undo --yes").error == nil)
        #expect(try domainTables(engine.store) == before)
        // The audit log names the change set for each change of the script.
        let named = try engine.store.dbQueue.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(DISTINCT change_set_id) FROM audit_log WHERE command LIKE 'create %' OR command LIKE 'update %'")
        }
        #expect(named == 1)
    }
}

/// Values past what Rolo can hold, and input the parser must refuse, get a Rolo error with a code
/// of its own — never a wrapped or truncated value, a SQLite message or a crash.
@Suite("Value limits")
struct ValueLimitTests {
    static let cases: [(String, DiagnosticCode)] = [
        ("count deals where amount > 99999999999999999999", .valueOutOfRange),
        ("count deals where amount > $999,999,999,999,999,999", .valueOutOfRange),
        ("count accounts where employees > 99999999999999999999", .valueOutOfRange),
        ("count tasks where due_date < 99999 years ago", .valueOutOfRange),
        ("count tasks where due_date < today + 8000 years", .valueOutOfRange),
        // A date the calendar has, outside the years Rolo keeps: past the limits, as in every path.
        ("count tasks where due_date > 0000-01-01", .valueOutOfRange),
        ("count tasks where due_date > 2026-02-30", .invalidDate),
        ("update deal 3 set amount = amount / 0", .divisionByZero),
        (#"count contacts where title = "a\qb""#, .unknownEscape),
        ("count contacts where title = \"a\u{0}b\"", .nulCharacter),
        ("update contact 1 set title = \"" + String(repeating: "x", count: 2001) + "\"", .textTooLong),
        ("update contacts where id < 3 set title = concat(title, \"" + String(repeating: "y", count: 1990) + "\")", .textTooLong),
        ("count contacts where " + String(repeating: "(", count: 150) + "id > 0" + String(repeating: ")", count: 150), .nestingTooDeep),
        ("count contacts where " + String(repeating: "not ", count: 150) + "id > 0", .nestingTooDeep),
        ("count deals where amount > " + String(repeating: "- ", count: 150) + "1", .nestingTooDeep),
    ]

    @Test(arguments: cases.indices)
    func refusedWithItsOwnCode(index: Int) throws {
        let (command, code) = Self.cases[index]
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let result = run(engine, command)
        #expect(
            result.error?.code == code, "\(command.prefix(80)) → \(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "succeeded")"
        )
        #expect(try snapshot(engine.store) == before)
    }

    /// Long flat chains neither exhaust the stack nor pass SQLite's parser or expression-depth
    /// limits, and they mean what they say.
    @Test func tenThousandTermChains() throws {
        let engine = try SampleDatabase.engine()
        let ands = "count contacts where " + (1...10_000).map { "id != \($0 + 5000)" }.joined(separator: " and ")
        #expect(run(engine, ands).output == "3000\n")
        let ors = "count contacts where " + (1...10_000).map { "id = \($0)" }.joined(separator: " or ")
        #expect(run(engine, ors).output == "3000\n")
        let sum = "count contacts where id = " + Array(repeating: "1", count: 10_000).joined(separator: " + ") + " - 9998"
        #expect(run(engine, sum).output == "1\n")
        #expect(run(engine, "update deals where id = 3 set amount = 0").error == nil)
        let money = "update deals where id = 3 set amount = amount" + String(repeating: " + 1", count: 10_000) + " --quiet"
        #expect(run(engine, money).error == nil)
        let amount = try engine.store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT amount FROM deals WHERE id = 3") }
        #expect(amount == 1_000_000)
    }
}

@Suite("Previews")
struct PreviewTests {
    /// Diffs name related records by their title, and escape quotes inside values.
    @Test func previewsNameRelatedRecordsAndEscapeQuotes() throws {
        let engine = try SampleDatabase.engine()
        let deal = try #require(
            try engine.store.dbQueue.read {
                try Int64.fetchOne($0, sql: "SELECT d.id FROM deals d JOIN users u ON u.id = d.owner_id WHERE u.handle = 'bob' LIMIT 1")
            })
        let assign = run(engine, "assign deal \(deal) to carol --dry-run").output
        #expect(assign.contains(": owner bob → carol"), "\(assign)")
        let quoted = run(engine, #"update contact 5 set title = "The \"Big\" Boss" --dry-run"#).output
        #expect(quoted.contains(#"→ "The \"Big\" Boss""#), "\(quoted)")
        let name = try engine.store.dbQueue.read {
            try String.fetchOne(
                $0,
                sql:
                    "SELECT name FROM accounts WHERE id = (SELECT coalesce(max(id), 0) FROM accounts WHERE id != (SELECT account_id FROM contacts WHERE id = 5))"
            )
        }
        let account = run(engine, "update contact 5 set account = \"\(name ?? "")\" --dry-run").output
        #expect(account.contains("→ \"\(name ?? "?")\""), "\(account)")
    }
}

@Suite("Groups and times")
struct GroupAndTimeTests {
    /// `order by` and `limit` on grouped results; enums sort in their declared order.
    @Test func groupedResultsSortAndCut() throws {
        let engine = try SampleDatabase.engine()
        let stages = run(engine, "count deals by stage order by stage as csv").output.split(separator: "\n").dropFirst()
        #expect(stages.map { String($0.split(separator: ",")[0]) } == CRMSchema.dealStages)
        #expect(run(engine, "count contacts by country limit 3 as csv").output.split(separator: "\n").count == 4)
        let top = try engine.store.dbQueue.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT u.handle, sum(d.amount) FROM deals d JOIN users u ON u.id = d.owner_id GROUP BY u.handle ORDER BY 2 DESC LIMIT 1"
            )
        }
        let best = run(engine, "sum deals.amount by owner order by sum desc limit 1 as csv").output.split(separator: "\n")
        #expect(best.count == 2)
        #expect(best.last?.hasPrefix((top?[0] as String? ?? "?") + ",") == true)
        let ascending = run(engine, "count deals by owner order by count asc limit 1 as csv").output.split(separator: "\n")
        let fewest = try engine.store.dbQueue.read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM deals GROUP BY owner_id ORDER BY 1 LIMIT 1")
        }
        #expect(ascending.last?.hasSuffix(",\(fewest ?? -1)") == true)
        #expect(run(engine, "count deals by stage order by amount").error?.code == .invalidAggregate)
        #expect(run(engine, "count deals limit 3").error?.code == .invalidAggregate)
    }

    /// Timestamps as tables print them and as ISO-8601 with T…Z are literals.
    @Test func timestampLiterals() throws {
        let engine = try SampleDatabase.engine()
        let expected = try engine.store.dbQueue.read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM tickets WHERE opened_at >= '2026-11-22T08:00:00Z'") ?? -1
        }
        for literal in ["2026-11-22 08:00", "2026-11-22T08:00:00Z", "2026-11-22T08:00Z", "2026-11-22 08:00:00"] {
            #expect(run(engine, "count tickets where opened_at >= \(literal)").output == "\(expected)\n", "\(literal)")
        }
        #expect(run(engine, "count tickets where opened_at >= 2026-11-22 25:00").error?.code == .invalidDate)
    }
}

@Suite("Durations")
struct DurationTests {
    /// `closed_at - opened_at` is a length of time: compared with `3 days`, averaged per group.
    @Test func timeBetweenTwoMoments() throws {
        let engine = try SampleDatabase.engine()
        let over = try engine.store.dbQueue.read {
            try Int.fetchOne(
                $0, sql: "SELECT count(*) FROM tickets WHERE strftime('%s', closed_at) - strftime('%s', opened_at) > 3 * 86400") ?? -1
        }
        #expect(run(engine, "count tickets where closed_at - opened_at > 3 days").output == "\(over)\n")
        let seconds = try engine.store.dbQueue.read {
            try Int.fetchOne(
                $0,
                sql:
                    "SELECT CAST(round(avg(strftime('%s', closed_at) - strftime('%s', opened_at))) AS INTEGER) FROM tickets WHERE priority = 'urgent'"
            )
                ?? -1
        }
        let csv = run(engine, "avg tickets.(closed_at - opened_at) by priority where priority = urgent as csv").output
        #expect(
            csv == "priority,avg(closed_at - opened_at)\nurgent,\(seconds)\n"
                || csv == "priority,avg(closed_at - opened_at)\nurgent,\(seconds).0\n", "\(csv)")
        #expect(run(engine, "count tickets where closed_at - opened_at > 2 months").error?.code == .typeMismatch)
        #expect(ValueFormatter.duration(seconds: 3 * 86_400 + 4 * 3600 + 59) == "3 days 4 hours")
        #expect(ValueFormatter.duration(seconds: 3600 + 60) == "1 hour 1 minute")
    }
}

@Suite("Related records")
struct RelatedRecordTests {
    func sql(_ engine: Engine, _ text: String) throws -> Int {
        try engine.store.dbQueue.read { try Int.fetchOne($0, sql: text) ?? -1 }
    }

    /// `has`, `no`, `count(… where …)` and grouping by a count, against SQL over the raw tables;
    /// related records the user may not read are not counted.
    @Test func reverseRelationsAndQuantities() throws {
        let engine = try SampleDatabase.engine()
        let decayed = try sql(
            engine,
            "SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = c.id AND a.occurred_at >= '2025-11-22')"
        )
        #expect(run(engine, "count contacts where no activities since 1 year ago").output == "\(decayed)\n")
        let open = try sql(
            engine,
            "SELECT count(*) FROM contacts c WHERE EXISTS (SELECT 1 FROM tickets t WHERE t.contact_id = c.id AND t.status NOT IN ('resolved', 'closed'))"
        )
        #expect(run(engine, "count contacts where has open tickets").output == "\(open)\n")
        let winners = try sql(
            engine,
            "SELECT count(*) FROM accounts a WHERE (SELECT count(*) FROM deals d WHERE d.account_id = a.id AND d.stage = 'won') >= 3")
        #expect(run(engine, "count accounts where count(deals where stage = won) >= 3").output == "\(winners)\n")
        let none = try sql(engine, "SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id)")
        let groups = run(engine, "count accounts by count(contacts) order by count(contacts) as csv").output.split(separator: "\n")
            .dropFirst()
        let total = groups.compactMap { Int($0.split(separator: ",")[1]) }.reduce(0, +)
        #expect(total == (try sql(engine, "SELECT count(*) FROM accounts")))
        if none > 0 { #expect(groups.first == "0,\(none)") }
        // alice reads only her own deals: others' deals are not counted.
        let alice = try SampleDatabase.engine(user: "alice")
        let hers = try sql(
            alice,
            "SELECT count(*) FROM accounts a WHERE EXISTS (SELECT 1 FROM deals d JOIN users u ON u.id = d.owner_id WHERE d.account_id = a.id AND u.handle = 'alice')"
        )
        #expect(run(alice, "count accounts where count(deals) > 0").output == "\(hers)\n")
        #expect(run(engine, "count tickets where has deals").error?.code == .unknownRelation)
        #expect(run(engine, "count contacts where has open activities").error?.code == .invalidValue)
    }
}
