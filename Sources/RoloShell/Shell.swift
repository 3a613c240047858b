import Foundation
import RoloEngine
import RoloStore
import RoloSyntax

/// Runs Rolo input — interactively, from a script, or one `-c` command — through the engine,
/// rendering results to the output and errors (with carets) to the error stream.
///
/// The shell holds no SQL: it reads lines, asks the parser whether input is finished, and hands
/// complete statements to the engine.
public final class Shell {
    public let engine: Engine
    let output: OutputSink
    let errors: OutputSink
    let databaseName: String
    /// Where the interactive shell keeps settings that `set` changes (nil: not kept).
    public var settingsFile: SettingsFile?
    /// The output of the command line being run, when it may go through the pager.
    private var paged: PagedOutput?
    /// Said once per session when the pager's program is missing.
    private var pagerMissingSaid = false
    /// Told, after each command line of the interactive loop, the status a script of that line would
    /// end with (the transcript runner records it; the shell itself shows none).
    public var onCommandLineEnd: ((ExitStatus) -> Void)?
    /// Tab completion's names, read again after each command line of the interactive loop.
    public var completer: LiveCompleter?

    public init(engine: Engine, output: OutputSink, errors: OutputSink) {
        self.engine = engine
        self.output = output
        self.errors = errors
        self.databaseName = URL(fileURLWithPath: engine.store.path).lastPathComponent
    }

    // MARK: - Prompt

    /// `admin@crm.db> `, with `(sandbox)` in a sandbox (`rolo demo`), `[dry-run]` when previews
    /// are on and `*` inside a transaction.
    public var prompt: String { engine.prompt() }

    public var continuationPrompt: String { engine.continuationPrompt(under: prompt) }

    // MARK: - Running input

    /// Runs a whole source text (a `-c` command, piped input or a script file) through the
    /// engine's `ScriptRunner`: one transaction, stopped and rolled back at the first error.
    /// - Returns: the exit status.
    @discardableResult
    public func runSource(_ source: String, file: String?, exitCodeForDryRun: Bool = false) -> ExitStatus {
        let script: Script
        do {
            script = try Script(source, file: file)
        } catch {
            return report(error, source: source, file: file)
        }
        return run(script, exitCodeForDryRun: exitCodeForDryRun)
    }

    /// Runs a script file's bytes (a byte-order mark dropped, held once however long it is).
    /// - Returns: the exit status.
    @discardableResult
    public func runScript(bytes: [UInt8], file: String?, exitCodeForDryRun: Bool = false) -> ExitStatus {
        let script: Script
        do {
            script = try Script(bytes: bytes, file: file)
        } catch {
            return report(error, source: String(decoding: bytes, as: UTF8.self), file: file)
        }
        return run(script, exitCodeForDryRun: exitCodeForDryRun)
    }

    private func run(_ script: Script, exitCodeForDryRun: Bool) -> ExitStatus {
        var status = ExitStatus.success
        // The text for an error's caret line is made only when there is an error.
        let runner = ScriptRunner(engine: engine) { [unowned self] error in
            status = self.report(error, source: script.source, file: script.file)
        }
        let outcome = runner.run(script, mode: .whole(exitCodeForDryRun: exitCodeForDryRun), output: output, errors: errors)
        if !outcome.failed, outcome.dryRunChanges { return .dryRunChanges }
        if !outcome.failed, outcome.applied { return .applied }
        return status
    }

    /// At the end of non-interactive input (a script, `-c`, standard input): a transaction that
    /// `begin` opened and nothing committed is rolled back, said so, audited, and the input fails
    /// (psql's ON_ERROR_STOP habit); read entries still waiting for the lock are written or spooled.
    /// - Returns: the exit status to use instead, if the input failed here.
    public func finishNonInteractive(file: String? = nil) -> ExitStatus? {
        guard let error = ScriptRunner.finishInput(engine) else { return nil }
        return report(error, source: nil, file: file)
    }

