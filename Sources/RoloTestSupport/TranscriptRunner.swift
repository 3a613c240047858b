import Foundation
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax

/// Runs a `.rolo` transcript through the interactive shell's own input loop
/// (`Shell.runInteractive`) and produces its expected-output text, psql regression style: each
/// command echoed after a prompt, then its output or its error.
///
/// A `TranscriptReader` plays the file's lines to the loop as a person would type them, so where a
/// command ends (a line, plus continuation lines while the parser says the input is unfinished) is
/// decided by the shell, not here. Comment lines are echoed. A line `# @user HANDLE` switches the
/// acting user for what follows; `# @read-only HANDLE` does too, on the same file opened read-only:
/// each ends the loop's input there, and the runner starts it again on a new engine. A line
/// `# @file PATH` shows a file a command wrote, line by line after `| `. As in a script,
/// large changes are not confirmed, and a file that ends inside a command reports it. A file
/// whose first line is `# @sandbox` is run on a sandbox (`SampleDatabase.sandboxCopy`: the sample
/// company made a sandbox as `rolo demo` makes one); the others on the plain sample company.
public struct TranscriptRunner {
    /// The first line of a transcript that runs in a sandbox.
    public static let sandboxDirective = "# @sandbox"

    public init() {}

    public func run(_ source: String, databasePath: String) throws -> String {
        let store = try CRMStore.open(path: databasePath)
        var engine = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        let reader = TranscriptReader(source)
        // Lessons' progress in a folder of this run's own; the lessons Rolo comes with from the
        // working folder (the package root).
        let progressFolder = try SampleDatabase.temporaryFolder()
        while true {
            // A transcript is a file: nobody is there to answer "update 52 contacts? [y/N]", and it
            // was recorded as a script runs, without asking (transcripts do not `set confirm`).
            engine.session.settings.confirmThreshold = Int.max
            // `play --auto` and `--typing` do not wait.
            engine.session.training.sleep = { _ in }
            engine.session.training.lessonsFolder = "lessons"
            engine.session.training.progressFolder = progressFolder
            let output = StringOutput()
            // Errors in one stream with the output, in the order they were written (a play's step
            // errors between its steps).
            let errors = output
            let shell = Shell(engine: engine, output: output, errors: errors)
            shell.onCommandLineEnd = { status in reader.recordOutput(output, errors, status: status) }
            // Inside a command that asks (play's steps, a lesson's tasks), what it printed so far
            // goes before the next line read.
            reader.drain = {
                defer {
                    output.clear()
                    errors.clear()
                }
                return output.text
            }
            // A file that ends inside a command: the interactive loop drops the unfinished text at
            // Ctrl-D; a transcript, like a script, reports it.
            reader.onEndInsideCommand = { text in
                let status = shell.runSource(text, file: nil)
                reader.recordOutput(output, errors, status: status)
            }
            shell.runInteractive(reader: reader)
            reader.onEndInsideCommand = nil
            switch reader.takeDirective() {
            case nil:
                return reader.transcript
            case .user(let handle):
                engine = try Engine(store: store, clock: SampleDatabase.clock, user: handle)
            case .readOnly(let handle):
                // The same file opened read-only, as a user without write permission would.
                let readOnly = try CRMStore.open(path: databasePath, readOnly: true)
                engine = try Engine(store: readOnly, clock: SampleDatabase.clock, user: handle)
            }
        }
    }
}

/// Plays a transcript's lines to the shell's input loop and writes the transcript as it goes: each
/// line handed to the shell after the prompt it was asked for (`rolo> ` for a new command, `  ..> `
/// for a continuation line), each comment as it is, and — through `recordOutput` — what each command
/// printed.
///
/// At a new command's prompt, blank lines are skipped, comments echoed and handed on as typed (a
/// recording keeps them), and a `# @user` or `# @read-only` directive ends the input so the runner
/// can switch engines. At a question (`play`'s step, a confirmation) a line `# @answer TEXT` is
/// the answer typed (`# @answer` alone: Enter); without one the question gets no answer.
public final class TranscriptReader: LineReader {
    public enum Directive: Equatable, Sendable {
        case user(String)
        case readOnly(String)
    }

