import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// The parsed statement (GRDB has a `Statement` of its own).
public typealias ParsedStatement = RoloSyntax.Statement

/// What a command did, for exit codes and the shell's prompt.
public struct CommandResult: Sendable {
    public var rows: Int = 0
    public var quit = false
    public var changeSetID: Int64? = nil
    /// A dry-run that found changes (for `--exit-code`).
    public var dryRunChanges = false
    /// The command was a previewed change.
    public var wasDryRun = false
    /// What the audit entry's message says of a command that succeeded (an import's file, counts and digest).
    public var auditNote: String? = nil
    /// `apply` wrote a plan's changes (`--exit-code` ends with 2).
    public var applied = false
    /// A change's outcome in a few words (`52 contacts would be updated`): the line a whole
    /// script's dry-run shows for it.
    public var summary: String? = nil
    /// The command wrote its own audit entry, inside the transaction it ran (`reset`): the engine
    /// records no other.
    public var auditWritten = false

    public init() {}
}

/// Runs Rolo statements against a CRM store as one acting user: the composition of the
/// session's services and the one path every statement takes.
///
/// Every statement takes the same path (`execute`): bind names against the schema, check the
/// acting user's permissions, plan SQL, execute (changes inside a transaction), record, render.
/// The state lives in services, each in its own file and reached by a command through its
/// context (docs/architecture.md): `session` (settings, `$NAME` values, training, the terminal,
/// Ctrl-C), `access` (who acts, their policy and what it allows), `transactions`, `audit` (the
/// entries on their way into the chain), the output choice (`OutputChoice`) and the translation of
/// database errors (`DatabaseErrors`).
public final class Engine {
    public let store: CRMStore
    public let clock: any CRMClock
    public let session: Session
    public let access: AccessControl
    public let transactions: Transactions
    /// The session's audit entries on their way into the chain.
    let audit: AuditTrail

    /// Told by the binders `binder` makes when a binding reads the clock, parameters or the data
    /// (such a query is not kept by the compiled-query cache, `AccessControl.compiledQueries`).
    var bindingDependencies: BindingDependencies? = nil

    private var commandsSinceRelease = 0
    /// Set while the inner command of an `as` runs (it audits itself).
    private var innerCommandRan = false

    /// Opens a session as `handle`; refuses unknown and deactivated users.
    public convenience init(store: CRMStore, clock: any CRMClock = SystemClock(), user handle: String) throws {
        try self.init(store: store, clock: clock, user: handle, auditKey: try AuditKey.fromEnvironment())
    }

    /// A session with the audit key given rather than named by ROLO_AUDIT_KEY (tests).
    init(store: CRMStore, clock: any CRMClock, user handle: String, auditKey: AuditKey?) throws {
        self.store = store
        self.clock = clock
        let (actor, policy, isSandbox) = try store.dbQueue.read { db in
            let (actor, policy) = try AccessControl.load(handle: handle, db: db)
            return (actor, policy, try SandboxMark.isSandbox(db))
        }
        let access = AccessControl(actor: actor, policy: policy)
        let audit = AuditTrail(store: store, clock: clock, key: auditKey) { [unowned access] in access.actorIDs }
        self.access = access
        self.audit = audit
        session = Session(isSandbox: isSandbox, busy: store.busy)
        transactions = Transactions(store: store, audit: audit)
    }

    /// Keeps an entry: with the open transaction, or with the reads waiting for the write lock.
    func record(_ entry: AuditEntry) { audit.record(entry, inTransaction: transactions.isOpen) }

    /// Inserts the open transaction's entries so far, so a command reading the audit log inside
    /// the transaction sees them.
    func writeTransactionAudit() throws {
        guard transactions.isOpen else { return }
        try audit.writeTransactionEntries()
    }

    func flushReads(waiting: Bool) { audit.flushReads(waiting: waiting, inTransaction: transactions.isOpen) }

    /// Parses and runs every statement in `source`, stopping at the first error.
    public func run(_ source: String, output: OutputSink) throws -> CommandResult {
        // Through the one runner, as a line typed at the prompt: each statement on its own,
        // stopping at the first error, which is thrown.
        let script = try Script(source, file: nil)
        var failure: (any Error)? = nil
        var last = CommandResult()
        let runner = ScriptRunner(engine: self) { error in failure = failure ?? error }
        runner.didRun = { _, result in last = result }
        _ = runner.run(script, mode: .line, output: output, errors: StringOutput())
        if let failure { throw failure }
        return last
    }

