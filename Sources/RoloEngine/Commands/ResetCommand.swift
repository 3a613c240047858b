import Foundation
import RoloStore
import RoloSyntax

/// `reset [NAME]`: returns the sandbox to a checkpoint, or with no name to its fresh state.
///
///     reset := 'reset' [ name ] [ '--dry-run' ]
///
/// Every table but the audit log becomes the checkpoint's, byte for byte; the audit log keeps
/// every entry, and the reset's own names the checkpoint (and users and change sets that earlier
/// entries name and the checkpoint does not hold). One transaction, with its audit entry
/// (`Engine.reset`); not undoable (`undo` works within the state a reset leaves). Only in a
/// sandbox (E515), only for admins (E401), as oneself (not under `as`), outside a transaction
/// (E503); a checkpoint it cannot use is refused before anything is written (E516). With
/// `--dry-run` (or dry-run on) it says which tables' rows would change and writes nothing.
struct ResetCommand: Command {
    var checkpoint: Located<String>?

    static let name = "reset"
    static let forms = [
        form("reset") { parser, _ throws(Diagnostic) in
            ResetCommand(checkpoint: parser.atStatementEnd ? nil : try parser.parseCheckpointName(for: "reset"))
        }
    ]
    static let synopsis = "reset [NAME] [--dry-run]"
    static let summary =
        "In a sandbox: put every table back as checkpoint NAME holds it (with no name: as rolo demo made it); the audit log keeps every entry and records the reset. Admins only."
    static let examples = ["reset before-class --dry-run", "reset before-class", "reset"]
    static let actions: [PermissionAction] = [.grant]
    var changesData: Bool { true }
    static let managesTransaction = true

    func run(_ context: CommandContext) throws -> CommandResult {
        let (engine, statement, output) = (context.engine, context.statement, context.output)
        try engine.refuseInsideTransaction("reset", at: statement.range)
        if engine.access.impersonator != nil {
            throw Diagnostic(.usage, "reset runs as yourself, not under as", at: statement.range, help: "run reset on its own")
        }
        try engine.requireSandbox("reset")
        try engine.requireSandboxAdmin("reset", at: statement.range)
        let name = checkpoint?.value ?? Sandbox.freshName
        let plan = try engine.planReset(name, at: checkpoint?.range ?? statement.range)
        var taken = "checkpoint '\(name)'"
        if let label = plan.contents.label {
            taken += " (taken \(ValueFormatter.display(label.takenAt.databaseValue, .timestamp)) by \(label.takenBy))"
        }
        var result = CommandResult()
        if engine.isDryRun(statement) {
            let preview = try engine.previewReset(plan)
            output.line("dry-run: reset to \(taken) would put every table but the audit log back as it was then")
            Self.describe(preview, dryRun: true, output: output)
            output.line("the audit log would keep all \(try engine.auditEntries().formatted()) entries; nothing was written")
            result.wasDryRun = true
            return result
        }
        let restored = try engine.reset(to: plan, statement, label: "reset to " + taken)
        output.line("reset to \(taken): every table but the audit log is as it was then")
        Self.describe(restored, dryRun: false, output: output)
        output.line("the audit log keeps all \(try engine.auditEntries().formatted()) entries, this reset's included")
        result.auditWritten = true
        result.rows = restored.reduce(0) { $0 + $1.after }
        return result
    }

    /// The tables whose number of rows changes, one a line.
    static func describe(_ tables: [RestoredTable], dryRun: Bool, output: OutputSink) {
        let changed = tables.filter { $0.before != $0.after }
        for table in changed {
            output.line("  \(table.name): \(table.before.formatted()) → \(table.after.formatted()) rows")
        }
        let values = dryRun ? "changed values would go back too" : "changed values went back too"
        output.line(changed.isEmpty ? "  (every table keeps its number of rows; \(values))" : "  (the other tables keep their number of rows; \(values))")
    }
}

extension Engine {
    /// How many entries the audit log holds.
    func auditEntries() throws -> Int {
        try store.inDatabase { db in try Int.fetchOne(db, Select(Sql.countAll, from: CRMSchema.auditLog.name).sql) ?? 0 }
    }
}
