import Foundation
import RoloTestSupport
import Testing

/// Runs the built `rolo` binary as a user would and checks output and exit status.
@Suite("The rolo binary")
struct BinaryTests {
    /// The `rolo` executable built beside the test bundle.
    static var binary: URL {
        var folder = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("rolo")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/rolo")
    }

    struct Run {
        let status: Int32
        let output: String
        let errors: String
    }

    /// Runs `rolo` with `arguments`, `input` on a pipe, `environment` added (and `unset` taken out of
    /// this process's), in `folder` if given.
    func rolo(
        _ arguments: [String], input: String? = nil, environment: [String: String] = [:], unset: [String] = [],
        folder: String? = nil
    ) throws -> Run {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = Self.environment(environment, unset: unset)
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
            errors: String(decoding: errors, as: UTF8.self))
    }

    static func environment(_ extra: [String: String] = [:], unset: [String] = []) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["ROLO_NOW"] = "2026-11-22T10:00:00Z"
        env["NO_COLOR"] = "1"
        for (key, value) in extra { env[key] = value }
        for key in unset { env[key] = nil }
        return env
    }

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build rolo first: swift build")
    }

    @Test func scriptFileRunsAndReportsFileLineAndColumn() throws {
        let db = try SampleDatabase.freshCopy()
        let folder = URL(fileURLWithPath: db).deletingLastPathComponent()
        let good = folder.appendingPathComponent("good.rolo")
        try "#!/usr/bin/env rolo\n# how many?\ncount contacts\ncount deals where stage = won\n".write(
            to: good, atomically: true, encoding: .utf8)
        let run = try rolo(["--db", db, "--user", "admin", good.path])
        #expect(run.status == 0)
        #expect(run.output == "3000\n133\n")

        let bad = folder.appendingPathComponent("bad.rolo")
        try "count contacts\nfind contacts where emial = \"x\"\n".write(to: bad, atomically: true, encoding: .utf8)
        let failed = try rolo(["--db", db, "--user", "admin", bad.path])
        #expect(failed.status == 1)
        #expect(failed.errors.contains("error[E202]: unknown field 'emial' on contacts"))
        #expect(failed.errors.contains("bad.rolo:2:21"))
        #expect(failed.errors.contains("did you mean 'email'?"))
    }

    /// A command line argument-parser refuses is a usage error in Rolo's one format, status 2 (not
    /// argument-parser's 64); help still prints to standard output with status 0.
    /// `rolo FILE --help` lists a script's parameters; `rolo --db … plan … to F.plan` and
    /// `apply F.plan --exit-code` run from the command line: 2 when it applied, 0 when nothing was
    /// left to do, 1 (and nothing written) when the plan is refused.
    @Test func scriptHelpPlanAndApplyFromTheCommandLine() throws {
        let db = try SampleDatabase.freshCopy()
        let folder = URL(fileURLWithPath: db).deletingLastPathComponent().path
        let script = folder + "/retitle.rolo"
        try "# Retitle a company's contacts.\nparam company \"the company\"\nparam title = Buyer\nupdate contacts where company = $company set title = $title\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let help = try rolo([script, "--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("company  required — the company") && help.output.contains("title    default Buyer"), "\(help.output)")
        let plan = folder + "/retitle.plan"
        let made = try rolo(["--db", db, "--user", "admin", "plan", script, "company=Acme Inc", "to", plan])
        #expect(made.status == 0, "\(made.errors)")
        #expect(made.output.contains("plan written to \(plan): 51 records would change"), "\(made.output)")
        let applied = try rolo(["--db", db, "--user", "admin", "apply", plan, "--exit-code"])
        #expect(applied.status == 2, "\(applied.errors)")
        let again = try rolo(["--db", db, "--user", "admin", "apply", plan, "--exit-code"])
        #expect(again.status == 0, "\(again.errors)")
        try "tampered".write(toFile: plan, atomically: true, encoding: .utf8)
        let refused = try rolo(["--db", db, "--user", "admin", "apply", plan, "--exit-code"])
        #expect(refused.status == 1 && refused.errors.contains("E613"), "\(refused.errors)")
        let missing = try rolo(["--db", db, "--user", "admin", script])
        #expect(missing.status == 1 && missing.errors.contains("missing parameter 'company'"), "\(missing.errors)")
    }

    @Test func aWrongCommandLineIsAUsageError() throws {
        let bogus = try rolo(["--bogus", "-c", "count contacts"])
        #expect(bogus.status == 2)
        #expect(bogus.output == "")
        #expect(bogus.errors == "rolo: error[E702]: unknown option '--bogus'\n  = help: see `rolo --help`\n")
        let demo = try rolo(["demo", "--contacts", "5"])
        #expect(demo.status == 2)
        #expect(demo.errors == "rolo: error[E702]: --contacts must be between 100 and 5,000,000\n  = help: see `rolo demo --help`\n")
        let initWithoutAdmin = try rolo(["init", "crm.db"])
        #expect(initWithoutAdmin.status == 2)
        #expect(initWithoutAdmin.errors.hasPrefix("rolo: error[E702]: missing expected argument '--admin <admin>'"))
        for arguments in [["--help"], ["demo", "--help"], ["help", "init"]] {
            let help = try rolo(arguments)
            #expect(help.status == 0, "\(arguments): \(help.errors)")
            #expect(help.output.hasPrefix("OVERVIEW: "), "\(arguments)")
            #expect(help.errors == "")
        }
    }

    @Test func oneCommandAndStandardInput() throws {
        let db = try SampleDatabase.freshCopy()
        let one = try rolo(["--db", db, "--user", "olivia", "-c", "count accounts"])
        #expect(one.status == 0)
        #expect(one.output == "300\n")
        let piped = try rolo(["--db", db, "--user", "admin"], input: "whoami\ncount teams\n")
        #expect(piped.status == 0)
        #expect(piped.output.hasPrefix("admin (Alex Admin) · Leadership · roles: admin\n"))
        #expect(!piped.output.contains("admin@"))  // no prompt when piped
    }

    /// A script path that is a pipe (`/dev/stdin`, or bash's `<(generate-fixes)`) is read as a stream.
    @Test func scriptPathThatIsAPipe() throws {
        let db = try SampleDatabase.freshCopy()
        let run = try rolo(["--db", db, "--user", "admin", "/dev/stdin"], input: "count teams\ncount accounts\n")
        #expect(run.errors == "")
        #expect(run.status == 0)
        #expect(run.output == "6\n300\n")
    }

    @Test(arguments: [
        (
            ["--db", "/no/such/folder/crm.db", "--user", "admin", "-c", "count contacts"],
            "rolo: error[E602]: cannot open database '/no/such/folder/crm.db': the folder '/no/such/folder' does not exist", Int32(2)
        ),
        (
            ["--db", "/rolo-no-such.db", "--user", "admin", "-c", "count contacts"], "rolo: error[E602]: no database at '/rolo-no-such.db'",
            Int32(2)
        ),
        (["-c", "count contacts"], "rolo: error[E703]: no database given", Int32(2)),
        (["--db", "DB", "--user", "nobody", "-c", "count contacts"], "rolo: error[E704]: unknown --user 'nobody'", Int32(2)),
        (
            ["--db", "DB", "--user", "admin", "--format", "xml", "-c", "count contacts"], "rolo: error[E702]: unknown --format 'xml'",
            Int32(2)
        ),
        (["--db", "DB", "--user", "admin", "/dev/null", "old"], "rolo: error[E702]: script parameters are NAME=VALUE", Int32(2)),
        (["--db", "DB", "--user", "admin", "-c", "cuont contacts"], "did you mean 'count'?", Int32(1)),
        (["--db", "DB", "--user", "admin", "-c", "count contcts"], "did you mean 'contacts'?", Int32(1)),
        (["--db", "DB", "--user", "admin", "-c", "find widgets"], "unknown entity 'widgets'", Int32(1)),
        (["--db", "DB", "--user", "admin", "/no/such/script.rolo"], "rolo: error[E602]: no such script", Int32(2)),
        (["--db", "DB", "--user", "quinn", "-c", "find tickets"], "quinn may not read tickets", Int32(3)),
    ])
    func badInputFailsClearly(arguments: [String], message: String, status: Int32) throws {
        let db = try SampleDatabase.freshCopy()
        let run = try rolo(arguments.map { $0 == "DB" ? db : $0 })
        #expect(run.status == status, "\(run.errors)")
        #expect(run.errors.contains(message), "\(run.errors)")
    }

    @Test func exitStatusesForChangesAndDryRuns() throws {
        let db = try SampleDatabase.freshCopy()
        let preview = try rolo([
            "--db", db, "--user", "admin", "--exit-code", "-c",
            #"update contacts where company = "Acme Inc" set company = "Acme, Inc." --dry-run"#,
        ])
        #expect(preview.status == 4)
        #expect(preview.output.contains("52 contacts would be updated"))
        let nothing = try rolo([
            "--db", db, "--user", "admin", "--exit-code", "-c", #"update contacts where company = "Nobody" set company = "x" --dry-run"#,
        ])
        #expect(nothing.status == 0)
        let onCommand = try rolo(["--db", db, "--user", "admin", "-c", "delete deals where stage = lost --dry-run --exit-code"])
        #expect(onCommand.status == 4)
        let refused = try rolo(["--db", db, "--user", "bob", "-c", "update contact 1 set title = \"X\""])
        #expect(refused.status == 3)
        #expect(refused.errors.contains("contact 1: it belongs to"))
        // A record outside bob's read scope is answered as a missing one: no status tells them apart.
        let hidden = try rolo(["--db", db, "--user", "bob", "-c", "update deal 1 set stage = won"])
        #expect(hidden.status == 1)
        #expect(hidden.errors.contains("there is no deal 1 that bob may read"))
    }

    @Test func scriptsAreAllOrNothing() throws {
        let db = try SampleDatabase.freshCopy()
        let folder = URL(fileURLWithPath: db).deletingLastPathComponent()
        let script = folder.appendingPathComponent("fix.rolo")
        try #"""
        # fix-acme.rolo — rename the company, then a typo stops it
        update contacts where company = $old set company = $new
        update contacts where compny = $old set company = $new
        """#.write(to: script, atomically: true, encoding: .utf8)
        let run = try rolo(["--db", db, "--user", "admin", script.path, "old=Acme Inc", "new=Acme, Inc."])
        #expect(run.status == 1)
        #expect(run.errors.contains("fix.rolo:3:23"))
        #expect(run.errors.contains("nothing was changed"))
        let count = try rolo(["--db", db, "--user", "admin", "-c", #"count contacts where company = "Acme Inc""#])
        #expect(count.output == "52\n")
        let fixed = try rolo(["--db", db, "--user", "admin", "-c", #"update contacts where company = $old set company = $new --quiet"#])
        #expect(fixed.status == 1)
        #expect(fixed.errors.contains("error[E210]: no value for parameter $"))
    }

    @Test func newerSchemaIsRefused() throws {
        let db = try SampleDatabase.freshCopy()
        let bump = Process()
        bump.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        bump.arguments = [db, "PRAGMA user_version = 99"]
        try bump.run()
        bump.waitUntilExit()
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let run = try rolo(["--db", db, "--user", "admin", "-c", "count contacts"])
        #expect(run.status == 1)
        #expect(run.errors.contains("was written by a newer Rolo (schema version 99"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }

    @Test func notARoloDatabaseIsLeftUntouched() throws {
        let folder = try SampleDatabase.temporaryFolder()
        let path = folder + "/notes.db"
        try "just some notes".write(toFile: path, atomically: true, encoding: .utf8)
        let run = try rolo(["--db", path, "--user", "admin", "-c", "count contacts"])
        #expect(run.status == 1)
        #expect(run.errors.contains("is not a Rolo database"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "just some notes")
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    /// A file that cannot be written opens read-only with one notice: reads work (not audited),
    /// changes are refused with E601, and nothing is left beside the file.
    @Test func anUnwritableFileOpensReadOnly() throws {
        let db = try SampleDatabase.freshCopy()
        let folder = URL(fileURLWithPath: db).deletingLastPathComponent().path
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db)
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let read = try rolo(["--db", db, "--user", "alice", "-c", "count contacts"])
        #expect(read.status == 0)
        #expect(read.output == "3000\n")
        #expect(read.errors == "read-only: changes are refused; reads are not audited\n")
        let change = try rolo(["--db", db, "--user", "admin", "-c", #"update contact 1 set title = "X""#])
        #expect(change.status == 1)
        #expect(change.errors.contains("error[E601]: read-only"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: db)
        let audited = try rolo(["--db", db, "--user", "admin", "-c", "count audit"])
        #expect(audited.output == "0\n")
    }

    /// A `begin` that a script or -c never commits is rolled back, said so, audited, and fails.
    @Test func anUnterminatedBeginIsRolledBackAndFails() throws {
        let db = try SampleDatabase.freshCopy()
        let run = try rolo(["--db", db, "--user", "admin", "-c", #"begin; update contact 1 set title = "X""#])
        #expect(run.status == 1)
        #expect(run.errors.contains("error[E511]"))
        let after = try rolo([
            "--db", db, "--user", "admin", "-c", #"count contacts where title = "X"; find audit outcome, command order by id"#,
        ])
        #expect(after.output.hasPrefix("0\n"))
        #expect(after.output.contains("rolled_back │ update contact 1 set title = \"X\""))
        #expect(after.output.contains("rolled_back │ rollback (end of input with the transaction still open)"))
    }

    /// Scripts, `-c` and piped input neither read nor write the settings file: they run the same
    /// whatever a person set in their shell.
    @Test func scriptsIgnoreTheSettingsFile() throws {
        let db = try SampleDatabase.freshCopy()
        let config = URL(fileURLWithPath: db).deletingLastPathComponent().appendingPathComponent("config")
        let environment = ["XDG_CONFIG_HOME": config.path]
        let one = try rolo(["--db", db, "--user", "admin", "-c", "set confirm 5; set pager off"], environment: environment)
        #expect(one.status == 0)
        let piped = try rolo(["--db", db, "--user", "admin"], input: "set color off\n", environment: environment)
        #expect(piped.status == 0)
        #expect(!FileManager.default.fileExists(atPath: config.path))
        // A settings file that says csv does not change a script's tables.
        try FileManager.default.createDirectory(at: config.appendingPathComponent("rolo"), withIntermediateDirectories: true)
        try "format = csv\n".write(to: config.appendingPathComponent("rolo/config"), atomically: true, encoding: .utf8)
        let count = try rolo(["--db", db, "--user", "admin", "-c", "count deals by stage"], environment: environment)
        #expect(count.output.hasPrefix(" stage"))
    }

    // MARK: - Who acts when --user is not given

    /// The operating system's name for this process's user, as rolo looks it up (and as psql does).
    static var loginName: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "" }
        return String(cString: name)
    }

    /// Gives `database` a Rolo user named after the login (an analyst), unless it has one.
    func addLoginUser(to database: String) throws {
        let login = Self.loginName
        let exists = try rolo(["--db", database, "--user", "admin", "-c", "count users where handle = \"\(login)\""])
        guard exists.output == "0\n" else { return }
        let created = try rolo([
            "--db", database, "--user", "admin", "-c",
            "create user \(login) name=\"Login User\" team=analytics; grant data_analyst to \(login)",
        ])
        #expect(created.status == 0, "\(created.errors)")
    }

    /// Without --user: $ROLO_USER, then the Rolo user named after the OS login; with neither, the
    /// error says what to do.
    @Test func theUserDefaultsToROLO_USERThenTheLoginName() throws {
        let db = try SampleDatabase.freshCopy()
        let login = Self.loginName
        try #require(!login.isEmpty)
        let sampleHandles = ["admin", "sam", "alice", "bob", "olivia", "quinn", "rachel", "steve", "mark", "sofia"]
        if !sampleHandles.contains(login) {
            let nobody = try rolo(["--db", db, "-c", "count contacts"], unset: ["ROLO_USER"])
            #expect(nobody.status == 2)
            #expect(nobody.output == "")
            for hint in ["rolo: error[E704]: no user given", "--user", "ROLO_USER", "'\(login)'", "create user \(login)"] {
                #expect(nobody.errors.contains(hint), "\(nobody.errors)")
            }
        }
        let fromEnvironment = try rolo(["--db", db, "-c", "whoami"], environment: ["ROLO_USER": "olivia"])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.errors)")
        #expect(fromEnvironment.output.hasPrefix("olivia (Olivia Grant)"))

        try addLoginUser(to: db)
        let fromLogin = try rolo(["--db", db, "-c", "whoami"], unset: ["ROLO_USER"])
        #expect(fromLogin.status == 0, "\(fromLogin.errors)")
        #expect(fromLogin.output.hasPrefix(login + " ("))
        // $ROLO_USER still comes first, and --user before it.
        let both = try rolo(["--db", db, "-c", "whoami"], environment: ["ROLO_USER": "olivia"])
        #expect(both.output.hasPrefix("olivia ("))
        let given = try rolo(["--db", db, "--user", "bob", "-c", "whoami"], environment: ["ROLO_USER": "olivia"])
        #expect(given.output.hasPrefix("bob ("))
        // An unknown $ROLO_USER is an error, not a reason to fall back to the login.
        let unknown = try rolo(["--db", db, "-c", "whoami"], environment: ["ROLO_USER": "nobody"])
        #expect(unknown.status == 2)
        #expect(unknown.errors.contains("'nobody'"), "\(unknown.errors)")
    }

    /// The example lines of a help text: the lines of the block after an `Examples:` line (up to a
    /// blank one), each without the description that follows it after two spaces or more; and the
    /// lines of that block that are not examples (a description wrapped onto a line of its own).
    static func examples(in help: String) -> (examples: [String], strays: [String]) {
        var examples: [String] = [], strays: [String] = [], inExamples = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix("Examples:") {
                inExamples = true
            } else if trimmed.isEmpty {
                inExamples = false
            } else if inExamples && (trimmed.hasPrefix("rolo ") || trimmed == "rolo") {
                let command = trimmed.range(of: "  ").map { String(trimmed[..<$0.lowerBound]) } ?? trimmed
                examples.append(command)
            } else if inExamples {
                strays.append(String(line))
            }
        }
        return (examples, strays)
    }

    /// A command line split into words as a POSIX shell would for plain words and quotes.
    static func shellWords(_ line: String) -> [String]? {
        var words: [String] = [], word = "", inWord = false, quote: Character?
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else if "\\$`<>|;&*?".contains(character) {
                return nil  // not a plain command line: the test would need a real shell
            } else {
                word.append(character)
                inWord = true
            }
        }
        if quote != nil { return nil }
        if inWord { words.append(word) }
        return words
    }

    /// Every example `rolo --help` and its subcommands' helps show runs as printed, the way a person
    /// pastes it: in a folder of their own, where `crm.db` is a sample company (except for `rolo init`,
    /// which makes it) with a Rolo user named after the OS login (on CI, root), `fix.rolo` a script, and
    /// neither ROLO_USER nor ROLO_DB is set.
    @Test func everyHelpExampleRunsAsPrinted() throws {
        var examples: [String] = []
        for arguments in [["--help"], ["demo", "--help"], ["init", "--help"]] {
            let help = try rolo(arguments)
            #expect(help.status == 0)
            let found = Self.examples(in: help.output)
            #expect(!found.examples.isEmpty, "rolo \(arguments.joined(separator: " ")) shows no examples")
            #expect(found.strays.isEmpty, "rolo \(arguments.joined(separator: " ")): lines in its examples that are none")
            examples += found.examples
        }
        #expect(examples.count >= 6)
        #expect(examples.contains(#"rolo --db crm.db -c "count contacts""#))
        for example in examples {
            let words = try #require(Self.shellWords(example), "\(example)")
            try #require(words.first == "rolo", "\(example)")
            let folder = try SampleDatabase.temporaryFolder()
            if words.count > 1, words[1] != "init", words[1] != "demo" {
                try FileManager.default.copyItem(atPath: try SampleDatabase.freshCopy(), toPath: folder + "/crm.db")
                try addLoginUser(to: folder + "/crm.db")
            }
            try "count contacts\n".write(toFile: folder + "/fix.rolo", atomically: true, encoding: .utf8)
            let run = try rolo(Array(words.dropFirst()), unset: ["ROLO_USER", "ROLO_DB"], folder: folder)
            #expect(run.status == 0, "\(example) failed: \(run.errors)")
            #expect(!run.errors.contains("rolo:"), "\(example): \(run.errors)")
        }
    }

    // MARK: - A file another rolo has open

    #if os(Linux)
        static let isLinux = true
    #else
        static let isLinux = false
    #endif

    /// Waits until some process holds a lock on `path` that an exclusive `flock` conflicts with.
    static func waitUntilLocked(_ path: String, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { return false }
            let free = flock(descriptor, LOCK_EX | LOCK_NB) == 0
            close(descriptor)  // this process has no SQLite connection to the file: closing is harmless
            if !free { return true }
            usleep(50_000)
        }
        return false
    }

    /// `rolo demo FILE --fresh` refuses while a shell has FILE open, and leaves it untouched; once the
    /// shell is gone it regenerates the file. (Linux only: elsewhere rolo takes no lock.)
    @Test(.enabled(if: Self.isLinux)) func freshRefusesWhileAnotherRoloHasTheFileOpen() throws {
        let db = try SampleDatabase.freshCopy()
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let inode = try FileManager.default.attributesOfItem(atPath: db)[.systemFileNumber] as? Int

        let shell = Process()
        shell.executableURL = Self.binary
        shell.arguments = ["--db", db, "--user", "admin"]
        shell.environment = Self.environment()
        let input = Pipe(), output = Pipe(), errors = Pipe()
        shell.standardInput = input
        shell.standardOutput = output
        shell.standardError = errors
        try shell.run()
        defer { if shell.isRunning { shell.terminate() } }
        #expect(Self.waitUntilLocked(db), "the shell never locked its file")

        let refused = try rolo(["demo", db, "--fresh", "--create-only", "--contacts", "100"])
        #expect(refused.status == 1)
        #expect(refused.errors.contains("rolo: error[E604]: \(db) is open in another rolo process"), "\(refused.errors)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(try FileManager.default.attributesOfItem(atPath: db)[.systemFileNumber] as? Int == inode)

        // The shell still has its company, and leaves.
        input.fileHandleForWriting.write(Data("count contacts\n".utf8))
        try input.fileHandleForWriting.close()
        let shown = output.fileHandleForReading.readDataToEndOfFile()
        _ = errors.fileHandleForReading.readDataToEndOfFile()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        #expect(String(decoding: shown, as: UTF8.self) == "3000\n")

        let fresh = try rolo(["demo", db, "--fresh", "--create-only", "--contacts", "100"])
        #expect(fresh.status == 0, "\(fresh.errors)")
        let count = try rolo(["--db", db, "--user", "admin", "-c", "count contacts"])
        #expect(count.output == "100\n")
    }
}