    /// The interactive loop: read, continue unfinished input, run, repeat until quit or Ctrl-D.
    public func runInteractive(reader: LineReader) {
        // Ctrl-C while a command runs interrupts it (while editing, libedit sees it as a key).
        signal(SIGINT, SIG_IGN)
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupts.setEventHandler(handler: engine.interrupter)
        interrupts.resume()
        // A pager quit before the end of the output closes its pipe: writes then fail (EPIPE)
        // rather than end the shell.
        signal(SIGPIPE, SIG_IGN)
        defer {
            interrupts.cancel()
            signal(SIGINT, SIG_DFL)
            signal(SIGPIPE, SIG_DFL)
        }
        engine.session.confirm = { [unowned self, output] question in
            // What the command printed so far is shown (and any pager ended) before asking.
            self.paged?.finish()
            output.write(question + " [y/N] ")
            if let file = output as? FileOutput { file.flush() }
            guard case .line(let answer) = reader.readLine(prompt: "") else { return false }
            return ["y", "yes"].contains(answer.lowercased().trimmingCharacters(in: .whitespaces))
        }
        // `play` and `lesson` ask their questions through the same reader.
        engine.session.training.terminal = ShellTrainingTerminal(shell: self, reader: reader)
        defer {
            engine.session.confirm = nil
            engine.session.training.terminal = nil
            // A recording still under way is written.
            do {
                try engine.session.training.finishRecording(engine, output: output)
            } catch {
                report(error, source: nil, file: nil)
            }
            if engine.transactions.isOpen {
                var commit = false
                if case .line(let answer) = reader.readLine(prompt: "a transaction is open: commit it? [y/N] ") {
                    commit = ["y", "yes"].contains(answer.lowercased().trimmingCharacters(in: .whitespaces))
                }
                do {
                    try ScriptRunner.leave(engine, commit: commit, output: output)
                } catch {
                    report(error, source: nil, file: nil)
                }
            }
            engine.finish()
            flush()
        }
        var buffer = ""
        while true {
            flush()
            let input = reader.readLine(prompt: buffer.isEmpty ? prompt : continuationPrompt)
            switch input {
            case .endOfInput:
                if !buffer.isEmpty {
                    buffer = ""
                    output.line("")
                    continue
                }
                output.line("")
                return
            case .interrupted:
                buffer = ""
                continue
            case .line(let line):
                buffer = buffer.isEmpty ? line : buffer + "\n" + line
                if buffer.trimmingCharacters(in: .whitespaces).isEmpty {
                    buffer = ""
                    continue
                }
                let script: Script
                do {
                    script = try Script(buffer, file: nil)
                } catch where error.isUnfinished {
                    continue  // ask for a continuation line
                } catch {
                    reader.addHistory(buffer)
                    report(error, source: buffer, file: nil)
                    buffer = ""
                    onCommandLineEnd?(.failure)
                    continue
                }
                reader.addHistory(buffer)
                let source = buffer
                buffer = ""
                var status = ExitStatus.success
                defer {
                    // A user, role or team the line created is offered by the next Tab.
                    completer?.update(engine.vocabulary())
                    onCommandLineEnd?(status)
                }
                let lineOutput = startPagedOutput() ?? output
                defer { finishPagedOutput() }
                let runner = ScriptRunner(engine: engine) { [unowned self] error in status = self.report(error, source: source, file: nil) }
                runner.willRun = { [unowned self, engine] statement in
                    // A read still producing rows when the pager is quit stops there.
                    self.paged?.onPagerGone = statement.isRead && !engine.transactions.isOpen ? { [engine] in engine.interrupt() } : nil
                }
                runner.didRun = { [unowned self] statement, _ in
                    if let setting = statement.settingName { self.saveSetting(setting) }
                }
                // The user quit the pager: nothing more to say.
                runner.endsQuietly = { [unowned self] error in
                    (error as? Diagnostic)?.code == .interrupted && self.paged?.pagerQuitEarly == true
                }
                let outcome = runner.run(script, mode: .line, output: lineOutput, errors: errors)
                if !outcome.failed, outcome.dryRunChanges { status = .dryRunChanges }
                if !outcome.failed, outcome.applied { status = .applied }
                if outcome.quit {
                    flush()
                    return
                }
            }
        }
    }

    // MARK: - Pager and settings

    /// Output for one command line that goes through the pager when it is longer than the
    /// screen: only in the interactive shell, on a terminal, with the pager on.
    private func startPagedOutput() -> PagedOutput? {
        guard let command = engine.session.settings.pager.command(), output.isTerminal,
            let size = terminalSize(STDOUT_FILENO), size.rows > 2
        else { return nil }
        let pager = PagedOutput(direct: output, rows: size.rows, width: size.columns) { [unowned self] in
            if let process = PagerProcess.start(command) { return process }
            if !self.pagerMissingSaid {
                self.pagerMissingSaid = true
                self.errors.line(
                    "rolo: the pager '\(command)' could not be started; output is shown directly (set pager off, or set pager \"less -R\")")
                (self.errors as? FileOutput)?.flush()
            }
            return nil
        }
        paged = pager
        return pager
    }

    private func finishPagedOutput() {
        paged?.finish()
        paged = nil
    }

    /// After `set` in the interactive shell: the settings a person keeps go to the settings file.
    private func saveSetting(_ name: Located<String>) {
        guard let settingsFile, let (key, value) = engine.session.savedSetting(named: name.value) else { return }
        do {
            try settingsFile.save(name: key, value: value)
        } catch {
            errors.line("rolo: warning: \(key) could not be saved in \(settingsFile.path): \(error.localizedDescription)")
        }
    }

    /// Whether error messages are coloured: `set color`, over the terminal and NO_COLOR.
    var colorsForErrors: Bool {
        switch engine.session.settings.color {
        case .auto: return errors.colors
        case .on: return errors.isTerminal
        case .off: return false
        }
    }

    /// Shows `error` (through the one `ErrorPresenter`) after the output so far.
    /// - Returns: the exit status it means.
    @discardableResult
    func report(_ error: any Error, source: String?, file: String?) -> ExitStatus {
        flush()
        let presentation = ErrorPresenter(colors: colorsForErrors).present(error, source: source, file: file)
        // `write`, not `line`: the renderer has sanitised the text, and its colour codes are Rolo's.
        errors.write(presentation.text + "\n")
        if let file = errors as? FileOutput { file.flush() }
        return presentation.status
    }

    /// Shows pending output: what the command line printed so far (ending its pager, if any),
    /// then standard output's buffer.
    func flush() {
        paged?.finish()
        if let file = output as? FileOutput { file.flush() }
    }
}

extension Statement {
    /// A read that streams rows, which may be stopped when nobody is reading them any more.
    fileprivate var isRead: Bool { unit.streamsRows }
}
