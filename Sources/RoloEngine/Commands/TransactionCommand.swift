import RoloStore
import RoloSyntax

/// `begin`, `commit`, `rollback`: an explicit transaction.
///
///     transaction := 'begin' | 'commit' | 'rollback'
struct TransactionCommand: Command {
    enum Step: String, Sendable { case begin, commit, rollback }
    var step: Step

    static let name = "begin"
    static let forms = [Step.begin, .commit, .rollback].map { step in
        form(step.rawValue) { _, _ throws(Diagnostic) in TransactionCommand(step: step) }
    }
    static let synopsis = "begin | commit | rollback"
    static let summary = "An explicit transaction: changes are kept at commit, dropped at rollback. The prompt shows *."
    static let examples = ["begin", "rollback"]
    var endsTransaction: Bool { step != .begin }
    static let managesTransaction = true

    func run(_ context: CommandContext) throws -> CommandResult {
        let (engine, statement, output) = (context.engine, context.statement, context.output)
        switch step {
        case .begin:
            try engine.beginTransaction(at: statement.range)
            output.line("transaction open: changes are kept until commit (or dropped by rollback)")
        case .commit:
            try engine.endTransaction(
                commit: true, at: statement.range, closing: engine.audit.entry(statement, outcome: .ok, rows: nil, message: nil))
            output.line(engine.transactions.note ?? "committed")
        case .rollback:
            try engine.endTransaction(
                commit: false, at: statement.range, closing: engine.audit.entry(statement, outcome: .ok, rows: nil, message: nil))
            output.line("rolled back: the transaction's changes are gone")
        }
        return CommandResult()
    }
}