    /// Runs one statement and records it in the audit log, whatever its outcome.
    ///
    /// A change runs in a `BEGIN IMMEDIATE` transaction that also holds its audit entry, so a
    /// crash keeps both or neither, and the chain's head is read under the write lock. Inside an
    /// explicit transaction (`begin`, a script) entries are written with the transaction's commit,
    /// or after its rollback as `rolled_back`. A read never takes the write lock to run: its entry
    /// is appended when the lock is free, with the next change, or spooled (see `AuditSpool`).
    public func execute(_ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        let type = statement.commandType
        let command = statement.unit(type)
        let changesData = command.changesData(with: statement.options)
        if store.isReadOnly, changesData {
            throw transactions.readOnlyRefusal("changes are refused", at: statement.range)
        }
        if changesData, let refusal = audit.keyRefusal(at: statement.range) {
            // Recorded like any refusal; without the key it can only be spooled, unsealed.
            record(audit.entry(statement, outcome: .refused, rows: nil, message: refusal.message))
            throw refusal
        }
        if let asUser = statement.command(as: AsCommand.self, commandType: type), asUser.statement != nil {
            return try executeAs(statement, output: output)
        }
        access.lookupRefused = false
        session.interruption.clear()
        // Prepared statements are cached for repeated commands; a long session of distinct ones
        // would grow the cache (and slow every lookup in it) without bound, so it is emptied now
        // and then (every 500 commands: a repeated command is prepared again once in 500).
        commandsSinceRelease += 1
        if commandsSinceRelease >= 500 {
            commandsSinceRelease = 0
            store.inDatabase { $0.releaseMemory() }
        }
        // A change runs in a transaction of its own, unless it manages one itself (`reset`).
        let implicit = changesData && !transactions.isOpen && !Swift.type(of: command).managesTransaction
        transactions.dryRunOwnsTransaction = implicit && isDryRun(statement)
        defer { transactions.dryRunOwnsTransaction = false }
        if implicit {
            do {
                try transactions.beginImplicit()
            } catch let error as DatabaseError {
                // Refused before anything was written (the lock was not to be had): audited all the same.
                let diagnostic = DatabaseErrors.diagnostic(for: error, statement)
                record(audit.entry(statement, outcome: .error, rows: nil, message: diagnostic.message))
                throw diagnostic
            }
        }
        do {
            let result = try dispatch(command, statement, output: output)
            if command.isAudited, !command.endsTransaction, !result.auditWritten {
                let entry = audit.entry(
                    statement, outcome: result.wasDryRun ? .dryRun : .ok, rows: result.rows, message: result.auditNote,
                    changeSet: result.changeSetID)
                if implicit && transactions.dryRunOwnsTransaction {
                    // Nothing of a dry-run is kept: roll it all back, then record it like a read.
                    transactions.rollbackImplicit()
                    record(entry)
                    flushReads(waiting: true)
                } else if implicit {
                    try transactions.commitImplicit(with: entry)
                } else {
                    record(entry)
                }
            }
            return result
        } catch {
            let diagnostic = (error as? DatabaseError).map { DatabaseErrors.diagnostic(for: $0, statement) } ?? error
            if implicit { transactions.rollbackImplicit() }
            if command.isAudited {
                let outcome = access.lookupRefused ? .refused : Self.outcome(of: diagnostic)
                record(
                    audit.entry(statement, outcome: outcome, rows: nil, message: (diagnostic as? Diagnostic)?.message ?? "\(diagnostic)"))
                if !transactions.isOpen { flushReads(waiting: changesData) }
            }
            throw diagnostic
        }
    }

    static func outcome(of error: any Error) -> AuditOutcome {
        guard let diagnostic = error as? Diagnostic else { return .error }
        return diagnostic.code == .permissionDenied || diagnostic.code == .escalation ? .refused : .error
    }

    /// Stops the running command at its next step (Ctrl-C during a long command).
    public func interrupt() { interrupter() }

    /// What Ctrl-C calls, from the signal handler's thread: stops the running statement and the
    /// work between statements.
    public var interrupter: @Sendable () -> Void {
        let (flag, store) = (session.interruption, store)
        return {
            flag.request()
            store.dbQueue.interrupt()
        }
    }

    /// `as USER COMMAND`: refusals of the `as` itself are audited here; the inner command audits
    /// itself, naming both users.
    private func executeAs(_ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        guard let asUser = statement.command as? AsCommand, let inner = asUser.statement else { return CommandResult() }
        let user = asUser.user
        do {
            return try runAs(user, inner, output: output)
        } catch {
            if innerCommandRan {
                innerCommandRan = false
            } else {
                record(audit.entry(statement, outcome: Self.outcome(of: error), rows: nil, message: (error as? Diagnostic)?.message))
                if !transactions.isOpen { flushReads(waiting: true) }
            }
            throw error
        }
    }

    /// Runs the command: every command's own `run` (see `CommandRegistry`), in the format chosen for it.
    private func dispatch(_ command: any Command, _ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        let format = try OutputChoice.format(for: command, statement, default: session.settings.format)
        return try command.run(CommandContext(engine: self, statement: statement, output: output, format: format))
    }

