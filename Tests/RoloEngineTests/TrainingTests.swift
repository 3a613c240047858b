import Foundation
import GRDB
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Recording, playing and lessons (issue 21.4), through the interactive shell's own loop with a
/// person scripted line by line. Oracles are raw SQL on the database files, the files' own text
/// read here, and answers written out by hand.
@Suite("Training: record, play, lessons")
struct TrainingTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let lessons = packageRoot.appendingPathComponent("lessons").path

    /// A person at the shell: the shell's prompt and a lesson's get the next of `commands` (then
    /// Ctrl-D); play's step question gets the next of `keys` (then Enter).
    final class Person: LineReader {
        var commands: [String]
        var keys: [String]
        var prompts: [String] = []

        init(_ commands: [String], keys: [String] = []) {
            self.commands = commands
            self.keys = keys
        }

        func readLine(prompt: String) -> LineInput {
            prompts.append(prompt)
            if prompt.hasPrefix("Enter runs it") { return .line(keys.isEmpty ? "" : keys.removeFirst()) }
            guard !commands.isEmpty else { return .endOfInput }
            return .line(commands.removeFirst())
        }

        func addHistory(_ line: String) {}
    }

    /// A session on a fresh sample company: the engine, where output and errors go, and the
    /// folders for files and lesson progress.
    struct Session {
        let path: String
        let engine: Engine
        let output = StringOutput()
        let errors = StringOutput()
        let folder: String

        init(user: String = "admin") throws {
            path = try SampleDatabase.freshCopy()
            engine = try Engine(store: try CRMStore.open(path: path), clock: SampleDatabase.clock, user: user)
            engine.session.settings.confirmThreshold = Int.max
            engine.session.training.sleep = { _ in }
            engine.session.training.lessonsFolder = TrainingTests.lessons
            folder = try SampleDatabase.temporaryFolder()
            engine.session.training.progressFolder = folder + "/progress"
        }

        /// Types `commands` at the interactive shell (answering play's questions with `keys`).
        @discardableResult
        func type(_ commands: [String], keys: [String] = []) -> Person {
            let person = Person(commands, keys: keys)
            Shell(engine: engine, output: output, errors: errors).runInteractive(reader: person)
            return person
        }

        /// The progress files written.
        var progressFiles: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/progress")) ?? []).filter { $0.hasSuffix(".progress") }
        }
    }

    /// Every table but the audit log, row by row, read with plain SQL on a connection of its own.
    static func state(_ path: String) throws -> String {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            var text = ""
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'audit_log' ORDER BY name")
            for table in tables {
                text += "== \(table)\n"
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY rowid") { text += row.description + "\n" }
            }
            return text
        }
    }

    static func count(_ path: String, _ sql: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    // MARK: - Recording and playing

    /// A session recorded at the prompt and played back on a fresh copy with --auto 0 leaves the
    /// same database; the recording holds the commands that succeeded and the comments typed.
    @Test func aRecordedSessionPlayedBackLeavesTheSameDatabase() throws {
        let recorded = try Session()
        let file = recorded.folder + "/session.rolo"
        let typed = [
            "record \"\(file)\"",
            "# Acme's contacts get one name",
            #"update contacts where company = "Acme Inc" set company = "Acme, Inc.""#,
            #"update contacts where emial = "x" set title = "y""#,
            #"create contact first_name="Zed" last_name="Zulu" email="zed@example.com""#,
            "fnd deals",
            "# a deal closes",
            "update deal 3 set stage = won",
            "delete task 5",
            "grant data_analyst to bob",
            "begin",
            #"update contact 42 set title = "Head of Data""#,
            "commit",
            "stop",
            "count contacts",
        ]
        recorded.type(typed)
        #expect(recorded.errors.text.contains("error[E202]") && recorded.errors.text.contains("error[E108]"))
        let expected = """
            # Acme's contacts get one name
            update contacts where company = "Acme Inc" set company = "Acme, Inc."
            create contact first_name="Zed" last_name="Zulu" email="zed@example.com"
            # a deal closes
            update deal 3 set stage = won
            delete task 5
            grant data_analyst to bob
            begin
            update contact 42 set title = "Head of Data"
            commit

            """
        #expect(try String(contentsOfFile: file, encoding: .utf8) == expected)

        let fresh = try SampleDatabase.freshCopy()
        let before = try Self.state(fresh)
        let after = try Self.state(recorded.path)
        #expect(before != after)

        let played = try Session()
        let shell = Shell(engine: played.engine, output: played.output, errors: played.errors)
        let status = shell.runSource("play \"\(file)\" --auto 0", file: nil)
        #expect(status == .success, "\(played.errors.text)")
        #expect(played.errors.text.isEmpty)
        #expect(try Self.state(played.path) == after)
        #expect(try Self.count(played.path, "SELECT count(*) FROM contacts WHERE company = 'Acme Inc'") == 0)
        #expect(try Self.count(played.path, "SELECT count(*) FROM contacts WHERE id = 42 AND title = 'Head of Data'") == 1)
        // Each step was audited as the same command typed would be.
        #expect(try Self.count(played.path, "SELECT count(*) FROM audit_log WHERE command = 'update deal 3 set stage = won'") == 1)
    }

    /// Leaving the shell while recording writes the recording.
    @Test func leavingTheShellWritesTheRecording() throws {
        let session = try Session()
        let file = session.folder + "/left.rolo"
        session.type(["record \"\(file)\"", "# just counting", "count deals"])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "# just counting\ncount deals\n")
    }

    /// `record` while recording (E518), `stop` with nothing recording (E519), and `record` outside
    /// the interactive shell, are refused.
    @Test func recordAndStopOutOfTurnAreRefused() throws {
        let session = try Session()
        let file = session.folder + "/one.rolo"
        session.type(["stop", "record \"\(file)\"", "record \"\(session.folder)/two.rolo\"", "stop"])
        #expect(session.errors.text.contains("error[E519]"))
        #expect(session.errors.text.contains("error[E518]"))
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(!FileManager.default.fileExists(atPath: session.folder + "/two.rolo"))

        let script = try Session()
        let status = Shell(engine: script.engine, output: script.output, errors: script.errors)
            .runSource("record \"\(script.folder)/x.rolo\"", file: nil)
        #expect(status == .usage)
        #expect(script.errors.text.contains("error[E701]"))
    }

    /// At play's question, Enter runs the step, s skips it, b goes back one step, q stops.
    @Test func playAnswersEnterSkipBackAndStop() throws {
        let session = try Session()
        let file = session.folder + "/steps.rolo"
        try """
            # one
            count contacts where company = "Acme Inc"
            # two
            update contacts where company = "Acme Inc" set company = "Acme, Inc."
            # three
            count deals
            """.write(toFile: file, atomically: true, encoding: .utf8)
        // 1: s (skipped), 2: b (back to 1), 1: Enter (runs), 2: s, 3: b, 2: q.
        session.type(["play \"\(file)\""], keys: ["s", "b", "", "s", "b", "q"])
        let headers = session.output.text.split(separator: "\n").filter { $0.hasPrefix("── step") }
        #expect(
            headers == [
                "── step 1 of 3 ──", "── step 2 of 3 ──", "── step 1 of 3 ──", "── step 2 of 3 ──", "── step 3 of 3 ──",
                "── step 2 of 3 ──",
            ])
        // The count ran once (after Enter), the update and the last count never did.
        #expect(session.output.text.components(separatedBy: "\n52\n").count == 2)
        #expect(!session.output.text.contains("\n800\n"))
        #expect(try Self.count(session.path, "SELECT count(*) FROM contacts WHERE company = 'Acme Inc'") == 52)
        #expect(session.output.text.contains("stopped at step 2 of 3"))
    }

    /// `play FILE` of a missing file: one line (E602), status 2, and nothing written.
    @Test func playOfAMissingFileIsOneLineAndWritesNothing() throws {
        let session = try Session()
        let before = try Self.state(session.path)
        let audit = try Self.count(session.path, "SELECT count(*) FROM audit_log")
        let shell = Shell(engine: session.engine, output: session.output, errors: session.errors)
        let status = shell.runSource("play \"\(session.folder)/no-such.rolo\" --auto 0", file: nil)
        #expect(status == .usage)
        #expect(session.errors.text == "rolo: error[E602]: no such file to play: \(session.folder)/no-such.rolo\n")
        #expect(session.output.text.isEmpty)
        session.engine.finish()
        #expect(try Self.state(session.path) == before)
        #expect(try Self.count(session.path, "SELECT count(*) FROM audit_log") == audit)
        #expect(!FileManager.default.fileExists(atPath: session.folder + "/no-such.rolo"))
    }

    /// Without --auto, play needs somebody to answer: a script, -c or piped input is refused.
    @Test func playWithoutAutoNeedsATerminal() throws {
        let session = try Session()
        let file = session.folder + "/one.rolo"
        try "count deals\n".write(toFile: file, atomically: true, encoding: .utf8)
        let status = Shell(engine: session.engine, output: session.output, errors: session.errors).runSource("play \"\(file)\"", file: nil)
        #expect(status == .usage)
        #expect(session.errors.text.contains("error[E701]"))
        #expect(session.output.text.isEmpty)
    }

    /// --typing types each command out a character at a time; --auto waits its seconds between steps.
    @Test func typingWaitsOncePerCharacterAndAutoBetweenSteps() throws {
        let session = try Session()
        let file = session.folder + "/typed.rolo"
        let commands = ["count deals", #"find contacts first_name where id = 42"#]
        try commands.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        var waits: [Double] = []
        session.engine.session.training.sleep = { waits.append($0) }
        session.engine.session.training.typingDelay = 0.01
        let status = Shell(engine: session.engine, output: session.output, errors: session.errors)
            .runSource("play \"\(file)\" --auto 1.5 --typing", file: nil)
        #expect(status == .success)
        let characters = commands.map(\.count).reduce(0, +)
        #expect(waits.filter { $0 == 0.01 }.count == characters)
        #expect(waits.filter { $0 == 1.5 }.count == 1)
        #expect(waits.count == characters + 1)
        #expect(session.output.text.contains("> count deals\n800\n"))
    }

    /// `--auto` takes a number: missing, it is unfinished input; a word is refused.
    @Test func autoTakesSeconds() throws {
        let statement = try Parser.parseStatement("play demo.rolo --auto 2.5 --typing")
        #expect(statement.option("auto")?.value?.value == "2.5")
        #expect(statement.hasOption("typing"))
        #expect(throws: Diagnostic.self) { try Parser.parseStatement("play demo.rolo --auto") }
        do {
            _ = try Parser.parseStatement("play demo.rolo --auto soon")
            Issue.record("--auto soon was accepted")
        } catch {
            #expect(error.code == .unexpectedToken)
        }
    }

    // MARK: - Lessons

    /// The right answers to each shipped lesson, and a wrong first answer.
    static let answers: [(lesson: String, right: [String], wrong: String)] = [
        (
            "reading-the-crm",
            [
                "count deals where stage = won", "find deals where stage not in (won, lost) and close_date in this month",
                #"find contacts where company = "Acme Inc""#, "sum deals.amount where stage = won",
            ],
            "count deals where stage = lost"
        ),
        (
            "fixing-data-safely",
            [
                #"update contacts where company = "Acme Inc" set company = "Acme, Inc." --dry-run"#,
                #"update contacts where company = "Acme Inc" set company = "Acme, Inc.""#, "undo",
            ],
            #"update contact 1 set title = "CEO""#
        ),
        (
            "granting-access",
            [#"create user dana name="Dana Lee" team=analytics"#, "grant data_analyst to dana", #"move bob to team "Sales West""#],
            #"create user dan name="Dan Lee" team=analytics"#
        ),
    ]

    /// A lesson file read here, one statement a line: its steps (commands and tasks; a task's
    /// expects and hints belong to it; comments after the last statement are a step), the step
    /// each task is, and the hints.
    struct LessonText {
        var steps = 0
        var taskSteps: [Int] = []
        var hints: [[String]] = []

        init(_ path: String) throws {
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            for line in lines where !line.hasPrefix("#") {
                if line.hasPrefix("expect ") { continue }
                if line.hasPrefix("hint ") {
                    hints[hints.count - 1].append(String(line.dropFirst("hint \"".count).dropLast()).replacingOccurrences(of: "\\\"", with: "\""))
                    continue
                }
                steps += 1
                if line.hasPrefix("task ") {
                    taskSteps.append(steps)
                    hints.append([])
                }
            }
            if lines.last?.hasPrefix("#") == true { steps += 1 }
        }
    }

    /// A progress file's `step` and `done`, read here.
    static func progress(_ path: String) throws -> (step: Int, done: [Int]) {
        var step = -1
        var done: [Int] = []
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("step = ") { step = Int(line.dropFirst(7)) ?? -1 }
            if line.hasPrefix("done = ") { done = line.dropFirst(7).split(separator: ",").compactMap { Int($0) } }
        }
        return (step, done)
    }

    @Test(arguments: answers.map(\.lesson))
    func eachShippedLessonPassesWithTheRightAnswers(_ name: String) throws {
        let answers = try #require(Self.answers.first { $0.lesson == name })
        let text = try LessonText(Self.lessons + "/\(name).rolo")
        #expect(text.taskSteps.count == answers.right.count)
        let session = try Session()
        session.type(["lesson \(name)"] + answers.right)
        #expect(session.errors.text.isEmpty, "\(session.errors.text)")
        let output = session.output.text
        #expect(output.components(separatedBy: "✓ Done").count - 1 == answers.right.count, "\(output)")
        #expect(!output.contains("✗"), "\(output)")
        #expect(output.contains("Lesson finished: \(answers.right.count) of \(answers.right.count) tasks done."), "\(output)")
        let files = session.progressFiles
        #expect(files.count == 1)
        let kept = try Self.progress(session.folder + "/progress/" + (files.first ?? ""))
        #expect(kept.step == text.steps + 1)
        #expect(kept.done == Array(1...answers.right.count))
        // What the answers did, by plain SQL.
        switch name {
        case "fixing-data-safely":
            #expect(try Self.count(session.path, "SELECT count(*) FROM contacts WHERE company = 'Acme Inc'") == 52)
        case "granting-access":
            #expect(
                try Self.count(
                    session.path,
                    "SELECT count(*) FROM user_roles JOIN users ON users.id = user_id JOIN roles ON roles.id = role_id WHERE handle = 'dana' AND roles.name = 'data_analyst'"
                ) == 1)
            #expect(
                try Self.count(
                    session.path, "SELECT count(*) FROM users JOIN teams ON teams.id = team_id WHERE handle = 'bob' AND teams.name = 'Sales West'")
                    == 1)
        default:
            #expect(try Self.state(session.path) == Self.state(try SampleDatabase.freshCopy()))
        }
    }

    @Test(arguments: answers.map(\.lesson))
    func aWrongAnswerShowsTheHintAndKeepsTheLearnerAtTheTask(_ name: String) throws {
        let answers = try #require(Self.answers.first { $0.lesson == name })
        let text = try LessonText(Self.lessons + "/\(name).rolo")
        let session = try Session()
        session.type(["lesson \(name)", answers.wrong, "quit"])
        let output = session.output.text
        #expect(output.contains("✗ Not yet"), "\(output)")
        #expect(!output.contains("✓"), "\(output)")
        for hint in text.hints[0] { #expect(output.contains("Hint: \(hint)"), "\(output)") }
        let files = session.progressFiles
        #expect(files.count == 1)
        let kept = try Self.progress(session.folder + "/progress/" + (files.first ?? ""))
        #expect(kept.step == text.taskSteps[0])
        #expect(kept.done.isEmpty)
        // Taken again, the lesson continues at that task.
        session.output.clear()
        session.type(["lesson \(name)", "quit"])
        #expect(session.output.text.contains("continuing at step \(text.taskSteps[0]) of \(text.steps)"), "\(session.output.text)")
        #expect(try Self.progress(session.folder + "/progress/" + (files.first ?? "")).step == text.taskSteps[0])
    }

    /// An expect that cannot be checked refuses the lesson when it is loaded, before any step, in
    /// one line (E517); nothing is run or written.
    @Test(arguments: [
        "expect count deals where stge = won = 3",
        "expect result count deals by stage",
        "expect find deals where stage = won = 3",
        "expect count deals where owner = nobody = 1",
        "expect result find dealz where stage = won",
    ])
    func anExpectThatCannotBeCheckedRefusesTheLesson(_ expect: String) throws {
        let session = try Session()
        let file = session.folder + "/bad.rolo"
        try "# a lesson\ncount deals\ntask \"Count the won deals\"\n\(expect)\nhint \"count deals where stage = won\"\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let audit = try Self.count(session.path, "SELECT count(*) FROM audit_log")
        session.type(["lesson \"\(file)\""])
        let lines = session.errors.text.split(separator: "\n")
        #expect(lines.first?.hasPrefix("rolo: error[E517]: \(file):4:") == true, "\(session.errors.text)")
        #expect(lines.count <= 2, "\(session.errors.text)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("  = help:") }, "\(session.errors.text)")
        #expect(!session.output.text.contains("──"), "\(session.output.text)")
        #expect(session.progressFiles.isEmpty)
        #expect(try Self.count(session.path, "SELECT count(*) FROM audit_log") == audit)
    }

    /// `lessons` lists the shipped lessons with their titles and the acting user's progress.
    @Test func lessonsListsTheShippedLessons() throws {
        let session = try Session()
        session.type(["lessons"])
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.lessons).filter { $0.hasSuffix(".rolo") }
        #expect(names.count == 3)
        for name in names {
            let title = try String(contentsOfFile: Self.lessons + "/" + name, encoding: .utf8).split(separator: "\n")[0].dropFirst(2)
            let line = session.output.text.split(separator: "\n").first { $0.hasPrefix(name.dropLast(5) + " ") }
            #expect(line?.contains(title) == true && line?.contains("not started") == true, "\(session.output.text)")
        }
    }
}
