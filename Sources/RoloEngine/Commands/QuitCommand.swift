import RoloStore
import RoloSyntax

/// `quit`: leave the shell.
///
///     quit := 'quit' | 'exit'
struct QuitCommand: Command {
    static let name = "quit"
    static let forms = ["quit", "exit"].map { verb in form(verb) { _, _ throws(Diagnostic) in QuitCommand() } }
    static let synopsis = "quit | exit"
    static let summary = "Leave the shell (Ctrl-D does too)."
    static let examples: [String] = []
    var isAudited: Bool { false }

    func run(_ context: CommandContext) throws -> CommandResult {
        var result = CommandResult()
        result.quit = true
        return result
    }
}
