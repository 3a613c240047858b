import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// The script language: `param`, `let`, `assert`, `echo`, `include`, `run`, and a whole script's
/// dry-run, run by the engine's `ScriptRunner` as a script file is.
@Suite("Script language")
struct ScriptLanguageTests {
    struct Ran {
        var output = ""
        var errors: [Diagnostic] = []
        var outcome = ScriptRunner.Outcome()
        var error: Diagnostic? { errors.first }
    }

    /// Writes `files` (name → text) into a new folder and returns it.
    static func folder(_ files: [String: String]) throws -> String {
        let folder = TestFolders.run + "/scripts-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        return folder
    }

    /// Runs the script file `path` as `rolo --db … FILE NAME=VALUE…` does.
    static func runFile(_ engine: Engine, file path: String, _ given: [String: String] = [:], dryRun: Bool = false) -> Ran {
        var ran = Ran()
        let output = StringOutput()
        engine.session.parameters = given.mapValues { .text($0) }
        engine.session.settings.dryRun = dryRun
        defer { engine.session.settings.dryRun = false }
        do {
            let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
            let script = try Script(bytes: bytes, file: path)
            let runner = ScriptRunner(engine: engine) { error in ran.errors.append(error as? Diagnostic ?? Diagnostic(.constraintViolated, "\(error)")) }
            ran.outcome = runner.run(script, mode: .whole(exitCodeForDryRun: false), output: output, errors: StringOutput())
        } catch {
            ran.errors.append(error)
            ran.outcome.failed = true
        }
        ran.output = output.text
        return ran
    }

    /// Six changes over several tables, then an assertion on line 7 that fails because of them.
    static let failingAtLineSeven = """
        update contacts where company = "Acme Inc" set title = "Script title"
        create account name="Scripted Ltd" industry=software
        delete task where id = 3
        assign deals where stage = negotiation and amount < $5,000 to bob
        log call on contact 42 "called from a script"
        grant data_analyst to bob
        assert count contacts where title = "Script title" = 0 "the titles were not expected to change"
        update contact 1 set title = "never reached"
        """

    @Test func aScriptFailingItsAssertAtLineSevenKeepsNothing() throws {
        let engine = try SampleDatabase.engine()
        let folder = try Self.folder(["fix.rolo": Self.failingAtLineSeven])
        let before = try snapshot(engine.store)
        let auditBefore = try auditOutcomes(engine.store).count
        let ran = Self.runFile(engine, file: folder + "/fix.rolo")
        #expect(ran.outcome.failed)
        let error = try #require(ran.error)
        #expect(error.code == .assertionFailed)
        #expect(error.range?.start.line == 7)
        #expect(error.message.contains("the titles were not expected to change"), "\(error.message)")
        // Every table but the audit log, row for row, as it was.
        #expect(try snapshot(engine.store) == before)
        // The audit log lost nothing: the statements that ran, and the failed assertion, are in it.
        #expect(try auditOutcomes(engine.store).count >= auditBefore + 7)
        #expect(try ran.output.contains("updated 52 contacts"))
    }

