import RoloStore
import RoloSyntax

/// `verify audit` and `audit anchor`: check the audit log's chain, or print its head.
///
///     verify := 'verify' 'audit' [ '--anchor' (STRING|WORD) ] | 'audit' 'anchor'
struct VerifyCommand: Command {
    /// `audit anchor` rather than `verify audit`.
    var anchor: Bool

    static let name = "verify audit"
    static let forms = [
        form("verify", "audit") { _, _ throws(Diagnostic) in
            VerifyCommand(anchor: false)
        },
        form("audit", "anchor") { _, _ throws(Diagnostic) in
            VerifyCommand(anchor: true)
        },
    ]
    static let synopsis = "verify audit [--anchor N:HASH|FILE] | audit anchor | find audit where …"
    static let summary =
        "Check the audit log's hash chain, reporting every break; `audit anchor` prints the head to keep outside the database, and --anchor checks the log still holds it (no truncation, no recomputed chain)."
    static let examples = ["verify audit", "audit anchor", "find audit where user = admin order by id desc limit 5"]
    static let helpWords = ["anchor"]
    static let actions: [PermissionAction] = [.read]

    func run(_ context: CommandContext) throws -> CommandResult {
        let (engine, statement, output) = (context.engine, context.statement, context.output)
        _ = try engine.access.require(.read, CRMSchema.auditLog, at: statement.range)
        try engine.writeTransactionAudit()
        guard anchor else {
            let anchor = try statement.option("anchor")?.value.map { try AuditLog.parseAnchor($0.value, at: $0.range) }
            return try engine.store.inDatabase { db in
                // The spool beside the database: lines kept aside, and lines the next write would not append.
                let seal = try AuditSpoolSecret.read(db).map { AuditSpool.Seal(secret: $0, auditKey: engine.audit.key) }
                let spool = try AuditSpool(databasePath: engine.store.path).inspect(seal: seal, db: db, now: engine.clock.now())
                return try AuditLog.verify(db: db, key: engine.audit.key, anchor: anchor, spool: spool, output: output)
            }
        }
        guard let head = try engine.store.inDatabase({ db in try AuditLog.anchor(db: db) }) else {
            output.line("the audit log is empty")
            return CommandResult()
        }
        output.line("\(head.id):\(head.hash)")
        output.line("(keep this anchor outside the database; `verify audit --anchor \(head.id):…` checks the log still holds it)")
        var result = CommandResult()
        result.rows = 1
        return result
    }
}
