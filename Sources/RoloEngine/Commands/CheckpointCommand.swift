import Foundation
import RoloStore
import RoloSyntax

/// `checkpoint NAME`: keeps the sandbox as it is now, to come back to with `reset NAME`.
///
///     checkpoint := 'checkpoint' name [ '--force' ]
///     name       := STRING | the words, numbers, '-' and '_' up to the end of the command
///
/// Only in a sandbox (E515), only for admins (E401), outside a transaction (E503). The name is
/// letters, digits, `-` and `_` (E516); `fresh` is the state `rolo demo` made, kept by it and
/// never replaced. A name taken already is refused (E608) unless `--force`. In dry-run, nothing is
/// written. The file is `FILE.checkpoints/NAME.db` (see `Sandbox.keep`).
struct CheckpointCommand: Command {
    var checkpoint: Located<String>

    static let name = "checkpoint"
    static let forms = [
        form("checkpoint") { parser, _ throws(Diagnostic) in
            CheckpointCommand(checkpoint: try parser.parseCheckpointName(for: "checkpoint"))
        }
    ]
    static let synopsis = "checkpoint NAME [--force]"
    static let summary =
        "In a sandbox (rolo demo): keep its data as it is now under NAME, to return to with reset NAME; --force replaces a checkpoint of that name. Admins only."
    static let examples = ["checkpoint before-class"]
    static let actions: [PermissionAction] = [.grant]
    static let managesTransaction = true

    func run(_ context: CommandContext) throws -> CommandResult {
        let (engine, statement, output) = (context.engine, context.statement, context.output)
        try engine.refuseInsideTransaction("checkpoint", at: statement.range)
        try engine.requireSandbox("checkpoint")
        try engine.requireSandboxAdmin("checkpoint", at: statement.range)
        let name = checkpoint.value
        guard name != Sandbox.freshName else {
            throw Diagnostic(
                .badCheckpoint, "'\(name)' is the sandbox's fresh state, kept by rolo demo; nothing was written", at: checkpoint.range,
                help: "choose another name (reset with no name returns to fresh)")
        }
        let overwrite = statement.hasOption("force")
        let shown = Sandbox.displayPath(of: name, databasePath: engine.store.path)
        var result = CommandResult()
        if engine.isDryRun(statement) {
            let path = Sandbox.path(of: name, databasePath: engine.store.path)
            if !overwrite, FileManager.default.fileExists(atPath: path) {
                throw Diagnostic(
                    .fileExists, "checkpoint '\(name)' already exists; nothing was written", at: checkpoint.range,
                    help: "add --force to replace it, or choose another name")
            }
            output.line("dry-run: would keep the sandbox as it is now as checkpoint '\(name)' (\(shown)); nothing was written")
            result.wasDryRun = true
            return result
        }
        let label = CheckpointLabel(name: name, takenAt: engine.clock.now().description, takenBy: engine.access.actor.handle)
        let bytes = try Sandbox.keep(
            store: engine.store, label: label, overwrite: overwrite, protected: engine.protectedFiles, at: checkpoint.range)
        output.line("kept checkpoint '\(name)' (\(shown), \(Sandbox.size(bytes))): reset \(name) returns the sandbox to this state")
        result.auditNote = "\(shown), \(Sandbox.size(bytes))"
        return result
    }
}

extension Parser {
    /// A checkpoint's name: a string, or what is written up to the end of the command or its
    /// options (`before-class`, `lesson_2`), checked to be letters, digits, `-` and `_` (E516).
    mutating func parseCheckpointName(for command: String) throws(Diagnostic) -> Located<String> {
        let name: Located<String>
        if case .string(let s) = current.kind {
            name = Located(s, advance().range)
        } else {
            guard !atStatementEnd else { throw failure(expected: "a checkpoint's name, e.g. \(command) before-class") }
            let first = advance().range
            var last = first
            while !atStatementEnd { last = advance().range }
            let range = first.union(last)
            name = Located(text(of: range), range)
        }
        do {
            return Located(try Sandbox.checkedName(name), name.range)
        } catch let error as Diagnostic {
            throw error
        } catch {
            throw Diagnostic(.badCheckpoint, "\(error)", at: name.range)
        }
    }
}
