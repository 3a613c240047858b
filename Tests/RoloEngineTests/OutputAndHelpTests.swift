import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Issue 20's output, wording and help items: anchors and files typed as printed, help wrapped at
/// words, empty groups named, record numbers never cut, the import summary by kind of problem.
@Suite("Output, wording and help")
struct OutputAndHelpTests {
    /// `audit anchor` prints `verify audit --anchor N:…`; typed so, unquoted, it works, and so
    /// does a file name with a dot.
    @Test func anAnchorWorksAsPrinted() throws {
        let engine = try SampleDatabase.engine()
        _ = run(engine, "count contacts")
        let printed = run(engine, "audit anchor")
        #expect(printed.error == nil)
        let anchor = String(printed.output.split(separator: "\n")[0])
        #expect(printed.output.contains("`verify audit --anchor \(anchor.split(separator: ":")[0]):…`"))
        let typed = run(engine, "verify audit --anchor \(anchor)")
        #expect(typed.error == nil)
        #expect(typed.output.contains("holds the anchor"))
        let folder = try SampleDatabase.temporaryFolder()
        try (anchor + "\n").write(toFile: folder + "/anc.txt", atomically: true, encoding: .utf8)
        let fromFile = run(engine, "verify audit --anchor \(folder)/anc.txt")
        #expect(fromFile.error == nil)
        #expect(fromFile.output.contains("holds the anchor"))
    }

    /// A wrong anchor, or none, is an error pointing at it.
    @Test func aBadAnchorIsAnErrorWithACaret() throws {
        let engine = try SampleDatabase.engine()
        let wrong = run(engine, "verify audit --anchor 5:zz.q")
        #expect(wrong.error?.code == .invalidValue)
        #expect(wrong.error?.range?.start.column == 23)
        let missing = run(engine, "verify audit --anchor")
        #expect(missing.error?.code == .unexpectedEnd)
        #expect(missing.error?.message.contains("an anchor after --anchor") == true)
    }

    // MARK: - help

