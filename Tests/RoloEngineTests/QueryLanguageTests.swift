import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Issue 20's query-language work, each answer checked against SQL written by hand over the
/// tables: `having` on grouped figures, expressions in a field list, related records' fields in
/// `set`, and the note when a limit cuts a tie.
@Suite("Query language")
struct QueryLanguageTests {
    // MARK: - Helpers

    /// The rows of `as csv` output (header first), for simple values (no line breaks in cells).
    static func csv(_ output: String) -> [[String]] {
        output.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }.map { line in
            var cells: [String] = []
            var cell = ""
            var quoted = false
            var iterator = Array(line).makeIterator()
            var pending: Character? = nil
            while let c = pending ?? iterator.next() {
                pending = nil
                if quoted {
                    if c == "\"" {
                        if let next = iterator.next() {
                            if next == "\"" { cell.append("\"") } else { quoted = false; pending = next }
                        } else {
                            quoted = false
                        }
                    } else {
                        cell.append(c)
                    }
                } else if c == "\"" {
                    quoted = true
                } else if c == "," {
                    cells.append(cell)
                    cell = ""
                } else {
                    cell.append(c)
                }
            }
            cells.append(cell)
            return cells
        }
    }

    /// A table's rows as (first cell, last cell), for one-word groups and a figure.
    static func tableRows(_ output: String) -> [(String, String)] {
        let lines = output.split(separator: "\n").map(String.init)
        return lines.dropFirst(2).prefix { !$0.hasPrefix("(") }.map { line in
            let words = line.split(separator: " ").map(String.init)
            return (words.first ?? "", words.last ?? "")
        }
    }

    static func money(_ cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        return "\(sign)\(magnitude / 100).\(String(format: "%02d", Int(magnitude % 100)))"
    }

    static func id(_ engine: Engine, handle: String) throws -> Int64 {
        try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT id FROM users WHERE handle = ?", arguments: [handle]) ?? -1 }
    }

    // MARK: - having (item 7)

    /// The duplicate emails an admin looks for, against GROUP BY … HAVING written by hand.
    @Test func duplicateEmailsMatchAHandWrittenHaving() throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, "count contacts by email having count > 1 as csv")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let rows = Self.csv(result.output)
        #expect(rows.first == ["email", "count"])
        var got: [String: String] = [:]
        for row in rows.dropFirst() { got[row[0]] = row[1] }
        let expected = try engine.store.dbQueue.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT lower(email) AS e, count(*) AS n FROM contacts GROUP BY lower(email) HAVING count(*) > 1"
            ).reduce(into: [String: String]()) { $0[($1["e"] as String?) ?? ""] = String($1["n"] as Int) }
        }
        #expect(!expected.isEmpty, "the sample company plants duplicate emails")
        #expect(got == expected)
    }

    /// `having sum > $…` compares money in dollars, combined with `and` and the group's count.
    @Test func sumHavingMoneyAndCount() throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, "sum deals.amount by stage having sum > $6,500,000 and count > 1 as csv")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let rows = Self.csv(result.output)
        #expect(rows.first == ["stage", "sum(amount)"])
        let got = Dictionary(uniqueKeysWithValues: rows.dropFirst().map { ($0[0], $0[1]) })
        let expected = try engine.store.dbQueue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT stage, sum(amount) AS total FROM deals GROUP BY stage HAVING sum(amount) > 650000000 AND count(*) > 1"
            ).reduce(into: [String: String]()) { $0[$1["stage"] as String] = Self.money($1["total"]) }
        }
        #expect(expected.count >= 1 && expected.count < 6, "the threshold splits the stages: \(expected)")
        #expect(got == expected)
    }

    /// avg, min and max have their own name in having; not (…) and or combine as in where.
    @Test(arguments: [
        ("avg deals.amount by stage having avg >= 60000", "SELECT stage FROM deals GROUP BY stage HAVING avg(amount) >= 6000000"),
        (
            "max deals.amount by owner having max > $150,000 or not (count > 5)",
            "SELECT u.handle FROM deals d JOIN users u ON u.id = d.owner_id GROUP BY d.owner_id HAVING max(d.amount) > 15000000 OR NOT (count(*) > 5)"
        ),
        ("min deals.amount by stage having min < 1000", "SELECT stage FROM deals GROUP BY stage HAVING min(amount) < 100000"),
    ])
    func otherFiguresHaveTheirName(command: String, oracle: String) throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, command + " as csv")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let got = Set(Self.csv(result.output).dropFirst().map { $0[0] })
        let expected = Set(try engine.store.dbQueue.read { try String.fetchAll($0, sql: oracle) })
        #expect(got == expected, "\(command)")
    }

    /// A sales rep's groups are their own deals only: having filters within the read scope.
    @Test func havingKeepsTheReadScope() throws {
        let engine = try SampleDatabase.engine(user: "bob")
        let result = run(engine, "count deals by stage having count >= 2")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let got = Dictionary(uniqueKeysWithValues: Self.tableRows(result.output))
        let bob = try Self.id(engine, handle: "bob")
        let expected = try engine.store.dbQueue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT stage, count(*) AS n FROM deals WHERE owner_id = ? GROUP BY stage HAVING count(*) >= 2",
                arguments: [bob]
            ).reduce(into: [String: String]()) { $0[$1["stage"] as String] = String($1["n"] as Int) }
        }
        #expect(got == expected)
    }

    /// Hidden values group as empty: a CFO looking for duplicate emails sees no address.
    @Test func havingShowsNoHiddenValue() throws {
        let engine = try SampleDatabase.engine(user: "quinn")
        let result = run(engine, "count contacts by email having count > 1")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(!result.output.contains("@"), "\(result.output)")
    }

    @Test(arguments: [
        ("count contacts by country having cuont > 1", "E202", "did you mean 'count'?"),
        ("count contacts by email having cnt > 1", "E202", "did you mean 'count'?"),
        ("count contacts by country having country > 1", "E202", "filter records with where"),
        ("count contacts by country having sum > 1", "E202", "sum contacts.FIELD"),
        ("count contacts by country having count > \"x\"", "E301", ""),
        ("sum deals.amount by stage having sum > today", "E301", ""),
        ("count contacts by country having count(deals) > 1", "E303", ""),
        ("count contacts having count > 1", "E303", "by FIELD"),
    ])
    func havingErrors(command: String, code: String, help: String) throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, command)
        #expect(result.error?.code.rawValue == code, "\(command): \(result.error?.message ?? "no error")")
        if !help.isEmpty { #expect(result.error?.help?.contains(help) == true, "\(command): \(result.error?.help ?? "")") }
        #expect(result.error?.range != nil)
    }

    /// The form the new admin tried first, `where count > 1`: still E202 under the word, but the
    /// help points to having, not to `country`; a misspelt field keeps its suggestion.
    @Test(arguments: [
        ("count contacts by email where count > 1", 31, "count contacts by email having count > 1"),
        ("sum deals.amount by stage where sum > $100,000", 33, "sum deals.amount by stage having sum > 1"),
        ("avg deals.amount by owner where count > 3", 33, "avg deals.amount by owner having count > 1"),
        ("count contacts where count > 1", 22, "count contacts by FIELD having count > 1"),
        ("count contacts by email where counte > 1", 31, "did you mean 'country'?"),
    ])
    func aFigureInWherePointsToHaving(command: String, column: Int, help: String) throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, command)
        #expect(result.error?.code.rawValue == "E202", "\(command): \(result.error?.message ?? "no error")")
        #expect(result.error?.range?.start.column == column)
        #expect(result.error?.help?.hasSuffix(help) == true, "\(command): \(result.error?.help ?? "")")
    }

    // MARK: - Expressions in a field list (item 9a)

    @Test func expressionsInAFieldListAsCSV() throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, #"find contacts id, coalesce(phone, "none"), upper(last_name) where id <= 40 as csv"#)
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let rows = Self.csv(result.output)
        #expect(rows.first == ["id", #"coalesce(phone, "none")"#, "upper(last_name)"])
        let expected = try engine.store.dbQueue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, coalesce(phone, 'none') AS p, upper(last_name) AS l FROM contacts WHERE id <= 40 ORDER BY id"
            )
            .map { [String($0["id"] as Int64), ($0["p"] as String?) ?? "", ($0["l"] as String?) ?? ""] }
        }
        #expect(Array(rows.dropFirst()) == expected)
        #expect(expected.contains { $0[1] == "none" }, "some sample contact has no phone")
    }

    @Test func moneyExpressionsAreMoney() throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, "find deals id, amount * 2, amount / 3 where id <= 10 as csv")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let rows = Self.csv(result.output)
        #expect(rows.first == ["id", "amount * 2", "amount / 3"])
        let expected = try engine.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, amount FROM deals WHERE id <= 10 ORDER BY id").map { row -> [String] in
                let cents: Int64 = row["amount"]
                // amount / 3 in cents, rounded half-even.
                let third = (Decimal(cents) / 3)
                var rounded = Decimal()
                var value = third
                NSDecimalRound(&rounded, &value, 0, .bankers)
                return [String(row["id"] as Int64), Self.money(cents * 2), Self.money(NSDecimalNumber(decimal: rounded).int64Value)]
            }
        }
        #expect(Array(rows.dropFirst()) == expected)
        let table = run(engine, "find deals name, amount * 2 where id = 1")
        #expect(table.output.split(separator: "\n").first?.contains("amount * 2") == true)
        #expect(table.output.contains("$"))
    }

    @Test func expressionsInJSONAndExport() throws {
        let engine = try SampleDatabase.engine()
        let json = run(engine, "find deals id, amount * 2 where id = 1 as json")
        #expect(json.error == nil)
        #expect(json.output.contains(#""amount * 2""#))
        let folder = try SampleDatabase.temporaryFolder()
        let exported = run(engine, #"export contacts id, lower(email) where id <= 3 to "\#(folder)/c.csv""#)
        #expect(exported.error == nil, "\(exported.error?.message ?? "")")
        let text = try String(contentsOfFile: folder + "/c.csv", encoding: .utf8)
        let rows = Self.csv(text)
        #expect(rows.first == ["id", "lower(email)"])
        let expected = try engine.store.dbQueue.read {
            try String.fetchAll($0, sql: "SELECT lower(email) FROM contacts WHERE id <= 3 ORDER BY id")
        }
        #expect(rows.dropFirst().map { $0[1] } == expected)
    }

    /// An expression over a field the user may not read shows `(hidden)`, not what it makes of empty.
    @Test func expressionsOverHiddenFieldsShowHidden() throws {
        let engine = try SampleDatabase.engine(user: "quinn")
        let result = run(engine, #"find contacts id, coalesce(email, "none"), length(phone) where id <= 3"#)
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let rows = result.output.split(separator: "\n").dropFirst(2).prefix(3)
        #expect(rows.count == 3)
        for row in rows {
            let cells = row.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(cells.dropFirst() == ["(hidden)", "(hidden)"], "\(result.output)")
        }
        #expect(!result.output.contains("@"))
    }

    @Test(arguments: [
        (#"find contacts id, coalesce(phnoe, "x")"#, "E202", "did you mean 'phone'?"),
        (#"find deals name, amount * "x""#, "E301", ""),
        ("find contacts id, lowr(email)", "E209", "did you mean 'lower'?"),
        ("find contacts id, round(1, 2, 3)", "E304", ""),
    ])
    func fieldExpressionErrors(command: String, code: String, help: String) throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, command)
        #expect(result.error?.code.rawValue == code, "\(command): \(result.error?.message ?? "no error")")
        if !help.isEmpty { #expect(result.error?.help == help, "\(command): \(result.error?.help ?? "")") }
        #expect(result.error?.range != nil)
    }

    // MARK: - Related fields in set (item 8)

    /// The script that started it: copy each contact's account name into its company.
    @Test func setCopiesARelatedFieldWithHistoryAndUndo() throws {
        let engine = try SampleDatabase.engine()
        let mismatched = """
            SELECT c.id, c.company, a.name FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id
            WHERE c.company IS NOT a.name ORDER BY c.id
            """
        let before = try engine.store.dbQueue.read { try Row.fetchAll($0, sql: mismatched) }
        #expect(before.count > 0)
        let snapshot = try domainSnapshot(engine.store)
        let command = "update contacts where company != account.name set company = account.name"
        let preview = run(engine, command + " --dry-run")
        #expect(preview.error == nil, "\(preview.error?.message ?? "")")
        #expect(try domainSnapshot(engine.store) == snapshot)
        let real = run(engine, command)
        #expect(real.error == nil, "\(real.error?.message ?? "")")
        // The dry-run said what the run did: the count and every diff line.
        #expect(MetamorphicTests.changeCount(preview.output) == before.count)
        #expect(MetamorphicTests.changeCount(real.output) == before.count)
        #expect(Array(preview.output.split(separator: "\n").dropFirst()) == Array(real.output.split(separator: "\n").dropFirst()))
        #expect(try engine.store.dbQueue.read { try Row.fetchAll($0, sql: mismatched) }.isEmpty)
        // Field history holds the old values, written before the update.
        let history = try engine.store.dbQueue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT record_id, old_value, new_value FROM field_history
                    WHERE change_set_id = (SELECT max(id) FROM change_sets) AND field = 'company' ORDER BY record_id
                    """)
        }
        #expect(history.count == before.count)
        for (row, old) in zip(history, before) {
            #expect(row["record_id"] as Int64 == old["id"] as Int64)
            #expect(row["old_value"] as String? == old["company"] as String?)
            #expect(row["new_value"] as String? == old["name"] as String?)
        }
        let undo = run(engine, "undo --yes")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")")
        #expect(try domainSnapshot(engine.store) == snapshot)
    }

    /// Related fields through two hops and inside expressions, dry-run against the run and undo.
    @Test(arguments: [
        #"update deals where stage = won set name = concat(name, " / ", account.name)"#,
        "update tickets where status != closed set subject = upper(coalesce(contact.last_name, account.name, subject))",
        "update tasks where status = open set title = concat(title, \" for \", account.owner.team.name)",
        "update contacts where account is not empty set title = coalesce(title, account.industry)",
    ])
    func dryRunEqualsTheRunAndUndoRestores(command: String) throws {
        let engine = try SampleDatabase.engine()
        let snapshot = try domainSnapshot(engine.store)
        let preview = run(engine, command + " --dry-run")
        #expect(preview.error == nil, "\(preview.error?.message ?? "")")
        let real = run(engine, command)
        #expect(real.error == nil, "\(real.error?.message ?? "")")
        let count = MetamorphicTests.changeCount(real.output)
        #expect(count != nil && count! > 0, "\(real.output.prefix(200))")
        #expect(MetamorphicTests.changeCount(preview.output) == count)
        #expect(Array(preview.output.split(separator: "\n").dropFirst()) == Array(real.output.split(separator: "\n").dropFirst()))
        let undo = run(engine, "undo --yes")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")")
        #expect(try domainSnapshot(engine.store) == snapshot)
    }

    /// A field the user may not read is refused (E401), not copied as empty.
    @Test func setRefusesAFieldTheUserMayNotRead() throws {
        let admin = try SampleDatabase.engine()
        #expect(run(admin, "deny sales_rep read accounts.industry").error == nil)
        let bob = try Engine(store: admin.store, clock: SampleDatabase.clock, user: "bob")
        let snapshot = try domainSnapshot(admin.store)
        let result = run(bob, "update contacts where owner = me set title = account.industry")
        #expect(result.error?.code.rawValue == "E401", "\(result.error?.message ?? "no error")")
        #expect(result.error?.range?.start.column == 46)
        #expect(try domainSnapshot(admin.store) == snapshot)
    }

    /// A related record outside the user's read scope is refused, naming the record; within it, the copy works.
    @Test func setRefusesARelatedRecordOutsideTheReadScope() throws {
        let admin = try SampleDatabase.engine()
        let bob = try Self.id(admin, handle: "bob")
        let (task, othersDeal, ownDeal) = try admin.store.dbQueue.write { db -> (Int64, Int64, Int64) in
            let task = try Int64.fetchOne(db, sql: "SELECT id FROM tasks WHERE owner_id = ? LIMIT 1", arguments: [bob])!
            try db.execute(sql: "UPDATE tasks SET assignee_id = ? WHERE id = ?", arguments: [bob, task])
            let other = try Int64.fetchOne(db, sql: "SELECT id FROM deals WHERE owner_id != ? LIMIT 1", arguments: [bob])!
            let own = try Int64.fetchOne(db, sql: "SELECT id FROM deals WHERE owner_id = ? LIMIT 1", arguments: [bob])!
            try db.execute(sql: "UPDATE tasks SET deal_id = ? WHERE id = ?", arguments: [other, task])
            return (task, other, own)
        }
        _ = othersDeal
        let engine = try Engine(store: admin.store, clock: SampleDatabase.clock, user: "bob")
        let snapshot = try domainSnapshot(admin.store)
        let refused = run(engine, "update tasks where id = \(task) set title = deal.name")
        #expect(refused.error?.code.rawValue == "E401", "\(refused.error?.message ?? "no error")")
        #expect(refused.error?.message.contains("task \(task)") == true)
        #expect(try domainSnapshot(admin.store) == snapshot)
        try admin.store.dbQueue.write { try $0.execute(sql: "UPDATE tasks SET deal_id = ? WHERE id = ?", arguments: [ownDeal, task]) }
        let allowed = run(engine, "update tasks where id = \(task) set title = deal.name")
        #expect(allowed.error == nil, "\(allowed.error?.message ?? "")")
        let title = try admin.store.dbQueue.read { try String.fetchOne($0, sql: "SELECT title FROM tasks WHERE id = ?", arguments: [task]) }
        let name = try admin.store.dbQueue.read {
            try String.fetchOne($0, sql: "SELECT name FROM deals WHERE id = ?", arguments: [ownDeal])
        }
        #expect(title == name)
    }

    /// An owner read from related records cannot be checked against a team scope first: refused.
    @Test func ownerFromARelatedRecordNeedsTheAllScope() throws {
        let engine = try SampleDatabase.engine(user: "sam")
        let result = run(engine, "update accounts where owner = alice set owner = owner.team.manager")
        #expect(result.error?.code.rawValue == "E401", "\(result.error?.message ?? "no error")")
    }

    @Test(arguments: [
        ("update contacts where id = 1 set company = account.nmae", "E202", "did you mean 'name'?"),
        ("update deals where id = 1 set amount = account.name", "E301", ""),
        ("update contacts where id = 1 set company = acount.name", "E202", "did you mean 'account'?"),
        (#"create contact first_name="A" last_name="B" company=account.name"#, "E304", ""),
    ])
    func setErrors(command: String, code: String, help: String) throws {
        let engine = try SampleDatabase.engine()
        let result = run(engine, command)
        #expect(result.error?.code.rawValue == code, "\(command): \(result.error?.message ?? "no error")")
        if !help.isEmpty { #expect(result.error?.help == help, "\(command): \(result.error?.help ?? "")") }
    }

    // MARK: - A limit that cuts a tie (item 9c)

    @Test func aLimitThatCutsATieSaysSo() throws {
        let engine = try SampleDatabase.engine()
        // Contacts per country, biggest first, as SQL written by hand (ties in country order).
        let counts = try engine.store.dbQueue.read { db in
            try Int.fetchAll(db, sql: "SELECT count(*) FROM contacts GROUP BY country ORDER BY count(*) DESC, country")
        }
        guard let cut = (1..<counts.count).first(where: { counts[$0 - 1] == counts[$0] }) else {
            Issue.record("no tie among the countries' counts: \(counts)")
            return
        }
        let more = counts[cut...].prefix { $0 == counts[cut - 1] }.count
        let result = run(engine, "count contacts by country order by count desc limit \(cut)")
        #expect(result.error == nil)
        #expect(
            result.output.hasSuffix(
                "(\(cut) row\(cut == 1 ? "" : "s"))\n(limit \(cut) cut a tie: \(more) more group\(more == 1 ? " has" : "s have") \(counts[cut - 1]))\n"
            ),
            "\(result.output)")
        // Where the next group has fewer, nothing is said; nor when sorted by the group.
        if let clean = (1..<counts.count).first(where: { counts[$0 - 1] != counts[$0] }) {
            #expect(!run(engine, "count contacts by country limit \(clean)").output.contains("cut a tie"))
        }
        #expect(!run(engine, "count contacts by country order by country limit \(cut)").output.contains("cut a tie"))
        #expect(!run(engine, "count contacts by country limit \(cut) as csv").output.contains("cut a tie"))
        // Bars are for people too: the same note under the chart.
        let bars = run(engine, "count contacts by country order by count desc limit \(cut) as bars")
        #expect(bars.error == nil)
        #expect(bars.output.hasSuffix("(limit \(cut) cut a tie: \(more) more group\(more == 1 ? " has" : "s have") \(counts[cut - 1]))\n"))
    }

    /// The tie is told from the groups having kept: a sum's tie, against SQL written by hand.
    @Test func aTieAmongKeptGroups() throws {
        let engine = try SampleDatabase.engine()
        // Two owners' deals made equal in sum, so the limit can cut between them.
        let owners = try engine.store.dbQueue.write { db -> [Int64] in
            let owners = try Int64.fetchAll(
                db, sql: "SELECT DISTINCT owner_id FROM deals WHERE owner_id IS NOT NULL ORDER BY owner_id LIMIT 3")
            for owner in owners {
                // All of an owner's deals at $0 but one at $50,000: three totals of $50,000.
                try db.execute(sql: "UPDATE deals SET amount = 0 WHERE owner_id = ?", arguments: [owner])
                try db.execute(
                    sql: "UPDATE deals SET amount = 5000000 WHERE id = (SELECT min(id) FROM deals WHERE owner_id = ?)", arguments: [owner])
            }
            return owners
        }
        #expect(owners.count == 3)
        let totals = try engine.store.dbQueue.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT CAST(total(amount) AS INTEGER) FROM deals GROUP BY owner_id HAVING count(*) > 1 ORDER BY 1 DESC")
        }
        let command = "sum deals.amount by owner having count > 1 order by sum desc"
        for limit in 1..<totals.count {
            let tied = totals[limit...].prefix { $0 == totals[limit - 1] }.count
            let output = run(engine, command + " limit \(limit)").output
            if tied == 0 {
                #expect(!output.contains("cut a tie"), "limit \(limit): \(output)")
            } else {
                #expect(output.contains("(limit \(limit) cut a tie: \(tied) more group"), "limit \(limit): \(output)")
            }
        }
        #expect(zip(totals, totals.dropFirst()).contains { $0 == $1 }, "the sample has a tie to cut: \(totals)")
    }
}
