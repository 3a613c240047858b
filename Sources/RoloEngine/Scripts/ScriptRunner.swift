import Foundation
import RoloStore
import RoloSyntax

/// Runs a `Script` through the engine: the one place that decides how input runs.
///
/// A whole script (a file, piped input, `-c`) of several statements runs as one transaction and
/// so one change set, named after its file, rolled back at the first error; a whole-script
/// `--dry-run` previews all of it and keeps nothing. A line typed at the prompt runs statement by
/// statement, each on its own. Either way the run stops at the first error. The shell and the
/// transcript runner hand text here; they only read lines, render and page.
public final class ScriptRunner {
    public enum Mode: Sendable {
        /// Non-interactive input: one transaction around several statements (unless the script
        /// manages its own); `exitCodeForDryRun` makes a dry-run that would change something end
        /// with the dry-run status, as `--exit-code` on each command does.
        case whole(exitCodeForDryRun: Bool)
        /// A command line typed at the prompt: each statement on its own.
        case line
    }

    public struct Outcome: Sendable {
        /// An error was reported.
        public var failed = false
        /// A dry-run with `--exit-code` (or `exitCodeForDryRun`) would have changed something.
        public var dryRunChanges = false
        /// A statement asked to leave (`quit`).
        public var quit = false
        /// `apply … --exit-code` applied a plan's changes.
        public var applied = false

        public init() {}
    }

    let engine: Engine
    /// The scripts running now, outermost first (`run FILE`, `run script NAME`).
    var running: [String] = []
    /// Shows an error at once, after the output so far (the shell renders it with its caret).
    let report: (any Error) -> Void
    /// Told before each statement runs.
    public var willRun: ((Statement) -> Void)?
    /// Told after each statement ran without error.
    public var didRun: ((Statement, CommandResult) -> Void)?
    /// An error that ends the line without a report (the user quit the pager mid-answer).
    public var endsQuietly: ((any Error) -> Bool)?

    public init(engine: Engine, report: @escaping (any Error) -> Void) {
        self.engine = engine
        self.report = report
    }

    public func run(_ script: Script, mode: Mode, output: OutputSink, errors: OutputSink) -> Outcome {
        var run = Run(output: output, errors: errors)
        var wrap = false
        if case .whole(let exitCode) = mode {
            run.exitCodeForDryRun = exitCode
            do {
                // Every parameter has a value before anything runs; a misspelt one is an error.
                engine.session.parameters = try script.parameterValues(given: engine.session.parameters)
            } catch {
                run.fail(error, report)
                return run.outcome
            }
            wrap = !script.managesTransactions && !engine.transactions.isOpen && script.statementCount > 1
        }
        // A recording keeps the comments typed with the statements, as narration.
        engine.session.training.typed(script)
        defer { engine.session.training.typed(nil) }
        // The connection is held for the whole run (`CRMStore.hold`): the statements' accesses
        // use it without a dispatch onto GRDB's queue each.
        engine.store.hold {
            if wrap {
                // A script's change set is listed under its file, not its first statement.
                let label = script.file.flatMap { $0 == "<stdin>" ? nil : "script \($0)" }
                _ = transaction(label: label, statements: script.statementCount, &run) { run in
                    runStatements(of: script, origin: nil, top: true, &run)
                }
            } else {
                _ = runStatements(of: script, origin: nil, top: true, &run)
            }
        }
        return run.outcome
    }

    /// One run's state: where output goes, what happened so far.
    struct Run {
        let output: OutputSink
        let errors: OutputSink
        /// Shows this run's errors instead of the runner's `report` (a learner's typed lines).
        var report: ((any Error) -> Void)? = nil
        var outcome = Outcome()
        var exitCodeForDryRun = false
        /// Inside a whole script run as a dry-run: each change says one line, not its records.
        var summarising = false

        mutating func fail(_ error: any Error, _ report: (any Error) -> Void) {
            outcome.failed = true
            if let own = self.report { own(error) } else { report(error) }
        }
    }

    /// Runs `body` in one transaction, committed when it succeeds and rolled back when it fails.
    /// - Returns: whether `body` succeeded.
    func transaction(label: String?, statements: Int, _ run: inout Run, body: (inout Run) -> Bool) -> Bool {
        do {
            try engine.beginTransaction(label: label)
        } catch {
            run.fail(error, report)
            return false
        }
        let wasSummarising = run.summarising
        run.summarising = engine.transactions.isDryRun
        // `quit` ends the script where it stands: what ran before it is kept, as at its end.
        let succeeded = body(&run) || (run.outcome.quit && !run.outcome.failed)
        run.summarising = wasSummarising
        do {
            try engine.endTransaction(commit: succeeded && !run.outcome.failed)
            if succeeded, !run.outcome.failed, let note = engine.transactions.note { run.output.line(note) }
        } catch {
            run.fail(error, report)
            return false
        }
        if !succeeded || run.outcome.failed, statements > 1 {
            run.errors.line("nothing was changed: the script stopped at the error and was rolled back")
        }
        return succeeded && !run.outcome.failed
    }

    /// Runs a script's statements in order, an included file's where its `include` stands.
    /// - Parameters:
    ///   - origin: the file errors point into, when it is not the text being run.
    ///   - top: the statements are the ones typed (or given) themselves, not a file's that one of
    ///     them runs: what a recording keeps.
    /// - Returns: whether to go on (false after an error, or `quit`).
    func runStatements(of script: Script, origin: Diagnostic.Origin?, top: Bool = false, _ run: inout Run) -> Bool {
        var statements = script.statements()
        while true {
            let statement: ParsedStatement
            do {
                guard let next = try statements.next() else {
                    if top { engine.session.training.narrate(upTo: nil) }
                    return true
                }
                statement = next
            } catch {
                if endsQuietly?(error) != true { run.fail(origin.map { error.located(in: $0) } ?? error, report) }
                return false
            }
            guard runOne(statement, of: script, origin: origin, top: top, &run) != nil else { return false }
        }
    }

