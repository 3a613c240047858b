import RoloStore
import RoloSyntax

/// `dry-run`: preview every change and roll it back.
///
///     dry-run := 'dry-run' [ 'on' | 'off' ]
struct DryRunCommand: Command {
    var on: Bool?

    static let name = "dry-run"
    static let forms = [
        form("dry-run") { parser, _ throws(Diagnostic) in
            if parser.acceptWord("on") { return DryRunCommand(on: true) }
            if parser.acceptWord("off") { return DryRunCommand(on: false) }
            return DryRunCommand(on: nil)
        }
    ]
    static let synopsis = "dry-run [on|off]"
    static let summary = "Preview every change and roll it back; the prompt shows it."
    static let examples = ["dry-run on", "dry-run off"]

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        engine.session.settings.dryRun = on ?? !engine.session.settings.dryRun
        context.output.line("dry-run is \(engine.session.settings.dryRun ? "on: changes are previewed and rolled back" : "off")")
        return CommandResult()
    }
}