    public private(set) var transcript = ""
    /// Called when the file ends while the shell waits for a continuation line, with the unfinished text.
    public var onEndInsideCommand: ((String) -> Void)?
    private var lines: ArraySlice<String>
    private var pending: [String] = []
    private var directive: Directive?
    /// Takes what the shell printed since the last line was read (set by the runner).
    public var drain: (() -> String)?
    private var endedInsideCommand = false
    /// The line handed on was a comment: its (empty) output adds no blank line.
    private var handedComment = false

    public init(_ source: String) {
        var lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        self.lines = lines[...]
    }

    /// Whether the shell's prompt asks for a continuation line (`   ..> `) rather than a new command.
    public static func isContinuation(_ prompt: String) -> Bool {
        prompt.trimmingCharacters(in: .whitespaces) == "..>"
    }

    /// Whether the shell's prompt asks for a new command (`admin@crm.db> `, `… [dry-run] *> `).
    public static func isCommandPrompt(_ prompt: String) -> Bool {
        prompt.hasSuffix("> ") && prompt.contains("@")
    }

    public func readLine(prompt: String) -> LineInput {
        // After a file that ended inside a command was reported, the shell only leaves.
        if endedInsideCommand { return .endOfInput }
        if let printed = drain?() { transcript += printed }
        if Self.isContinuation(prompt) {
            guard let line = lines.popFirst() else {
                let text = pending.joined(separator: "\n")
                pending = []
                onEndInsideCommand?(text)
                endedInsideCommand = true
                return .endOfInput
            }
            transcript += "  ..> " + line + "\n"
            pending.append(line)
            return .line(line)
        }
        guard Self.isCommandPrompt(prompt) else {
            // A question: answered by a `# @answer` line; otherwise (a confirmation, "commit it?")
            // never, so the question and its "no" show in the transcript.
            if let next = lines.first?.trimmingCharacters(in: .whitespaces), next == "# @answer" || next.hasPrefix("# @answer ") {
                lines.removeFirst()
                let answer = String(next.dropFirst("# @answer".count).drop { $0 == " " })
                transcript += prompt + answer + "\n"
                return .line(answer)
            }
            transcript += prompt + "(no answer)\n"
            return .endOfInput
        }
        while let line = lines.popFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("# @user ") {
                return end(line, .user(String(trimmed.dropFirst("# @user ".count))))
            }
            if trimmed.hasPrefix("# @read-only ") {
                return end(line, .readOnly(String(trimmed.dropFirst("# @read-only ".count))))
            }
            if trimmed.hasPrefix("# @file ") {
                transcript += line + "\n" + Self.fileText(String(trimmed.dropFirst("# @file ".count))) + "\n"
                continue
            }
            if trimmed.hasPrefix("#") {
                transcript += line + "\n"
                handedComment = true
                return .line(line)
            }
            transcript += "rolo> " + line + "\n"
            pending = [line]
            handedComment = false
            return .line(line)
        }
        return .endOfInput
    }

    /// A file a command wrote, shown in the transcript (`# @file PATH`): each line after `| `,
    /// so its last line's end and an empty file show too.
    static func fileText(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no file \(path))\n" }
        let bom = data.starts(with: [0xEF, 0xBB, 0xBF])
        guard let text = String(data: bom ? data.dropFirst(3) : data, encoding: .utf8) else {
            return "(not UTF-8: \(data.count) bytes)\n"
        }
        var shown = bom ? "(a byte order mark)\n" : ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let endsWithNewline = lines.last == ""
        if endsWithNewline { lines.removeLast() }
        for line in lines { shown += "| " + line + "\n" }
        if !endsWithNewline { shown += "(no line end after the last line)\n" }
        return shown
    }

    private func end(_ line: String, _ next: Directive) -> LineInput {
        transcript += line + "\n\n"
        directive = next
        return .endOfInput
    }

    public func addHistory(_ line: String) {}

    /// Appends what the command printed (output, then errors, unless they are one stream) and a
    /// failing status, then empties both.
    public func recordOutput(_ output: StringOutput, _ errors: StringOutput, status: ExitStatus) {
        if handedComment, output.text.isEmpty, errors.text.isEmpty, status == .success {
            handedComment = false
            return
        }
        handedComment = false
        transcript += output.text + (errors === output ? "" : errors.text)
        if status != .success { transcript += "(exit status \(status.rawValue))\n" }
        output.clear()
        errors.clear()
        transcript += "\n"
        pending = []
    }

    /// The directive that ended the input, if one did; cleared.
    public func takeDirective() -> Directive? {
        defer { directive = nil }
        return directive
    }
}
