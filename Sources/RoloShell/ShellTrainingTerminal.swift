import RoloEngine

/// The interactive shell as `play`'s and `lesson`'s terminal: it reads a line after a prompt (ending
/// the pager first), keeps a learner's commands in history, and renders errors. What is asked, and
/// what answers do, is the engine's (RoloEngine/Training).
final class ShellTrainingTerminal: TrainingTerminal {
    private unowned let shell: Shell
    private let reader: LineReader

    init(shell: Shell, reader: LineReader) {
        self.shell = shell
        self.reader = reader
    }

    func readLine(prompt: String) -> TrainingInput {
        shell.flush()
        switch reader.readLine(prompt: prompt) {
        case .line(let line): return .line(line)
        case .interrupted: return .interrupted
        case .endOfInput: return .end
        }
    }

    func addHistory(_ line: String) { reader.addHistory(line) }

    func report(_ error: any Error, source: String) { shell.report(error, source: source, file: nil) }

    func flush() { shell.flush() }
}
