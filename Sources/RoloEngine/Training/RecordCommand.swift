import RoloStore
import RoloSyntax

/// `record FILE`: start keeping what is typed at the prompt, for `play FILE` to play back — the
/// commands that ran without error (not `record`, `stop` or `quit`), and `# comments` as the
/// narration before the next command. The file is written at `stop`, or when the shell ends.
///
///     record := 'record' (STRING | PATH)          options: --force (replace an existing file)
struct RecordCommand: Command {
    var path: Located<String>

    static let name = "record"
    static let forms = [
        form("record") { parser, _ throws(Diagnostic) in
            RecordCommand(path: try parser.parseWordPath(what: "a file to record to, e.g. record new-rep-demo.rolo"))
        }
    ]
    static let synopsis = "record FILE.rolo [--force]"
    static let summary =
        "Record a lesson: the commands typed at the prompt that succeed, and # comments as narration; stop (or leaving the shell) writes FILE, which play FILE plays back."
    static let examples: [String] = []

    func run(_ context: CommandContext) throws -> CommandResult {
        let training = context.session.training
        if let current = training.recording {
            throw Diagnostic(
                .alreadyRecording, "already recording to \(current.path.value)", at: context.statement.range,
                help: "stop writes that recording; then record again")
        }
        guard training.terminal != nil else {
            throw Diagnostic(
                .usage, "record keeps what is typed at the prompt: it works in the interactive shell", at: context.statement.range,
                help: "a script is a recording already: play FILE --auto 0 plays it step by step")
        }
        let overwrite = context.statement.hasOption("force")
        // Checked now, so a recording that could not be written is refused before anything is typed.
        do {
            try OutputFile.check(path: path.value, kind: .recording, overwrite: overwrite, protected: context.engine.protectedFiles)
        } catch {
            throw error.diagnostic(path, outcome: "nothing is recorded", example: "lesson.rolo")
        }
        training.recording = TrainingSession.Recording(path: path, overwrite: overwrite)
        context.output.line("recording to \(path.value): the commands that succeed, and # comments as narration; stop writes the file")
        return CommandResult()
    }
}

/// `stop`: end the recording and write its file.
///
///     stop := 'stop'                               options: --force (replace an existing file)
struct StopCommand: Command {
    static let name = "stop"
    static let forms = [form("stop") { _, _ throws(Diagnostic) in StopCommand() }]
    static let synopsis = "stop [--force]"
    static let summary = "End the recording record started and write its file (--force replaces a file that appeared meanwhile)."
    static let examples: [String] = []

    func run(_ context: CommandContext) throws -> CommandResult {
        guard context.session.training.isRecording else {
            throw Diagnostic(
                .notRecording, "nothing is being recorded", at: context.statement.range,
                help: "record FILE.rolo starts a recording; stop ends it")
        }
        try context.session.training.writeRecording(
            overwrite: context.statement.hasOption("force"), protected: context.engine.protectedFiles, output: context.output)
        return CommandResult()
    }
}

extension TrainingSession {
    /// Writes the recording through the one output-file policy (`OutputFile`) and ends it; when it
    /// cannot be written, the recording goes on (nothing typed is lost) and the error says why.
    func writeRecording(overwrite: Bool, protected: OutputFile.Protected, output: OutputSink) throws {
        guard let recording else { return }
        let replace = overwrite || recording.overwrite
        do {
            let file = try OutputFile(path: recording.path.value, kind: .recording, overwrite: replace, protected: protected)
            for line in recording.lines { file.write(line + "\n") }
            try file.commit(overwrite: replace)
        } catch {
            throw error.diagnostic(recording.path, outcome: "still recording (stop again to write it)", example: "lesson.rolo")
        }
        self.recording = nil
        let commands = Self.counted(recording.commands, "command")
        let comments = Self.counted(recording.comments, "comment")
        output.line("wrote \(recording.path.value): \(commands) and \(comments) (play \(recording.path.value) plays it back)")
    }

    /// `1 command`, `2 commands`.
    static func counted(_ n: Int, _ word: String) -> String {
        n == 1 ? "1 \(word)" : "\(n) \(word)s"
    }

    /// When the interactive shell ends: a recording still under way is written.
    public func finishRecording(_ engine: Engine, output: OutputSink) throws {
        guard isRecording else { return }
        try writeRecording(overwrite: false, protected: engine.protectedFiles, output: output)
    }
}
