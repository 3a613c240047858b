import Foundation
import RoloStore
import RoloSyntax

// `play` and `lesson`, run by the ScriptRunner: each step's command goes through `runOne`, as the
// same command typed at the prompt would (the player's own permissions, audited as usual, each
// on its own unless a transaction is open). What the person at the terminal answers comes
// through `TrainingSession.terminal`.

extension ScriptRunner {
    /// What the person answered at a step.
    enum StepAnswer {
        case run, skip, back, stop
    }

    // MARK: - play

    /// `play FILE [--auto SECONDS] [--typing]`.
    /// - Returns: whether to go on (false after a failed step of an unattended play, or `quit`).
    func play(_ command: PlayCommand, _ statement: ParsedStatement, from including: String?, _ run: inout Run) throws -> Bool {
        let auto = try Self.autoSeconds(statement)
        let terminal = engine.session.training.terminal
        if auto == nil, terminal == nil {
            throw Diagnostic(
                .usage, "play asks before each step, and nobody is there to answer (a script, -c or piped input)",
                at: statement.range, help: "play \(command.path.value) --auto 0 plays every step without asking")
        }
        let lesson = try Lesson.load(command.path, from: including, what: "file to play")
        if lesson.taskCount > 0 {
            throw Diagnostic(
                .usage, "\(lesson.path) is a lesson: it asks the learner to do things", at: command.path.range,
                help: "lesson \(command.path.value) takes it")
        }
        let typing = statement.hasOption("typing")
        let total = lesson.steps.count
        // Ctrl-C from here on stops the play (an earlier one is forgotten).
        engine.session.interruption.clear()
        var index = 0
        while index < total {
            let step = lesson.steps[index]
            show(step, header: "step \(index + 1) of \(total)", run)
            guard case .command(let next) = step.kind else {
                index += 1
                continue
            }
            try showCommand(next, typing: typing, run, step: index, of: total)
            if let auto {
                guard runOne(next, of: lesson.script, origin: lesson.script.origin, top: false, &run) != nil else {
                    if !run.outcome.quit { run.errors.line("play stopped at step \(index + 1) of \(total)") }
                    return false
                }
                index += 1
                if index < total {
                    flush(run)
                    guard pause(auto) else { throw interrupted(at: index, of: total) }
                }
                continue
            }
            if let ended = answer(next, of: lesson, index: &index, &run, stopped: { "stopped at step \($0 + 1) of \(total)" }) {
                return ended
            }
            run.output.line()
        }
        run.output.line("end of \(lesson.path)")
        return true
    }

    /// `--auto SECONDS`, when given.
    static func autoSeconds(_ statement: ParsedStatement) throws -> Double? {
        guard let option = statement.option("auto") else { return nil }
        guard let text = option.value, let seconds = Double(text.value), seconds >= 0, seconds <= 3600 else {
            throw Diagnostic(
                .invalidValue, "--auto takes the seconds to wait between steps, from 0 to 3600", at: option.value?.range ?? option.name.range)
        }
        return seconds
    }

    /// A step's heading and narration.
    private func show(_ step: Lesson.Step, header: String, _ run: Run) {
        run.output.line("── \(header) ──")
        for line in step.narration { run.output.line(line) }
    }

    /// The command after the prompt, as if typed; with `typing`, a character at a time (Ctrl-C
    /// stops the play).
    private func showCommand(_ statement: ParsedStatement, typing: Bool, _ run: Run, step: Int, of total: Int) throws {
        run.output.write(TerminalText.safe(engine.prompt()))
        guard typing else {
            run.output.line(statement.text)
            return
        }
        for character in statement.text {
            run.output.write(TerminalText.safe(String(character), keepingLineBreaks: true))
            flush(run)
            guard pause(engine.session.training.typingDelay) else {
                run.output.line()
                throw interrupted(at: step, of: total)
            }
        }
        run.output.line()
    }

    /// Waits `seconds`; false when Ctrl-C came meanwhile.
    private func pause(_ seconds: Double) -> Bool {
        if let sleep = engine.session.training.sleep {
            sleep(seconds)
        } else {
            var left = seconds
            while left > 0, !engine.session.interruption.isRequested {
                let slice = min(left, 0.1)
                Thread.sleep(forTimeInterval: slice)
                left -= slice
            }
        }
        return !engine.session.interruption.isRequested
    }

    private func interrupted(at index: Int, of total: Int) -> Diagnostic {
        Diagnostic(.interrupted, "play stopped at step \(index + 1) of \(total): interrupted", help: "the steps before it ran and are kept")
    }

    private func flush(_ run: Run) {
        if let terminal = engine.session.training.terminal {
            terminal.flush()
        } else {
            (run.output as? FileOutput)?.flush()
        }
    }

