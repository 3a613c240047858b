import Foundation
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloShell

/// What a newcomer meets first: `rolo --help` naming the options that open a database, and Tab
/// offering what was created a moment ago.
extension BinaryTests {
    /// `rolo --help` shows the options of the default command: --db, --user, -c and the rest.
    @Test func theTopHelpShowsTheOptionsThatOpenADatabase() throws {
        let help = try rolo(["--help"])
        #expect(help.status == 0)
        for option in ["--db <db>", "--user <user>", "-c <command>", "--dry-run", "--format <format>", "--read-only"] {
            #expect(help.output.contains(option), "rolo --help does not show \(option)")
        }
        #expect(help.output.contains("demo"))
        #expect(help.output.hasSuffix("for detailed help.\n"))
        #expect(try rolo(["-h"]).output == help.output)
    }

    /// `rolo demo` dates the company from today: `--today` pins it, and without it ROLO_NOW's day (or
    /// the real one) is today, so "upcoming" is after it and "last 30 days" is busy.
    @Test func theDemoCompanyIsDatedFromToday() throws {
        let folder = try SampleDatabase.temporaryFolder()
        let pinned = try rolo(["demo", "pinned.db", "--today", "2027-03-01", "--create-only"], folder: folder)
        #expect(pinned.status == 0, "\(pinned.errors)")
        let environment = ["ROLO_NOW": "2027-03-01T10:00:00Z"]
        func figure(_ db: String, _ command: String) throws -> String {
            try rolo(["--db", db, "--user", "admin", "-c", command], environment: environment, folder: folder).output
        }
        #expect(try figure("pinned.db", "count campaigns where status = planned and start_date <= today") == "0\n")
        let newest = try figure("pinned.db", "max activities.occurred_at")
        #expect(newest >= "2027-02-20" && newest <= "2027-03-01 10:00", "\(newest)")
        #expect(Int(try figure("pinned.db", "count activities where occurred_at >= 30 days ago").dropLast()) ?? 0 > 100)
        // Without --today, ROLO_NOW's day: the same company.
        let fromClock = try rolo(["demo", "clock.db", "--create-only"], environment: environment, folder: folder)
        #expect(fromClock.status == 0)
        #expect(try figure("clock.db", "max activities.occurred_at") == (try figure("pinned.db", "max activities.occurred_at")))
        // The company's now is the latest 10:00 UTC: at 08:00 it is yesterday's company, at
        // 23:00 today's, so no record lies ahead of the clock and two days differ by whole days.
        let early = try rolo(["demo", "early.db", "--create-only"], environment: ["ROLO_NOW": "2027-03-02T08:00:00Z"], folder: folder)
        let late = try rolo(["demo", "late.db", "--create-only"], environment: ["ROLO_NOW": "2027-03-01T23:00:00Z"], folder: folder)
        #expect(early.status == 0 && late.status == 0)
        for db in ["early.db", "late.db"] {
            #expect(try figure(db, "max activities.occurred_at") == (try figure("pinned.db", "max activities.occurred_at")), "\(db)")
            #expect(try figure(db, "max tasks.created_at") == (try figure("pinned.db", "max tasks.created_at")), "\(db)")
        }
        // A wrong date is a usage error, and makes no file.
        let wrong = try rolo(["demo", "wrong.db", "--today", "2027-02-30", "--create-only"], folder: folder)
        #expect(wrong.status == 2)
        #expect(wrong.errors.contains("--today takes a date"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/wrong.db"))
    }
}
@Suite("Completion in a session")
struct SessionCompletionTests {
    /// A user created earlier in the session is offered by Tab (the names are read again after a
    /// command line), and so is a role.
    @Test func tabOffersAUserCreatedInTheSession() throws {
        let engine = try SampleDatabase.engine()
        let shell = Shell(engine: engine, output: StringOutput(), errors: StringOutput())
        let completer = LiveCompleter(vocabulary: engine.vocabulary())
        shell.completer = completer
        #expect(!completer.candidates(for: "show user ze").contains("zedd"))
        shell.runInteractive(
            reader: ScriptedReader([#"create user zedd name="Zed Dee" team=analytics"#, "create role auditor_x like data_analyst"]))
        #expect(completer.candidates(for: "show user ze") == ["zedd"])
        #expect(completer.candidates(for: "find deals where owner = ze") == ["zedd"])
        #expect(completer.candidates(for: "grant audi").contains("auditor_x"))
    }
}
