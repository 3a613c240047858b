import Foundation
import RoloSyntax

/// A line the person at the terminal typed during `play` or `lesson`.
public enum TrainingInput: Sendable, Equatable {
    case line(String)
    /// Ctrl-C.
    case interrupted
    /// Ctrl-D, or the end of input.
    case end
}

/// The person at the terminal, for `play`'s and `lesson`'s questions: the interactive shell's
/// line reader, behind this small interface (the shell reads lines and renders errors; what is
/// asked, and what the answers do, is the engine's). Nil outside the interactive shell: scripts,
/// `-c` and piped input have nobody to ask (`play … --auto` needs nobody).
public protocol TrainingTerminal: AnyObject {
    /// Shows the output so far (ending any pager), then `prompt`, and reads one line.
    func readLine(prompt: String) -> TrainingInput
    /// A command the learner typed, kept for Up to recall.
    func addHistory(_ line: String)
    /// Shows `error` about `source`, a line the learner typed, as the shell shows errors.
    func report(_ error: any Error, source: String)
    /// Shows the output so far (a step's pause, each character typed out).
    func flush()
}

/// The session's training state: the recording under way, the terminal to ask, how to wait,
/// and where lessons and their progress are.
public final class TrainingSession {
    /// Set by the interactive shell while it runs.
    public var terminal: (any TrainingTerminal)?
    /// Waits `seconds` (between `--auto` steps, between the characters `--typing` types); nil (the
    /// default) sleeps a tenth of a second at a time until Ctrl-C. Tests wait for nothing.
    public var sleep: ((Double) -> Void)? = nil
    /// Seconds between two characters of a command typed out (`play --typing`): about 25
    /// characters a second, a fast typist a class can still read along with.
    public var typingDelay = 0.04
    /// The lessons Rolo comes with (`lessons`; `lesson NAME`): `$ROLO_LESSONS`, else a `lessons`
    /// folder in the working folder or above the `rolo` executable.
    public var lessonsFolder: String? = TrainingSession.defaultLessonsFolder()
    /// Where lesson progress is kept: `$XDG_STATE_HOME/rolo/lessons`, else
    /// `~/.local/state/rolo/lessons`.
    public var progressFolder: String = TrainingSession.defaultProgressFolder()

    /// `record FILE` … `stop`: what is kept so far.
    struct Recording {
        let path: Located<String>
        let overwrite: Bool
        /// The lines of the file: commands as typed, `# comments`.
        var lines: [String] = []
        var commands = 0
        var comments = 0
    }
    var recording: Recording?
    /// A lesson is being taken (one at a time).
    var inLesson = false
    /// The comment lines of the line being run (only while recording): narration, kept in order
    /// with the statements around them.
    private var pendingComments: [(line: Int, text: String)] = []

    public init() {}

    /// Whether `record` is under way.
    public var isRecording: Bool { recording != nil }

    // MARK: - Recording

    /// The text being run now (nil when it is done): its comment lines wait for `narrate`.
    func typed(_ script: Script?) {
        guard recording != nil, let script else {
            pendingComments = []
            return
        }
        pendingComments = Self.commentLines(script.bytes)
    }

    /// Keeps the comments typed before line `line` (all that are left, when nil).
    func narrate(upTo line: Int?) {
        guard recording != nil, !pendingComments.isEmpty else { return }
        let due = pendingComments.prefix { line == nil || $0.line < line! }
        pendingComments.removeFirst(due.count)
        for comment in due {
            recording?.lines.append(comment.text)
            recording?.comments += 1
        }
    }

    /// Keeps a statement typed at the prompt that ran without error: not `record`, `stop` or
    /// `quit` (a recording played back would stop, or leave the shell).
    func record(_ statement: ParsedStatement) {
        guard recording != nil else { return }
        let unit = statement.unit
        if unit is RecordCommand || unit is StopCommand || unit is QuitCommand { return }
        recording?.lines.append(statement.text)
        recording?.commands += 1
    }

    /// The whole-line comments of a text, with their line numbers, as typed (`# …`).
    static func commentLines(_ bytes: [UInt8]) -> [(line: Int, text: String)] {
        var found: [(line: Int, text: String)] = []
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("#"), !text.hasPrefix("#!") { found.append((index + 1, text)) }
        }
        return found
    }

    // MARK: - Folders

    static func defaultLessonsFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let folder = environment["ROLO_LESSONS"], !folder.isEmpty { return folder }
        var candidates = [FileManager.default.currentDirectoryPath + "/lessons"]
        // Above the executable: a build in .build/…/debug/rolo finds the repository's lessons.
        var folder = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.appendingPathComponent("lessons").path)
            candidates.append(folder.appendingPathComponent("share/rolo/lessons").path)
            folder = folder.deletingLastPathComponent()
        }
        return candidates.first { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
        }
    }

    static func defaultProgressFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let base = environment["XDG_STATE_HOME"], base.hasPrefix("/") { return base + "/rolo/lessons" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/rolo/lessons"
    }
}

extension Engine {
    /// The prompt for a new command, as the interactive shell shows it: `admin@crm.db> `, with
    /// `(sandbox)` in a sandbox, `[dry-run]` when previews are on, `*` inside a transaction, and a `note` (`lesson 2/5`).
    public func prompt(note: String? = nil) -> String {
        var text = "\(access.actor.handle)@\(URL(fileURLWithPath: store.path).lastPathComponent)"
        if session.isSandbox { text += " (sandbox)" }
        if session.settings.dryRun { text += " [dry-run]" }
        if transactions.isOpen { text += " *" }
        if let note { text += " " + note }
        return text + "> "
    }

    /// A continuation line's prompt, under `prompt`.
    public func continuationPrompt(under prompt: String) -> String {
        String(repeating: " ", count: max(0, prompt.count - 4)) + "..> "
    }
}