    /// Asks what to do with the step shown: Enter runs it, `s` skips, `b` goes back, `q` stops.
    /// Asks what to do with a step's command and does it: nil to go on (`index` moved to the next
    /// step, or back one), or how playing ended — false when the command ended the session
    /// (`quit`), true when the person stopped (`stopped` says where).
    private func answer(
        _ next: ParsedStatement, of lesson: Lesson, index: inout Int, _ run: inout Run, stopped: (Int) -> String
    ) -> Bool? {
        switch ask(allowsBack: index > 0, run) {
        case .run:
            if runOne(next, of: lesson.script, origin: lesson.script.origin, top: false, &run) == nil, run.outcome.quit { return false }
            index += 1
        case .skip:
            run.output.line("(skipped)")
            index += 1
        case .back:
            index -= 1
        case .stop:
            run.output.line(stopped(index))
            return true
        }
        return nil
    }

    private func ask(allowsBack: Bool, _ run: Run) -> StepAnswer {
        guard let terminal = engine.session.training.terminal else { return .stop }
        let back = allowsBack ? "b goes back · " : ""
        let question = "Enter runs it · s skips · \(back)q stops: "
        while true {
            switch terminal.readLine(prompt: question) {
            case .end:
                run.output.line()  // after ^D
                return .stop
            case .interrupted:
                return .stop
            case .line(let answer):
                switch answer.trimmingCharacters(in: .whitespaces).lowercased() {
                case "": return .run
                case "s", "skip": return .skip
                case "b", "back":
                    if allowsBack { return .back }
                    run.output.line("this is the first step")
                case "q", "quit", "stop": return .stop
                default: run.output.line("Enter runs the step, s skips it, b goes back one step, q stops playing")
                }
            }
        }
    }

    // MARK: - lesson

    /// `lesson FILE|NAME [--restart]`.
    /// - Returns: whether to go on.
    func lesson(_ command: LessonCommand, _ statement: ParsedStatement, from including: String?, _ run: inout Run) throws -> Bool {
        let training = engine.session.training
        guard let terminal = training.terminal else {
            throw Diagnostic(
                .usage, "a lesson asks the learner to type commands: it works in the interactive shell", at: statement.range,
                help: "open the shell (rolo --db FILE) and type lesson \(command.path.value)")
        }
        guard !training.inLesson else {
            throw Diagnostic(
                .usage, "a lesson is under way: one lesson at a time", at: statement.range, help: "quit this lesson first (your place is kept)")
        }
        let lesson = try Lesson.load(command.path, from: including, what: "lesson", lessonsFolder: training.lessonsFolder)
        try lesson.validateExpects(engine)
        training.inLesson = true
        defer { training.inLesson = false }
        let progressFile = LessonProgress.file(for: lesson.path, user: engine.access.actor.handle, in: training.progressFolder)
        let digest = LessonProgress.digest(lesson.script.bytes)
        var progress = LessonProgress(digest: digest)
        if !statement.hasOption("restart"), let kept = LessonProgress.load(progressFile, digest: digest) {
            if kept.step > lesson.steps.count {
                run.output.line("you finished this lesson before; it starts again")
            } else if kept.step > 1 {
                progress = kept
                run.output.line(
                    "continuing at step \(kept.step) of \(lesson.steps.count) (\(kept.done.count) of \(lesson.taskCount) tasks done; --restart starts again)")
                // Values the skipped steps computed (`let`) are computed again, quietly.
                var quiet = Run(output: StringOutput(), errors: run.errors)
                for step in lesson.steps.prefix(kept.step - 1) {
                    if case .command(let earlier) = step.kind, earlier.command is LetCommand || earlier.command is ParamCommand {
                        _ = runOne(earlier, of: lesson.script, origin: lesson.script.origin, top: false, &quiet)
                    }
                }
            }
        }
        func keep() {
            do {
                try progress.save(to: progressFile, lesson: lesson.path, user: engine.access.actor.handle, protected: engine.protectedFiles)
            } catch {
                run.errors.line("rolo: warning: the lesson's progress could not be kept in \(progressFile): \(error)")
            }
        }
        let total = lesson.steps.count
        var index = progress.step - 1
        while index < total {
            let step = lesson.steps[index]
            switch step.kind {
            case .closing:
                show(step, header: "step \(index + 1) of \(total)", run)
                index += 1
            case .command(let next):
                show(step, header: "step \(index + 1) of \(total)", run)
                try showCommand(next, typing: false, run, step: index, of: total)
                if let ended = answer(next, of: lesson, index: &index, &run, stopped: { stopped(at: $0, lesson, command) }) {
                    return ended
                }
                run.output.line()
            case .task(let task):
                show(step, header: "task \(task.number) of \(lesson.taskCount) · step \(index + 1) of \(total)", run)
                run.output.line("Task: \(task.text)")
                run.output.line("(type commands to do it; hint shows a hint, skip moves on, quit stops — your place is kept)")
                switch attempt(task, of: lesson, terminal: terminal, &run) {
                case .done:
                    if !progress.done.contains(task.number) { progress.done.append(task.number) }
                    index += 1
                case .skipped:
                    index += 1
                case .stopped:
                    run.output.line(stopped(at: index, lesson, command))
                    return true
                case .left:
                    return false
                }
                run.output.line()
            }
            progress.step = index + 1
            keep()
        }
        run.output.line("Lesson finished: \(progress.done.count) of \(lesson.taskCount) tasks done.")
        return true
    }