    // MARK: - Acting users

    /// Reloads the acting user's rules (after a grant, revoke or rule change).
    func reloadPolicy() throws {
        let actor = access.actor
        access.replacePolicy(try store.inDatabase { db in try AccessPolicy.load(for: actor, in: db) })
    }

    /// Reads the session's user, their rules and the sandbox mark again: after a reset put back
    /// every table (the user's team and roles as the checkpoint holds them).
    func reloadSession() throws {
        let handle = access.actor.handle
        let (actor, policy, isSandbox) = try store.inDatabase { db in
            let (actor, policy) = try AccessControl.load(handle: handle, db: db)
            return (actor, policy, try SandboxMark.isSandbox(db))
        }
        access.become(actor, policy: policy)
        session.isSandbox = isSandbox
    }

    /// `as USER COMMAND`: one command as another user, audited with both.
    func runAs(_ user: Located<String>, _ inner: ParsedStatement, output: OutputSink) throws -> CommandResult {
        if inner.command is AsCommand { throw Diagnostic(.usage, "`as` cannot be nested", at: inner.range) }
        try access.requireImpersonation(user, command: "as")
        let target = try store.inDatabase { db -> (Actor, AccessPolicy) in
            let (target, active) = try AccessControl.loadActor(handle: user.value, db: db, allowInactive: true)
            guard active else { throw Diagnostic(.permissionDenied, "\(user.value) is deactivated and cannot act", at: user.range) }
            return (target, try AccessPolicy.load(for: target, in: db))
        }
        return try access.acting(as: target.0, policy: target.1, impersonator: access.actor.id) {
            innerCommandRan = true
            let result = try execute(inner, output: output)
            innerCommandRan = false
            return result
        }
    }

    func login(_ user: Located<String>, output: OutputSink) throws {
        if user.value.lowercased() != access.actor.handle.lowercased() { try access.requireImpersonation(user, command: "login") }
        let (target, policy) = try store.inDatabase { db in try AccessControl.load(handle: user.value, db: db) }
        access.become(target, policy: policy)
        output.line("now acting as \(target.handle) (\(target.name)) · roles: \(access.roleNames)")
    }

    // MARK: - Transactions

    /// Opens an explicit transaction (`begin`, and around every script), in dry-run mode when the
    /// session's previews are on. `label` names the change set (a script's file).
    public func beginTransaction(at range: SourceRange? = nil, label: String? = nil) throws {
        try transactions.begin(at: range, label: label, dryRun: session.settings.dryRun)
    }

    /// Commits or rolls back the open transaction (see `Transactions.end`).
    public func endTransaction(commit: Bool, at range: SourceRange? = nil, closing: AuditEntry? = nil) throws {
        try transactions.end(commit: commit, at: range, closing: closing)
    }

    /// An entry for something the session did itself (leaving the shell with a transaction open).
    public func sessionEntry(_ command: String, outcome: AuditOutcome) -> AuditEntry {
        audit.sessionEntry(command, outcome: outcome)
    }

    /// Ends a session: an open transaction is rolled back (and audited so), and read entries
    /// still waiting for the lock are written or spooled. Returns whether a transaction was open.
    @discardableResult
    public func finish(closing: String = "rollback (transaction left open)") -> Bool {
        var wasOpen = false
        if transactions.isOpen {
            wasOpen = true
            let closingEntry = audit.sessionEntry(
                closing, outcome: .rolledBack, message: "the transaction was left open and rolled back")
            try? transactions.end(commit: false, closing: closingEntry)
        }
        audit.finishSession()
        return wasOpen
    }

    // MARK: - Shared helpers for commands

    /// A binder for a command's expressions: the clock, the acting user and the `$NAME` values.
    func binder(_ db: Database, scope: QueryScope) -> ExpressionBinder {
        ExpressionBinder(
            db: db, scope: scope, temporal: TemporalResolver(now: clock.now(), dependencies: bindingDependencies), actor: access.actor,
            parameters: session.parameters, dependencies: bindingDependencies)
    }
}

/// Names the shell completes: users, roles and teams from the database.
public struct Vocabulary: Sendable {
    public var users: [String] = []
    public var roles: [String] = []
    public var teams: [String] = []
    public init() {}
}

extension Engine {
    /// Reads the names worth completing (a handful of small queries), on the session's own
    /// connection: inside an open transaction, what it created so far is offered too.
    public func vocabulary() -> Vocabulary {
        var vocabulary = Vocabulary()
        try? store.inDatabase { db in
            vocabulary.users = try String.fetchAll(db, RecordLookup.names("users", column: "handle").sql)
            vocabulary.roles = try String.fetchAll(db, RecordLookup.names("roles").sql)
            vocabulary.teams = try String.fetchAll(db, RecordLookup.names("teams").sql)
        }
        return vocabulary
    }
}
