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

    func rolo(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["ROLO_NOW"] = "2026-11-22T10:00:00Z"
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
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
            ["--db", "/no/such/folder/crm.db", "--user", "admin", "-c", "count contacts"], "the folder '/no/such/folder' does not exist",
            Int32(1)
        ),
        (["-c", "count contacts"], "no database given", Int32(2)),
        (["--db", "DB", "--user", "nobody", "-c", "count contacts"], "unknown --user 'nobody'", Int32(2)),
        (["--db", "DB", "--user", "admin", "-c", "cuont contacts"], "did you mean 'count'?", Int32(1)),
        (["--db", "DB", "--user", "admin", "-c", "count contcts"], "did you mean 'contacts'?", Int32(1)),
        (["--db", "DB", "--user", "admin", "-c", "find widgets"], "unknown entity 'widgets'", Int32(1)),
        (["--db", "DB", "--user", "admin", "/no/such/script.rolo"], "no such script", Int32(2)),
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
}