    /// The commands that run other statements, which the runner runs itself: every registered
    /// `RunByScriptRunner`, by type.
    static let runnerCommands = Set(CommandRegistry.all.filter { $0 is any RunByScriptRunner.Type }.map { ObjectIdentifier($0) })

    /// Runs a statement that runs others (`include`, `run`, `plan`, `run script`, `play`, `lesson`).
    /// - Returns: nil if it is none of these; else whether to go on.
    private func runRunnerStatement(
        _ statement: ParsedStatement, of script: Script, origin: Diagnostic.Origin?, top: Bool, _ run: inout Run
    ) throws -> Bool? {
        if let include = statement.command as? IncludeCommand {
            // Checked when the script was made: the file is there and is no loop.
            guard let included = script.included(include.path.value) else { return true }
            guard runStatements(of: included, origin: included.origin, &run) else { return false }
            if top { engine.session.training.record(statement) }
            return true
        }
        if let file = statement.command as? RunCommand {
            guard try runFile(file, statement, from: origin?.file ?? script.file, &run) else { return false }
            if top { engine.session.training.record(statement) }
            return true
        }
        if let plan = statement.command as? PlanCommand {
            guard try runPlan(plan, statement, from: origin?.file ?? script.file, &run) else { return false }
            if top { engine.session.training.record(statement) }
            return true
        }
        if let saved = statement.command as? RunScriptCommand {
            guard try runSaved(saved, statement, &run) else { return false }
            if top { engine.session.training.record(statement) }
            return true
        }
        if let play = statement.command as? PlayCommand {
            guard try self.play(play, statement, from: origin?.file ?? script.file, &run) else { return false }
            if top { engine.session.training.record(statement) }
            return true
        }
        if let lesson = statement.command as? LessonCommand {
            guard try self.lesson(lesson, statement, from: origin?.file ?? script.file, &run) else { return false }
            if top { engine.session.training.record(statement) }
            return true
        }
        return nil
    }

    /// Runs one statement of `script`, as typed: an `include`, `run`, `play` or `lesson` runs the
    /// statements it names; anything else goes to the engine.
    /// - Returns: what it did, or nil to stop (it failed, or asked to leave).
    func runOne(_ statement: ParsedStatement, of script: Script, origin: Diagnostic.Origin?, top: Bool, _ run: inout Run) -> CommandResult? {
        // Comments typed before the statement reach a recording first.
        if top { engine.session.training.narrate(upTo: statement.range.start.line) }
        do {
            // Told apart by type first: six casts a statement were 1.5% of a script of quick reads.
            if Self.runnerCommands.contains(ObjectIdentifier(type(of: statement.command))),
                let goOn = try runRunnerStatement(statement, of: script, origin: origin, top: top, &run)
            {
                return goOn ? CommandResult() : nil
            }
            willRun?(statement)
            let result: CommandResult
            if run.summarising, statement.changesData {
                // One line per change: where it is, and what it would do.
                let captured = StringOutput()
                result = try engine.execute(statement, output: captured)
                if let summary = result.summary {
                    let place = "\((origin?.file ?? script.file).map { $0 + ":" } ?? "line ")\(statement.range.start.line)"
                    run.output.line("\(place): \(summary) — \(Self.abridged(statement.text))")
                } else {
                    run.output.write(captured.text)
                }
            } else {
                result = try engine.execute(statement, output: run.output)
            }
            // `--exit-code` on the command line, or on the command itself.
            if (run.exitCodeForDryRun || statement.hasOption("exit-code")), result.dryRunChanges { run.outcome.dryRunChanges = true }
            if (run.exitCodeForDryRun || statement.hasOption("exit-code")), result.applied { run.outcome.applied = true }
            didRun?(statement, result)
            if top { engine.session.training.record(statement) }
            if result.quit {
                run.outcome.quit = true
                return nil
            }
            return result
        } catch {
            if endsQuietly?(error) != true { run.fail(origin.map { error.located(in: $0) } ?? error, report) }
            return nil
        }
    }

    /// A statement's first line, cut to a readable length.
    static func abridged(_ text: String) -> String {
        let line = text.prefix { $0 != "\n" }
        let cut = line.count > 60 ? line.prefix(59) + "…" : line
        return String(cut) + (line.count < text.count && line.count <= 60 ? " …" : "")
    }

    /// Leaving the interactive shell with a transaction open: commits or rolls it back as the
    /// user answered, audited as done on leaving.
    public static func leave(_ engine: Engine, commit: Bool, output: OutputSink) throws {
        try engine.endTransaction(
            commit: commit,
            closing: engine.sessionEntry(
                commit ? "commit (on leaving the shell)" : "rollback (on leaving the shell)", outcome: commit ? .ok : .rolledBack))
        output.line(commit ? "committed" : "rolled back")
    }

    /// At the end of non-interactive input: a transaction that `begin` opened and nothing
    /// committed is rolled back and audited, and the input fails (psql's ON_ERROR_STOP habit);
    /// read entries still waiting for the lock are written or spooled.
    /// - Returns: the error to report, if the input failed here.
    public static func finishInput(_ engine: Engine) -> Diagnostic? {
        guard engine.finish(closing: "rollback (end of input with the transaction still open)") else { return nil }
        return Diagnostic(
            .transactionLeftOpen,
            "the transaction opened with `begin` was never committed: it was rolled back and nothing of it was kept",
            help: "end the transaction with commit (or rollback) before the input ends")
    }
}