    /// On a terminal, `help` wraps at words to its width, continuing under the summaries' column;
    /// no word is split.
    @Test func helpWrapsAtWords() throws {
        let engine = try SampleDatabase.engine()
        for command in ["help", "help verify", "help import"] {
            let output = StringOutput(isTerminal: true, width: 60)
            _ = try engine.run(command, output: output)
            let lines = output.text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count > 3)
            for line in lines {
                #expect(DisplayWidth.of(String(line)) <= 60, "\(command): \(line)")
            }
            // Every word of the unwrapped help is in the wrapped one, whole.
            let piped = StringOutput()
            _ = try engine.run(command, output: piped)
            #expect(piped.text.split(whereSeparator: \.isWhitespace) == output.text.split(whereSeparator: \.isWhitespace))
        }
        let output = StringOutput(isTerminal: true, width: 80)
        _ = try engine.run("help", output: output)
        // A wrapped summary goes on under its own column (on a wide enough terminal).
        let lines = output.text.split(separator: "\n").map(String.init)
        let first = try #require(lines.firstIndex { $0.hasPrefix("  verify") })
        let column = try #require(lines[first].range(of: "Check the audit")).lowerBound.utf16Offset(in: lines[first])
        #expect(lines[first + 1].prefix(column).allSatisfy { $0 == " " })
        #expect(lines[first + 1].dropFirst(column).first != " ")
    }

    // MARK: - groups

    /// The group of records with no value is `(none)` in a table (and in bars), empty in CSV.
    @Test func anEmptyGroupIsNamedNone() throws {
        let engine = try SampleDatabase.engine()
        let none: Int? = try engine.store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM leads WHERE campaign_id IS NULL") }
        #expect((none ?? 0) > 0)
        let table = run(engine, "count leads by campaign")
        #expect(table.error == nil)
        #expect(table.output.split(separator: "\n").contains { $0.hasPrefix(" (none) ") && $0.hasSuffix(" \(none!)") })
        #expect(!table.output.split(separator: "\n").contains { $0.hasPrefix("  ") || $0.hasPrefix(" │") })
        let csv = run(engine, "count leads by campaign as csv")
        #expect(csv.output.contains("\n,\(none!)\n"))
        let two = run(engine, "count leads by campaign, source where campaign is empty")
        #expect(two.output.contains(" (none) "))
    }

    // MARK: - record numbers

    /// Record numbers are never cut: a table's column of numbers is as wide as its table's largest
    /// number when the first 1,000 rows hold only shorter ones (it printed `119…`).
    @Test func recordNumbersAfterTheFirstThousandRowsAreWhole() throws {
        let store = try CRMStore.inMemory()
        try SampleCompany.generate(into: store, options: SampleCompany.Options(contacts: 12_000))
        let engine = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        let result = run(engine, "find contacts id, first_name where id >= 9000 and id < 10000 or id > 11995 order by id")
        #expect(result.error == nil)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 1000 + 5 + 3)
        #expect(!result.output.contains("…"))
        #expect(lines[2].hasPrefix("  9000 │"), "\(lines[2])")
        #expect(lines[lines.count - 2].hasPrefix(" 12000 │"), "\(lines[lines.count - 2])")
        // A shorter result is measured whole, as before: no room kept for numbers it does not show.
        let short = run(engine, "find contacts id, first_name where id < 10 order by id")
        #expect(short.output.split(separator: "\n")[2].hasPrefix("  1 │"))
    }

    /// On a narrow terminal, text columns give way and record numbers keep their width.
    @Test func recordNumbersAreNotCutToFitTheTerminal() throws {
        let engine = try SampleDatabase.engine()
        let output = StringOutput(isTerminal: true, width: 14)
        _ = try engine.run("find contacts id, email, title where id > 2990 order by id", output: output)
        #expect(output.text.contains(" 3000 │"), "\(output.text)")
        #expect(TableWriter.fit([4, 30, 30], numeric: [true, false, false], into: 14, fixed: [true, false, false]) == [4, 3, 3])
    }

    // MARK: - import summary

    static func write(_ text: String, name: String = "in.csv") throws -> String {
        let path = try SampleDatabase.temporaryFolder() + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Rows repeating an earlier row's key are one kind of problem, however many earlier rows they
    /// repeat; the examples name both rows. The dry-run says what a run would do.
    @Test func theImportSummaryGroupsRepeatsByKind() throws {
        let engine = try SampleDatabase.engine()
        var lines = ["first_name,last_name,email"]
        for i in 0..<5 { lines.append("A\(i),B\(i),person\(i)@new.example") }  // rows 2-6
        for i in 0..<12 { lines.append("C\(i),D\(i),person\(i % 3)@new.example") }  // rows 7-18 repeat rows 2-4
        for i in 0..<7 { lines.append("E\(i),F\(i),not-an-email-\(i)") }  // rows 19-25
        let path = try Self.write(lines.joined(separator: "\n") + "\n")
        let before = try snapshot(engine.store)
        let result = run(engine, "import contacts from \"\(path)\" key email --dry-run")
        #expect(result.error?.code == .duplicateRow)
        let summary = result.output.split(separator: "\n").map(String.init)
        #expect(
            summary.first
                == "dry-run: 19 rows have problems; a run would import nothing (use --skip-bad FILE to import the 5 good rows)")
        #expect(summary.contains(#"  12× column "email": repeats an earlier row's email (e.g. rows 7/2 "person0@new.example", 8/3 "person1@new.example", 9/4 "person2@new.example")"#))
        #expect(summary.contains { $0.hasPrefix("  7× column \"email\": is not an email address (e.g. row 19 ") })
        let twelve = try #require(summary.firstIndex { $0.hasPrefix("  12×") })
        let seven = try #require(summary.firstIndex { $0.hasPrefix("  7×") })
        #expect(twelve < seven)
        #expect(!(result.error?.message.contains("nothing was imported") ?? true))
        #expect(result.error?.message.hasPrefix("\(path):7: ") == true)
        #expect(try snapshot(engine.store) == before)
        // With --skip-bad the good rows go in, and the summary is the same.
        let rejects = try SampleDatabase.temporaryFolder() + "/rejects.csv"
        let real = run(engine, "import contacts from \"\(path)\" key email --skip-bad \(rejects)")
        #expect(real.error == nil)
        #expect(real.output.contains("repeats an earlier row's email (e.g. rows 7/2"))
        // The rejects file still names the earlier row.
        let file = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(file.contains("repeats row 2's email"))
    }

    /// Reasons that name something of the cell (its length, the nearest enum value) are counted
    /// under one kind each; the rejects file keeps each row's own reason.
    @Test func cellProblemsAreCountedByKind() throws {
        let engine = try SampleDatabase.engine()
        let long1 = String(repeating: "x", count: 2_001), long2 = String(repeating: "y", count: 2_010)
        let rows = ["name,industry", "Alpha Co,retial", "Beta Co,finanse", "Gamma Co,xyzzy", "\(long1),retail", "\(long2),media", "Delta Co,energy"]
        let path = try Self.write(rows.joined(separator: "\n") + "\n", name: "accounts.csv")
        let rejects = try SampleDatabase.temporaryFolder() + "/rejects.csv"
        let result = run(engine, "import accounts from \"\(path)\" --skip-bad \(rejects)")
        #expect(result.error == nil, "\(String(describing: result.error))")
        let lines = result.output.split(separator: "\n").map(String.init)
        let industries = "software, manufacturing, retail, healthcare, finance, education, logistics, energy, media, hospitality, construction, agriculture"
        let enumLine = try #require(lines.firstIndex { $0.hasPrefix("  3× column \"industry\": is not one of \(industries) (e.g. row 2 \"retial\", row 3 ") })
        let lengthLine = try #require(lines.firstIndex { $0.hasPrefix("  2× column \"name\": is longer than 2000 characters (e.g. row 5 ") })
        #expect(enumLine < lengthLine)
        #expect(!lines[enumLine].contains("perhaps"))
        let file = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(file.contains("perhaps retail"))
        #expect(file.contains("is 2001 characters; it takes at most 2000"))
        #expect(file.contains("is 2010 characters; it takes at most 2000"))
    }

    // MARK: - wording

    /// A merge's dry-run says what would happen; both name the fields where the two records
    /// differ, what is kept and what is dropped.
    @Test func aMergeSaysWhatItKeepsAndDrops() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, #"update contact 12 set city = "Tokyo""#).error == nil)
        #expect(run(engine, #"update contact 17 set city = "Seattle""#).error == nil)
        let before = try snapshot(engine.store)
        let dry = run(engine, "merge contact 17 into 12 --dry-run")
        #expect(dry.error == nil)
        #expect(dry.output.contains("contact 17 would be merged into contact 12 and removed"))
        #expect(!dry.output.contains("was merged"))
        #expect(dry.output.contains("where both have a value, contact 12 keeps its own:"))
        #expect(dry.output.contains(#"  city: "Tokyo" would be kept, "Seattle" would be dropped"#))
        #expect(try snapshot(engine.store) == before)
        let real = run(engine, "merge contact 17 into 12")
        #expect(real.error == nil)
        #expect(real.output.contains("contact 17 was merged into contact 12 and removed"))
        #expect(real.output.contains(#"  city: "Tokyo" kept, "Seattle" dropped"#))
    }

    /// A merge names a related record by its title, and leaves out fields the merging user may not
    /// read (their values are not shown anywhere else either).
    @Test func aMergeNamesRelatedRecordsAndHidesWhatItMayNot() throws {
        let admin = try SampleDatabase.engine()
        let names: [String] = try admin.store.dbQueue.read {
            try String.fetchAll($0, sql: "SELECT name FROM accounts WHERE id IN (3, 4) ORDER BY id")
        }
        #expect(run(admin, #"update contact 12 set account = "\#(names[0])", phone = "+1 555 000 0012""#).error == nil)
        #expect(run(admin, #"update contact 17 set account = "\#(names[1])", phone = "+1 555 000 0017""#).error == nil)
        let shown = run(admin, "merge contact 17 into 12 --dry-run")
        #expect(shown.output.contains("  account: \"\(names[0])\" would be kept, \"\(names[1])\" would be dropped"), "\(shown.output)")
        #expect(shown.output.contains("  phone: \"+1 555 000 0012\" would be kept"))
        for command in [
            "create role merger like sales_manager", "allow merger merge contacts scope all", "allow merger read contacts scope all",
            "deny merger read contacts.phone", #"create user mia name="Mia Moe" team=analytics"#, "grant merger to mia",
        ] {
            #expect(run(admin, command).error == nil, "\(command)")
        }
        let mia = try Engine(store: admin.store, clock: SampleDatabase.clock, user: "mia")
        let merged = run(mia, "merge contact 17 into 12 --dry-run")
        #expect(merged.error == nil, "\(String(describing: merged.error))")
        #expect(merged.output.contains("  account: \"\(names[0])\" would be kept"))
        #expect(!merged.output.contains("phone:"))
        #expect(!merged.output.contains("+1 555 000 0017"))
    }

    /// `can` for one record suggests a rule whose scope reaches that record.
    @Test func canSuggestsARuleThatCoversTheRecord() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, #"create user dana name="Dana Lee" team=analytics"#).error == nil)
        let owner: Int64? = try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT owner_id FROM contacts WHERE id = 42") }
        let dana: Int64? = try engine.store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT id FROM users WHERE handle = 'dana'") }
        #expect(owner != dana)
        let answer = run(engine, "can dana update contact 42")
        #expect(answer.error == nil)
        #expect(answer.output.contains("missing rule: allow update contacts scope all"))
        let nearest = try #require(answer.output.split(separator: "\n").first { $0.contains("nearest rule that would") })
        #expect(nearest.contains("scope all"), "\(nearest)")
        // Without a record, the narrowest rule is still the suggestion.
        let any = run(engine, "can dana update contacts")
        #expect(any.output.contains("missing rule: allow update contacts\n"))
    }

    /// A sales rep refused `as` or `login` is told to ask an admin, not to start rolo as one.
    @Test func aRefusedRepIsToldToAskAnAdmin() throws {
        let bob = try SampleDatabase.engine(user: "bob")
        for command in ["as admin count deals", "login admin"] {
            let refused = run(bob, command)
            #expect(refused.error?.code == .escalation)
            #expect(refused.error?.help?.contains("ask an admin") == true, "\(command)")
            #expect(refused.error?.help?.contains("--user") == false, "\(command)")
        }
    }
}