    /// The oracle above can fail: the same script with an assertion that holds keeps its changes.
    @Test func theSameScriptWithAnAssertionThatHoldsKeepsItsChanges() throws {
        let engine = try SampleDatabase.engine()
        let holding = Self.failingAtLineSeven.replacingOccurrences(of: "= 0 \"the titles", with: "= 52 \"the titles")
        let folder = try Self.folder(["fix.rolo": holding])
        let before = try snapshot(engine.store)
        let ran = Self.runFile(engine, file: folder + "/fix.rolo")
        #expect(!ran.outcome.failed, "\(ran.errors)")
        #expect(try snapshot(engine.store) != before)
        let titles = try engine.store.dbQueue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts WHERE title = 'never reached' OR title = 'Script title'")
        }
        #expect(titles == 52)  // contact 1 is one of the 52: its title went on to "never reached"
    }

    @Test func parametersAreCheckedBeforeAnythingRuns() throws {
        let engine = try SampleDatabase.engine()
        let folder = try Self.folder([
            "p.rolo": """
            update contact 1 set title = "written"
            param old "the old name"
            param most = 5
            update contacts where company = $old set title = "x"
            """
        ])
        let changes = try totalChanges(engine.store)
        let missing = Self.runFile(engine, file: folder + "/p.rolo")
        #expect(missing.error?.code == .missingParameter)
        #expect(missing.error?.message.contains("'old'") == true, "\(String(describing: missing.error))")
        #expect(missing.error?.range?.start.line == 2)
        let unknown = Self.runFile(engine, file: folder + "/p.rolo", ["old": "Acme Inc", "mots": "3"])
        #expect(unknown.error?.code == .unknownParameter)
        #expect(unknown.error?.help?.contains("most") == true)
        // Not a row was written, not even one rolled back afterwards.
        #expect(try totalChanges(engine.store) == changes)
        let given = Self.runFile(engine, file: folder + "/p.rolo", ["old": "Acme Inc"])
        #expect(!given.outcome.failed, "\(given.errors)")
        #expect(engine.session.parameters["most"] == .text("5"))
    }

    /// A value given for a parameter is bound, never made part of the SQL text.
    @Test func parameterValuesAreBoundNeverSpliced() throws {
        let engine = try SampleDatabase.engine()
        let folder = try Self.folder([
            "q.rolo": """
            param old
            update contacts where company = $old set title = "hit"
            let n = count contacts where company = $old
            assert $n = 0
            """
        ])
        for hostile in ["x' OR '1'='1", "x\" OR 1=1 --", "'); DROP TABLE contacts; --", "Acme Inc' --"] {
            let ran = Self.runFile(engine, file: folder + "/q.rolo", ["old": hostile])
            #expect(!ran.outcome.failed, "\(hostile): \(ran.errors)")
            #expect(ran.output.contains("no contacts matched"), "\(hostile): \(ran.output)")
        }
        let hits = try engine.store.dbQueue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts WHERE title = 'hit'") }
        #expect(hits == 0)
        #expect(try engine.store.dbQueue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts") } == 3000)
    }

    @Test func includeLoopsAndMissingFilesAreFoundBeforeAnythingRuns() throws {
        let engine = try SampleDatabase.engine()
        let folder = try Self.folder([
            "a.rolo": "update contact 1 set title = \"a\"\ninclude \"sub/b.rolo\"\n",
            "c.rolo": "update contact 1 set title = \"c\"\ninclude \"nowhere.rolo\"\n",
        ])
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        // Relative to the including file's folder: sub/b.rolo names ../a.rolo.
        try "include \"../a.rolo\"\n".write(toFile: folder + "/sub/b.rolo", atomically: true, encoding: .utf8)
        let changes = try totalChanges(engine.store)
        let loop = Self.runFile(engine, file: folder + "/a.rolo")
        #expect(loop.error?.code == .includeLoop)
        #expect(loop.error?.origin?.file.hasSuffix("sub/b.rolo") == true, "\(String(describing: loop.error))")
        #expect(loop.error?.message == "include loop: a.rolo includes b.rolo includes a.rolo")
        let missing = Self.runFile(engine, file: folder + "/c.rolo")
        #expect(missing.error?.code == .fileNotFound)
        #expect(missing.error?.range?.start.line == 2)
        #expect(try totalChanges(engine.store) == changes)
    }

    @Test func anErrorInAnIncludedFilePointsIntoThatFileAndRollsBackAll() throws {
        let engine = try SampleDatabase.engine()
        let folder = try Self.folder([
            "outer.rolo": "update contact 1 set title = \"outer\"\ninclude \"inner.rolo\"\ncount contacts\n",
            "inner.rolo": "count deals\n\nfind contacts where emial = \"x\"\n",
        ])
        let before = try snapshot(engine.store)
        let ran = Self.runFile(engine, file: folder + "/outer.rolo")
        let error = try #require(ran.error)
        #expect(error.code == .unknownField)
        #expect(error.origin?.file == folder + "/inner.rolo")
        #expect(error.range?.start.line == 3 && error.range?.start.column == 21)
        #expect(try snapshot(engine.store) == before)
        // Drawn there: the caret line is the included file's line 3.
        let text = DiagnosticRenderer().render(error, source: "unrelated text", file: "outer.rolo")
        #expect(text.contains("inner.rolo:3:21") && text.contains("find contacts where emial"), "\(text)")
    }

    /// A whole script's dry-run says one line per change with the records it would touch; the
    /// real run touches the same numbers (metamorphic: preview = run), and the dry-run kept nothing.
    @Test func aWholeScriptDryRunSaysWhatTheRealRunDoes() throws {
        let engine = try SampleDatabase.engine()
        let folder = try Self.folder([
            "three.rolo": """
            update contacts where company = "Acme Inc" set title = "T"
            update contacts where title = "T" and city = "Berlin" set city = "Potsdam"
            delete tasks where status = done and due_date < 2025-01-01
            """
        ])
        let before = try snapshot(engine.store)
        let preview = Self.runFile(engine, file: folder + "/three.rolo", dryRun: true)
        #expect(!preview.outcome.failed, "\(preview.errors)")
        #expect(try snapshot(engine.store) == before)
        let lines = preview.output.split(separator: "\n").map(String.init)
        let summaries = lines.filter { $0.contains("three.rolo:") }
        #expect(summaries.count == 3, "\(preview.output)")
        func number(_ line: String, after marker: String) -> Int? {
            guard let range = line.range(of: marker) else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        let previewed = summaries.compactMap { number($0, after: ": ") }
        let real = Self.runFile(engine, file: folder + "/three.rolo")
        #expect(!real.outcome.failed, "\(real.errors)")
        let done = real.output.split(separator: "\n").compactMap { line -> Int? in
            for verb in ["updated ", "deleted "] where line.hasPrefix(verb) { return number(String(line), after: verb) }
            return nil
        }
        #expect(previewed.count == 3 && previewed == done, "preview \(previewed), run \(done)")
        #expect(lines.last?.hasPrefix("dry-run: 3 changes touching \(previewed.reduce(0, +)) records") == true, "\(preview.output)")
    }

    @Test func echoShowsValuesAndLeavesOtherDollarsAlone() throws {
        let engine = try SampleDatabase.engine()
        engine.session.parameters = ["who": .text("Ana"), "n": .typed(7.databaseValue, .integer), "amount": .typed(123_456.databaseValue, .money)]
        let out = run(engine, #"echo "${who}: $n records, $amount, costs $5,000 or $$5; $who_x""#)
        #expect(out.error?.code == .unknownParameter, "\(out)")
        let good = run(engine, #"echo "${who}: $n records, $amount, costs $5,000 or $$5""#)
        #expect(good.error == nil)
        #expect(good.output == "Ana: 7 records, $1,234.56, costs $5,000 or $5\n")
    }

    @Test func letKeepsTypedValuesThatLaterStatementsCompare() throws {
        let engine = try SampleDatabase.engine()
        let expected = try engine.store.dbQueue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts WHERE account_id = (SELECT account_id FROM contacts WHERE id = 5)")
        }
        _ = run(engine, "let a = find contacts account where id = 5 limit 1")
        #expect(run(engine, "count contacts where account = $a").output == "\(expected ?? -1)\n")
        _ = run(engine, "let last = max deals.close_date")
        let later = run(engine, "count deals where close_date > $last")
        #expect(later.output == "0\n", "\(later)")
        let none = run(engine, "let nobody = find contacts where email = \"no-one@nowhere.example\" limit 1")
        #expect(none.output == "$nobody = (none)\n")
        // An assertion on an empty value cannot be told: it fails.
        #expect(run(engine, "assert $nobody > 0").error?.code == .assertionFailed)
    }
}

@Suite("Saved scripts")
struct SavedScriptTests {
    @Test func savingWithoutTheRightWritesNothing() throws {
        let folder = try ScriptLanguageTests.folder(["t.rolo": "count contacts\n"])
        let engine = try SampleDatabase.engine()
        _ = run(engine, "login alice")
        let before = try snapshot(engine.store)
        let refused = run(engine, "save script t from \"\(folder)/t.rolo\"")
        #expect(refused.error?.code == .permissionDenied, "\(refused)")
        // Only the refusal's audit entry is written.
        #expect(try snapshot(engine.store) == before)
        let rows = try engine.store.dbQueue.read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM saved_scripts) + (SELECT count(*) FROM script_versions) + (SELECT count(*) FROM script_events)")
        }
        #expect(rows == 0)
    }

    /// Every save keeps its version, byte for byte; the newest is what runs.
    @Test func everyVersionIsKeptAndTheNewestRuns() throws {
        let texts = (1...3).map { "# version \($0)\nupdate contact 7 set title = \"v\($0)\"\n" }
        let folder = try ScriptLanguageTests.folder(Dictionary(uniqueKeysWithValues: texts.enumerated().map { ("v\($0.offset + 1).rolo", $0.element) }))
        let engine = try SampleDatabase.engine()
        for n in 1...3 { #expect(run(engine, "save script fix from \"\(folder)/v\(n).rolo\"").error == nil) }
        let stored = try engine.store.dbQueue.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM script_versions ORDER BY version")
        }
        #expect(stored == texts)
        #expect(run(engine, "run script fix").error == nil)
        let title = try engine.store.dbQueue.read { db in try String.fetchOne(db, sql: "SELECT title FROM contacts WHERE id = 7") }
        #expect(title == "v3")
        let label = try engine.store.dbQueue.read { db in
            try String.fetchOne(db, sql: "SELECT command FROM change_sets ORDER BY id DESC LIMIT 1")
        }
        #expect(label == "script fix version 3")
    }

    /// What `diff script` prints turns the old version into the new one (metamorphic: apply the
    /// diff's `-` and `+` lines to the old text, with no line elided, and get the new text).
    @Test func aDiffTurnsTheOldVersionIntoTheNew() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let pool = ["a", "b", "c", "d", "e", ""]
            let old = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pool.randomElement(using: &generator)! }
            let new = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pool.randomElement(using: &generator)! }
            let lines = LineDiffProbe.lines(old.joined(separator: "\n"), new.joined(separator: "\n"))
            let rebuiltOld = lines.filter { !$0.hasPrefix("+") }.map { String($0.dropFirst(2)) }
            let rebuiltNew = lines.filter { !$0.hasPrefix("-") }.map { String($0.dropFirst(2)) }
            #expect(rebuiltOld == old.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
            #expect(rebuiltNew == new.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        }
    }

    @Test func aScriptThatRunsItselfIsRefusedAndKeepsNothing() throws {
        let folder = try ScriptLanguageTests.folder([
            "self.rolo": "update contact 9 set title = \"again\"\nrun self.rolo\n",
            "saved.rolo": "update contact 9 set title = \"saved\"\nrun script again\n",
        ])
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let file = ScriptLanguageTests.runFile(engine, file: folder + "/self.rolo")
        #expect(file.error?.code == .includeLoop, "\(file.errors)")
        #expect(try snapshot(engine.store) == before)
        #expect(run(engine, "save script again from \"\(folder)/saved.rolo\"").error == nil)
        let saved = try snapshot(engine.store)
        let ran = ScriptLanguageTests.runFile(engine, file: folder + "/saved.rolo")
        #expect(ran.error?.code == .includeLoop, "\(ran.errors)")
        #expect(try snapshot(engine.store) == saved)
    }
}

/// The diff `diff script` prints, without eliding unchanged lines.
enum LineDiffProbe {
    static func lines(_ old: String, _ new: String) -> [String] {
        let engineLines = RoloEngine.scriptDiffLines(from: old, to: new)
        return engineLines
    }
}
