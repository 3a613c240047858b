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
    }

    let engine: Engine
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
        var outcome = Outcome()
        var exitCodeForDryRun = false
        var wrap = false
        if case .whole(let exitCode) = mode {
            exitCodeForDryRun = exitCode
            wrap = !script.managesTransactions && !engine.inTransaction && script.statementCount > 1
        }
        func fail(_ error: any Error) {
            outcome.failed = true
            report(error)
        }
        if wrap {
            do {
                // A script's change set is listed under its file, not its first statement.
                let label = script.file.flatMap { $0 == "<stdin>" ? nil : "script \($0)" }
                try engine.beginTransaction(label: label)
            } catch {
                fail(error)
                return outcome
            }
        }
        var statements = script.statements()
        while true {
            do {
                guard let statement = try statements.next() else { break }
                willRun?(statement)
                let result = try engine.execute(statement, output: output)
                // `--exit-code` on the command line, or on the command itself.
                if (exitCodeForDryRun || statement.hasOption("exit-code")), result.dryRunChanges { outcome.dryRunChanges = true }
                didRun?(statement, result)
                if result.quit {
                    outcome.quit = true
                    break
                }
            } catch {
                if endsQuietly?(error) != true { fail(error) }
                break
            }
        }
        if wrap {
            do {
                try engine.endTransaction(commit: !outcome.failed)
                if !outcome.failed, let note = engine.transactionNote { output.line(note) }
            } catch {
                fail(error)
            }
            if outcome.failed, script.statementCount > 1 {
                errors.line("nothing was changed: the script stopped at the error and was rolled back")
            }
        }
        return outcome
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