    private func stopped(at index: Int, _ lesson: Lesson, _ command: LessonCommand) -> String {
        "stopped at step \(index + 1) of \(lesson.steps.count); lesson \(command.path.value) continues from here"
    }

    enum TaskOutcome {
        case done, skipped, stopped
        /// The learner typed `quit`'s command in a way that leaves the shell.
        case left
    }

    /// The learner's tries at a task: commands typed and run, each answer checked, the hint shown
    /// after a wrong try.
    private func attempt(_ task: Lesson.Task, of lesson: Lesson, terminal: any TrainingTerminal, _ run: inout Run) -> TaskOutcome {
        func showHint() {
            if task.hints.isEmpty {
                run.output.line("(no hint for this task)")
            } else {
                for hint in task.hints { run.output.line("Hint: \(hint)") }
            }
        }
        while true {
            let prompt = engine.prompt(note: "lesson \(task.number)/\(lesson.taskCount)")
            let first: String
            switch terminal.readLine(prompt: prompt) {
            case .line(let text): first = text
            case .interrupted: continue  // Ctrl-C clears the line
            case .end:
                run.output.line()  // after ^D
                return .stopped
            }
            let word = first.trimmingCharacters(in: .whitespaces).lowercased()
            switch word {
            case "": continue
            case "hint":
                showHint()
                continue
            case "skip":
                run.output.line("(skipped)")
                return .skipped
            case "quit", "q", "exit":
                return .stopped
            default:
                break
            }
            // The command, with continuation lines while it is unfinished.
            var source = first
            let script: Script
            do {
                script = try readScript(&source, terminal: terminal, prompt: prompt)
            } catch TypedLine.stopped {
                return .stopped
            } catch TypedLine.cancelled {
                continue
            } catch {
                terminal.addHistory(source)
                terminal.report(error, source: source)
                showHint()
                continue
            }
            terminal.addHistory(source)
            if script.statementCount == 0 { continue }  // a comment
            var line = Run(output: run.output, errors: run.errors)
            line.report = { [terminal] error in terminal.report(error, source: source) }
            var answer: (ParsedStatement, CommandResult)? = nil
            var statements = script.statements()
            var failed = false
            while let next = try? statements.next() {
                guard let result = runOne(next, of: script, origin: nil, top: false, &line) else {
                    failed = true
                    break
                }
                if task.isAnswered(by: next) { answer = (next, result) }
            }
            if line.outcome.quit {
                run.outcome.quit = true
                return .left
            }
            if failed {
                showHint()
                continue
            }
            // A command that does not answer the task (a look around: show, help, a read while
            // the task asks for a change) is no try.
            guard let (statement, result) = answer else { continue }
            var shortfall: String? = nil
            for expect in task.expects {
                do {
                    shortfall = try expect.shortfall(engine, answer: statement, result: result)
                } catch {
                    shortfall = ""
                }
                if shortfall != nil { break }
            }
            guard let shortfall else {
                run.output.line("✓ Done: \(task.text)")
                return .done
            }
            run.output.line(shortfall.isEmpty ? "✗ Not yet." : "✗ Not yet: \(shortfall)")
            showHint()
        }
    }

    /// A learner's line could not become a script: the line was stopped or cancelled.
    enum TypedLine: Error {
        case stopped, cancelled
    }

    /// `source` as a script, reading continuation lines while the parser says it is unfinished.
    private func readScript(_ source: inout String, terminal: any TrainingTerminal, prompt: String) throws -> Script {
        while true {
            do {
                return try Script(source, file: nil)
            } catch {
                guard error.isUnfinished else { throw error }
                switch terminal.readLine(prompt: engine.continuationPrompt(under: prompt)) {
                case .line(let more): source += "\n" + more
                case .interrupted: throw TypedLine.cancelled
                case .end: throw TypedLine.stopped
                }
            }
        }
    }
}
