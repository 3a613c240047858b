import ArgumentParser
import Foundation
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax

/// Options shared by every way of opening a database.
struct SessionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The acting user's handle (default: $ROLO_USER, else admin in a demo, else the user named after your login).")
    var user: String?

    @Option(name: .short, help: ArgumentHelp("Run one command (or several separated by ';') and exit.", valueName: "command"))
    var command: String?

    @Flag(name: .long, help: "Preview every change and roll it back.")
    var dryRun = false

    @Option(name: .long, help: "Output format: table, csv or json (default: table on a terminal).")
    var format: String?

    @Flag(name: .long, help: "Exit with status 4 when a dry-run found changes (like diff).")
    var exitCode = false

    @Flag(name: .long, help: "Open the database read-only: reads work and are not audited; changes are refused.")
    var readOnly = false

    @Option(name: .long, help: "Seconds a change waits for another session's write (default 30).")
    var busyTimeout: Double?

    @Flag(name: .long, help: "With apply FILE.plan: apply the records that did not drift, leave the drifted ones.")
    var skipDrifted = false

    @Flag(name: .long, help: "With apply FILE.plan: overwrite drifted records; with plan … to FILE.plan: replace the file.")
    var force = false
}

/// The default: `rolo --db FILE [--user HANDLE] [-c COMMAND | SCRIPT]`.
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Open a CRM database (the default command).", shouldDisplay: false)

    @Option(name: .long, help: "The CRM database file (default: $ROLO_DB).")
    var db: String?

    @OptionGroup var session: SessionOptions

    @Argument(help: "A script to run (- for standard input), then NAME=VALUE parameters; or apply FILE.plan, plan FILE.rolo … to FILE.plan.")
    var script: [String] = []

    func run() throws {
        guard let path = db ?? ProcessInfo.processInfo.environment["ROLO_DB"] else {
            let failure = Diagnostic(
                .noDatabase, "no database given: pass --db FILE (or set ROLO_DB), or try `rolo demo` for a sample company")
            throw ExitCode(Launcher.fail(failure).rawValue)
        }
        let status = Launcher.run(path: path, mode: .existing, session: session, script: script, defaultUser: nil)
        throw ExitCode(status.rawValue)
    }
}

/// `rolo demo [FILE]`: a sandbox filled with the sample company, opened as admin.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create (or reopen) a sandbox database filled with a realistic sample company.",
        discussion: """
            Examples:
              rolo demo                            rolo-demo.db, made if missing, as admin
              rolo demo big.db --contacts 20000    a bigger company (other tables scale)
              rolo demo --fresh --create-only      make rolo-demo.db anew, then exit
              rolo demo -c "count deals by stage"  one command on the sandbox

            The company is dated from today (10:00 UTC; --today DATE pins the day):
            the same seed on a later day gives the same company, every date moved by
            the days between. The file is a sandbox: its state as made is kept as the
            checkpoint fresh (FILE.checkpoints/), where `reset` in the shell returns.
            --fresh throws the sandbox and its checkpoints away, and refuses while
            another rolo process has the file open.
            """)

    @Argument(help: "The sandbox file.")
    var file: String = "rolo-demo.db"

    @Option(name: .long, help: "How many contacts to generate; other tables scale with it.")
    var contacts: Int = 3000

    @Option(name: .long, help: "Generator seed: the same seed gives the same company.")
    var seed: UInt64 = 42

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The company's today, YYYY-MM-DD: every date is set from it (default: today, or ROLO_NOW).", valueName: "date"))
    var today: String?

    @Flag(name: .long, help: "Throw the existing sandbox away and generate it again.")
    var fresh = false

    @Flag(name: .long, help: "Create the sandbox and exit without opening the shell.")
    var createOnly = false

    @OptionGroup var session: SessionOptions

    func validate() throws {
        guard contacts >= 100, contacts <= 5_000_000 else {
            throw ValidationError("--contacts must be between 100 and 5,000,000")
        }
        if let today {
            guard let date = CivilDate(today) else {
                throw ValidationError("--today takes a date, YYYY-MM-DD (e.g. 2026-11-22), not '\(today)'")
            }
            // The company reaches six years back and a few months ahead.
            guard (1900...9000).contains(date.year) else { throw ValidationError("--today must lie between the years 1900 and 9000") }
        }
    }

    /// The generator's clock: 10:00 UTC of the company's today (`--today 2026-11-22` is the tests'
    /// company). Without `--today`, the latest 10:00 UTC not after now (ROLO_NOW, else the real
    /// time): the company never holds the future, and on any two days it is the same company
    /// moved by whole days.
    var clock: any CRMClock {
        if let today, let date = CivilDate(today) { return FixedClock(Timestamp(date: date, hour: 10)) }
        return FixedClock(Self.companyNow(Launcher.clockFromEnvironment().now()))
    }

    /// The latest 10:00 UTC that is not after `now`.
    static func companyNow(_ now: Timestamp) -> Timestamp {
        Timestamp(date: now.adding(seconds: -10 * 3600).date, hour: 10)
    }

    func run() throws {
        let fileManager = FileManager.default
        if fresh {
            // Never under another process: a shell on the file would go on writing to a deleted one.
            let lock = DatabaseLock.exclusive(file)
            if case .busy = lock {
                let failure = Diagnostic(
                    .databaseInUse, "\(file) is open in another rolo process: close it first (--fresh deletes the file and makes a new one)"
                )
                throw ExitCode(Launcher.fail(failure).rawValue)
            }
            for suffix in ["", "-wal", "-shm"] { try? fileManager.removeItem(atPath: file + suffix) }
            // The old sandbox's checkpoints go with it: they are of another company.
            try? fileManager.removeItem(atPath: Sandbox.folder(for: file))
            if case .locked(let held) = lock { held.releaseAndClose() }
        }
        if !fileManager.fileExists(atPath: file) {
            do {
                let started = Date()
                try generate()
                let seconds = Date().timeIntervalSince(started)
                FileHandle.standardError.write(
                    "created \(file): a sample company with \(contacts) contacts (seed \(seed)) in \(String(format: "%.1f", seconds)) s\n"
                        .data(using: .utf8) ?? Data())
            } catch {
                for suffix in ["", "-wal", "-shm"] { try? fileManager.removeItem(atPath: file + suffix) }
                try? fileManager.removeItem(atPath: Sandbox.folder(for: file))
                throw ExitCode(Launcher.fail(error).rawValue)
            }
        }
        if createOnly { return }
        let status = Launcher.run(path: file, mode: .existing, session: session, script: [], defaultUser: "admin")
        throw ExitCode(status.rawValue)
    }

    /// Fills a new file with the sample company and makes it a sandbox (marked, its fresh state kept
    /// as the checkpoint `fresh`). While it does, the file is locked exclusively: a rolo opening it
    /// waits for the whole company, a second `--fresh` refuses. The shell opened after it turns the
    /// lock into its shared one.
    func generate() throws {
        let store = try CRMStore.open(path: file, mode: .createIfMissing)
        _ = DatabaseLock.exclusive(file)
        var options = SampleCompany.Options()
        options.contacts = contacts
        options.seed = seed
        options.clock = clock
        _ = try SampleCompany.generate(into: store, options: options)
        try store.checkpoint()
        try Sandbox.make(store: store, clock: clock)
        try store.checkpoint()
    }
}
