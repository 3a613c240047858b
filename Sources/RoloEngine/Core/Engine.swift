import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// The parsed statement (GRDB has a `Statement` of its own).
public typealias ParsedStatement = RoloSyntax.Statement

/// Settings a session can change with `set` and `dry-run`.
public struct SessionSettings: Sendable {
    /// Every changing command is previewed and rolled back.
    public var dryRun = false
    /// On a terminal, changes touching more records than this ask first.
    public var confirmThreshold = 50
    /// The default output format (tables on a terminal, plain when piped).
    public var format: OutputFormat? = nil
    /// Long output in the interactive shell goes through a pager (see `PagerSetting`).
    public var pager: PagerSetting = .on
    /// Colours in error messages (see `ColorSetting`).
    public var color: ColorSetting = .auto

    public init() {}
}

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

/// Runs Rolo statements against a CRM store as one acting user.
///
/// Every statement takes the same path: bind names against the schema, check the acting
/// user's permissions, plan SQL, execute (changes inside a transaction), record, render.
public final class Engine {
    public let store: CRMStore
    public let clock: any CRMClock
    public private(set) var actor: Actor
    /// The session's audit entries on their way into the chain.
    let audit: AuditTrail
    public private(set) var policy: AccessPolicy {
        didSet {
            decisions.removeAll(keepingCapacity: true)
            visibilities.removeAll(keepingCapacity: true)
            compiledQueries.removeAll()
        }
    }
    /// Compiled reads by statement text, kept until the policy changes (`CompiledQueryCache`).
    let compiledQueries = CompiledQueryCache()
    /// Told by the binders `binder` makes when a binding reads the clock, parameters or the data.
    var bindingDependencies: BindingDependencies? = nil
    /// The policy's decisions as asked, kept until the policy changes (every query asks several).
    private var decisions: [DecisionKey: AccessPolicy.Decision] = [:]
    private struct DecisionKey: Hashable {
        let action: PermissionAction
        let entity: String
    }
    /// The open transaction's change set and dry-run state.
    struct TransactionState {
        /// The change set every change of the transaction joins (nil until the first change).
        var changeSet: Int64? = nil
        var changes = 0
        var firstSummary: String? = nil
        /// What the change set is listed under instead of its first statement: `script FILE` for
        /// a script run from a file.
        var label: String? = nil
        /// Opened in dry-run mode: changes are kept until its end, then all rolled back.
        var dryRun = false
        var dryRunRecords = 0
    }
    var transaction = TransactionState()
    /// What ending the last transaction said beyond "committed" (a dry-run's total).
    public private(set) var transactionNote: String? = nil

    private var commandsSinceRelease = 0
    /// The statement is a dry-run alone in its own transaction, which `execute` rolls back whole.
    var dryRunOwnsTransaction = false
    /// Set when a lookup met a record outside the actor's read scope: the user is told "there is
    /// no such record" (no oracle), the audit log records a refusal.
    var lookupRefused = false
    /// While `as USER` runs a command: the admin behind it.
    public private(set) var impersonator: Int64? = nil
    /// Set while the inner command of an `as` runs (it audits itself).
    private var innerCommandRan = false
    public var settings = SessionSettings()
    /// Values for `$NAME`: a script's parameters, and what its `let`s computed.
    public var parameters: [String: ScriptValue] = [:]
    /// Recording, playing and lessons: the recording under way, the terminal to ask (Training/).
    public let training = TrainingSession()
    /// Asks the person at the terminal to confirm a large change; nil never asks (scripts, -c, pipes).
    public var confirm: ((String) -> Bool)? = nil
    /// Where long work draws its progress line (standard error on a terminal; nil otherwise).
    public var progressLine: ((String) -> Void)? = nil
    /// An explicit transaction is open (`begin`, or a running script).
    public private(set) var inTransaction = false
    /// The open transaction is a dry-run: all of it is rolled back at its end.
    public var transactionIsDryRun: Bool { inTransaction && transaction.dryRun }
    /// The database is a sandbox (`rolo demo` made it): `checkpoint` and `reset` work, and the
    /// prompt says so.
    public private(set) var isSandbox = false
    /// `readVisibility` per entity, kept until the policy changes (every query asks).
    private var visibilities: [String: (records: Visibility.Records, hiddenFields: Set<String>)] = [:]

    /// Opens a session as `handle`; refuses unknown and deactivated users.
    public convenience init(store: CRMStore, clock: any CRMClock = SystemClock(), user handle: String) throws {
        try self.init(store: store, clock: clock, user: handle, auditKey: try AuditKey.fromEnvironment())
    }

    /// A session with the audit key given rather than named by ROLO_AUDIT_KEY (tests).
    init(store: CRMStore, clock: any CRMClock, user handle: String, auditKey: AuditKey?) throws {
        self.store = store
        self.clock = clock
        audit = AuditTrail(store: store, clock: clock, key: auditKey, actor: { (0, nil) })
        (actor, policy, isSandbox) = try store.dbQueue.read { db in
            let actor = try Engine.loadActor(handle: handle, db: db)
            return (actor, try AccessPolicy.load(for: actor, in: db), try SandboxMark.isSandbox(db))
        }
        audit.actor = { [unowned self] in (actor.id, impersonator) }
    }

    /// The audit key (ROLO_AUDIT_KEY), if one is set: entries are then HMAC-chained.
    var auditKey: AuditKey? { audit.key }

    /// Keeps an entry: with the open transaction, or with the reads waiting for the write lock.
    private func record(_ entry: AuditEntry) { audit.record(entry, inTransaction: inTransaction) }

    /// Keeps an entry the engine did not make running a command (a saved script's run, which the
    /// `ScriptRunner` runs statement by statement).
    func recordEntry(_ entry: AuditEntry) { record(entry) }

    /// Inserts the open transaction's entries so far, so a command reading the audit log inside
    /// the transaction sees them.
    func writeTransactionAudit() throws {
        guard inTransaction else { return }
        try audit.writeTransactionEntries()
    }

    func flushReads(waiting: Bool) { audit.flushReads(waiting: waiting, inTransaction: inTransaction) }

    func keyRefusal(at range: SourceRange?) -> Diagnostic? { audit.keyRefusal(at: range) }

    static func loadActor(handle: String, db: Database) throws -> Actor {
        let (actor, active) = try loadActor(handle: handle, db: db, allowInactive: true)
        guard active else {
            throw Diagnostic(
                .permissionDenied, "user '\(handle)' is deactivated and cannot act",
                help: "an admin can reactivate them with: activate user \(handle)")
        }
        return actor
    }

    static func loadActor(handle: String, db: Database, allowInactive: Bool) throws -> (actor: Actor, active: Bool) {
        guard
            let row = try Row.fetchOne(
                db,
                Select(Select.columns(["id", "handle", "name", "team_id", "active"]), from: "users")
                    .where(Sql.caseInsensitiveEquals(Sql.name("handle"), Sql.value(handle))).sql)
        else {
            let handles = try String.fetchAll(
                db, RecordLookup.names("users", column: "handle").where(Sql.equals(Sql.name("active"), Sql.true)).sql)
            let help =
                Suggestions.nearest(to: handle, in: handles).map { "did you mean '\($0)'?" }
                ?? (handles.isEmpty ? "this database has no users yet" : "users are " + handles.prefix(12).joined(separator: ", "))
            throw Diagnostic(.unknownUser, "unknown user '\(handle)'", help: help)
        }
        let actor = Actor(id: try row.decode(forColumn: "id"), handle: try row.decode(forColumn: "handle"), name: try row.decode(forColumn: "name"), teamID: try row.decode(forColumn: "team_id"))
        return (actor, (try row.decode(Int?.self, forColumn: "active")) == 1)
    }

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
        let command = statement.unit
        if store.isReadOnly, command.changesData {
            throw readOnlyRefusal("changes are refused", at: statement.range)
        }
        if command.changesData, let refusal = keyRefusal(at: statement.range) {
            // Recorded like any refusal; without the key it can only be spooled, unsealed.
            record(entry(statement, outcome: .refused, rows: nil, message: refusal.message))
            throw refusal
        }
        if let asUser = command as? AsCommand, asUser.statement != nil {
            return try executeAs(statement, output: output)
        }
        lookupRefused = false
        interruption.clear()
        // Prepared statements are cached for repeated commands; a long session of distinct ones
        // would grow the cache (and slow every lookup in it) without bound, so it is emptied now
        // and then (every 500 commands: a repeated command is prepared again once in 500).
        commandsSinceRelease += 1
        if commandsSinceRelease >= 500 {
            commandsSinceRelease = 0
            store.dbQueue.inDatabase { $0.releaseMemory() }
        }
        // A change runs in a transaction of its own, unless it manages one itself (`reset`).
        let implicit = command.changesData && !inTransaction && !command.managesTransaction
        dryRunOwnsTransaction = implicit && isDryRun(statement)
        defer { dryRunOwnsTransaction = false }
        if implicit {
            do {
                try store.dbQueue.inDatabase { db in try db.execute(Sql.beginImmediate) }
            } catch let error as DatabaseError {
                // Refused before anything was written (the lock was not to be had): audited all the same.
                let diagnostic = Self.diagnostic(for: error, statement)
                record(entry(statement, outcome: .error, rows: nil, message: diagnostic.message))
                throw diagnostic
            }
        }
        do {
            let result = try dispatch(command, statement, output: output)
            if command.isAudited, !command.endsTransaction, !result.auditWritten {
                let entry = entry(
                    statement, outcome: result.wasDryRun ? .dryRun : .ok, rows: result.rows, message: result.auditNote,
                    changeSet: result.changeSetID)
                if implicit && dryRunOwnsTransaction {
                    // Nothing of a dry-run is kept: roll it all back, then record it like a read.
                    rollbackImplicit()
                    record(entry)
                    flushReads(waiting: true)
                } else if implicit {
                    try commitImplicit(with: entry)
                } else {
                    record(entry)
                }
            }
            return result
        } catch {
            let diagnostic = (error as? DatabaseError).map { Self.diagnostic(for: $0, statement) } ?? error
            if implicit { rollbackImplicit() }
            if command.isAudited {
                let outcome = lookupRefused ? .refused : Self.outcome(of: diagnostic)
                record(entry(statement, outcome: outcome, rows: nil, message: (diagnostic as? Diagnostic)?.message ?? "\(diagnostic)"))
                if !inTransaction { flushReads(waiting: command.changesData) }
            }
            throw diagnostic
        }
    }

    static func outcome(of error: any Error) -> AuditOutcome {
        guard let diagnostic = error as? Diagnostic else { return .error }
        return diagnostic.code == .permissionDenied || diagnostic.code == .escalation ? .refused : .error
    }

    /// A write on a file opened read-only (E601), naming the file and what to do.
    private func readOnlyRefusal(_ what: String, at range: SourceRange?) -> Diagnostic {
        Diagnostic(
            .databaseUnavailable, "read-only: \(URL(fileURLWithPath: store.path).lastPathComponent) cannot be written, so \(what)",
            at: range, help: "give this user write access to the file (and its folder), or work on a copy")
    }

    /// Stops the running command at its next step (Ctrl-C during a long command).
    public func interrupt() {
        interruption.request()
        store.dbQueue.interrupt()
    }

    /// Ctrl-C seen while a command works in Swift between statements (an import reading its file),
    /// where SQLite's interrupt would find nothing running; cleared as each command starts.
    let interruption = InterruptFlag()

    /// What Ctrl-C calls, from the signal handler's thread: stops the running statement and the
    /// work between statements.
    public var interrupter: @Sendable () -> Void {
        let (flag, store) = (interruption, store)
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
                record(entry(statement, outcome: Self.outcome(of: error), rows: nil, message: (error as? Diagnostic)?.message))
                if !inTransaction { flushReads(waiting: true) }
            }
            throw error
        }
    }

    /// Runs the command: every command's own `run` (see `CommandRegistry`).
    private func dispatch(_ command: any Command, _ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        let format = try outputFormat(command, statement, output: output)
        return try command.run(CommandContext(engine: self, statement: statement, output: output, format: format))
    }

    // MARK: - Acting users

    /// Reloads the acting user's rules (after a grant, revoke or rule change).
    func reloadPolicy() throws {
        let actor = self.actor
        policy = try store.dbQueue.inDatabase { db in try AccessPolicy.load(for: actor, in: db) }
    }

    /// Reads the session's user, their rules and the sandbox mark again: after a reset put back
    /// every table (the user's team and roles as the checkpoint holds them).
    func reloadSession() throws {
        let handle = actor.handle
        (actor, policy, isSandbox) = try store.dbQueue.inDatabase { db in
            let actor = try Engine.loadActor(handle: handle, db: db)
            return (actor, try AccessPolicy.load(for: actor, in: db), try SandboxMark.isSandbox(db))
        }
    }

    /// Whether the acting user may act for others (`as`, `login`): admins, who may grant on all.
    private func requireImpersonation(_ target: Located<String>, command: String) throws {
        let decision = decide(.grant, on: "users")
        guard decision.deniedBy == nil, decision.scope == .all else {
            throw Diagnostic(
                .escalation, "\(actor.handle) may not act as another user", at: target.range,
                help: "`\(command)` is for admins: ask an admin")
        }
    }

    /// `as USER COMMAND`: one command as another user, audited with both.
    func runAs(_ user: Located<String>, _ inner: ParsedStatement, output: OutputSink) throws -> CommandResult {
        if inner.command is AsCommand { throw Diagnostic(.usage, "`as` cannot be nested", at: inner.range) }
        try requireImpersonation(user, command: "as")
        let target = try store.dbQueue.inDatabase { db -> (Actor, AccessPolicy) in
            let (target, active) = try Engine.loadActor(handle: user.value, db: db, allowInactive: true)
            guard active else { throw Diagnostic(.permissionDenied, "\(user.value) is deactivated and cannot act", at: user.range) }
            return (target, try AccessPolicy.load(for: target, in: db))
        }
        let saved = (actor, policy, impersonator)
        (actor, policy, impersonator) = (target.0, target.1, saved.0.id)
        defer { (actor, policy, impersonator) = saved }
        innerCommandRan = true
        let result = try execute(inner, output: output)
        innerCommandRan = false
        return result
    }

    func login(_ user: Located<String>, output: OutputSink) throws {
        if user.value.lowercased() != actor.handle.lowercased() { try requireImpersonation(user, command: "login") }
        let (target, newPolicy) = try store.dbQueue.inDatabase { db -> (Actor, AccessPolicy) in
            let target = try Engine.loadActor(handle: user.value, db: db)
            return (target, try AccessPolicy.load(for: target, in: db))
        }
        (actor, policy) = (target, newPolicy)
        output.line("now acting as \(target.handle) (\(target.name)) · roles: \(roleNames)")
    }

    // MARK: - Transactions

    /// Opens an explicit transaction (`begin`, and around every script). It takes the write lock
    /// at once (`BEGIN IMMEDIATE`): every statement in it may write, and its audit entries are
    /// appended under that lock at commit.
    /// `label` names the change set in `changes` and `history` (a script's file) instead of the
    /// transaction's first change.
    public func beginTransaction(at range: SourceRange? = nil, label: String? = nil) throws {
        if inTransaction {
            throw Diagnostic(.transactionOpen, "a transaction is already open", at: range, help: "commit or rollback it first")
        }
        if store.isReadOnly {
            throw readOnlyRefusal("transactions cannot be opened", at: range)
        }
        if let refusal = keyRefusal(at: range) { throw refusal }
        do {
            try store.dbQueue.inDatabase { db in
                try db.execute(Sql.beginImmediate)
                // Spooled and waiting read entries go first, inside the transaction.
                do {
                    try audit.append([], db: db, lockHeld: true)
                } catch {
                    try? db.execute(Sql.rollback)
                    throw error
                }
            }
        } catch {
            audit.restore()
            if let error = error as? DatabaseError, error.resultCode == .SQLITE_BUSY {
                throw Diagnostic(
                    .databaseUnavailable, "another session is writing to this database and did not finish in time", at: range,
                    help: "try again, or wait longer with `set busy_timeout SECONDS`")
            }
            if let diagnostic = error as? Diagnostic, diagnostic.code == .auditKeyRequired { throw AuditTrail.keyRequired(at: range) }
            throw error
        }
        inTransaction = true
        transaction = TransactionState()
        transaction.label = label
        transaction.dryRun = settings.dryRun
        transactionNote = nil
    }

    /// Commits or rolls back the open transaction. Its audit entries were appended inside it as
    /// its statements ran, so COMMIT keeps changes and entries together; after a ROLLBACK they are
    /// written again in a transaction of their own, each change marked `rolled_back`.
    /// `closing` is the entry of the statement that ends it.
    public func endTransaction(commit: Bool, at range: SourceRange? = nil, closing: AuditEntry? = nil) throws {
        guard inTransaction else {
            throw Diagnostic(.noTransaction, "no transaction is open", at: range, help: "begin one with `begin`")
        }
        inTransaction = false
        let ended = transaction
        transaction = TransactionState()
        if ended.dryRun {
            // A dry-run of the whole transaction: each statement ran and saw the ones before it;
            // now nothing of it is kept.
            transactionNote =
                "dry-run: \(ended.changes) \(ended.changes == 1 ? "change" : "changes") touching \(ended.dryRunRecords) \(ended.dryRunRecords == 1 ? "record" : "records") in all would be made; the whole transaction was rolled back and nothing was written"
        } else {
            transactionNote = nil
        }
        let commit = commit && !ended.dryRun
        if commit {
            do {
                try store.dbQueue.inDatabase { db in
                    try audit.appendAtCommit(closing: closing, db: db)
                    try db.execute(Sql.commit)
                }
                audit.transactionEnded(committed: true, closing: nil)
                return
            } catch {
                // Nothing was committed: roll back, and record what was tried as rolled back.
                try? store.dbQueue.inDatabase { db in if db.isInsideTransaction { try db.execute(Sql.rollback) } }
                audit.transactionEnded(committed: false, closing: closing)
                throw error
            }
        }
        try store.dbQueue.inDatabase { db in
            if db.isInsideTransaction { try db.execute(Sql.rollback) }
        }
        audit.transactionEnded(committed: false, closing: closing)
    }

    /// Ends a session: an open transaction is rolled back (and audited so), and read entries
    /// still waiting for the lock are written or spooled. Returns whether a transaction was open.
    @discardableResult
    public func finish(closing: String = "rollback (transaction left open)") -> Bool {
        var wasOpen = false
        if inTransaction {
            wasOpen = true
            let closingEntry = AuditEntry(
                at: clock.now().description, userID: actor.id, impersonatorID: impersonator, command: closing, outcome: .rolledBack,
                rows: nil, message: "the transaction was left open and rolled back", changeSetID: nil)
            try? endTransaction(commit: false, closing: closingEntry)
        }
        audit.finishSession()
        return wasOpen
    }

    private func commitImplicit(with entry: AuditEntry) throws {
        do {
            try store.dbQueue.inDatabase { db in
                try audit.append([entry], db: db, lockHeld: true)
                try db.execute(Sql.commit)
            }
            audit.committed()
        } catch {
            rollbackImplicit()
            audit.restore()
            throw error
        }
    }

    private func rollbackImplicit() {
        try? store.dbQueue.inDatabase { db in
            if db.isInsideTransaction { try db.execute(Sql.rollback) }
        }
    }

    private func outputFormat(_ command: any Command, _ statement: ParsedStatement, output: OutputSink) throws -> OutputFormat {
        if let option = statement.option("format"), let value = option.value {
            guard let format = OutputFormat(rawValue: value.value) else {
                throw Diagnostic(
                    .unknownOption, "unknown format '\(value.value)'", at: value.range,
                    help: "formats are table, csv and json (and bars for count … by)")
            }
            if format == .bars {
                guard type(of: command).drawsBars else {
                    throw Diagnostic(
                        .usage, "bars draws the groups of a count or sum, not this command", at: value.range,
                        help: "formats here are table, csv and json")
                }
            }
            return format
        }
        return settings.format ?? .table
    }

    // MARK: - Shared helpers for commands

    func binder(_ db: Database, scope: QueryScope) -> ExpressionBinder {
        ExpressionBinder(
            db: db, scope: scope, temporal: TemporalResolver(now: clock.now(), dependencies: bindingDependencies), actor: actor,
            parameters: parameters, dependencies: bindingDependencies)
    }

    /// The acting user's policy decision for `action` on `entity`, remembered until the policy changes.
    func decide(_ action: PermissionAction, on entity: String) -> AccessPolicy.Decision {
        let key = DecisionKey(action: action, entity: entity)
        if let known = decisions[key] { return known }
        let decision = policy.decide(action, on: entity)
        decisions[key] = decision
        return decision
    }

    /// Checks that the user may `action` the entity; returns the decision for scope filters.
    func require(_ action: PermissionAction, _ entity: EntityDefinition, at range: SourceRange?) throws -> AccessPolicy.Decision {
        let decision = decide(action, on: entity.name)
        if let deny = decision.deniedBy {
            throw Diagnostic(
                .permissionDenied, "\(actor.handle) may not \(action) \(entity.name)", at: range,
                help: "denied by rule \(deny.description)")
        }
        guard decision.scope != nil || !decision.fieldAllows.isEmpty else {
            throw Diagnostic(
                .permissionDenied, "\(actor.handle) may not \(action) \(entity.name)", at: range,
                help: "none of \(actor.handle)'s roles (\(roleNames)) allows \(action) on \(entity.name)")
        }
        return decision
    }

    var roleNames: String {
        let names = Array(Set(policy.rules.map(\.role))).sorted()
        return names.isEmpty ? "no roles" : names.joined(separator: ", ")
    }

    /// Machine-readable output (csv, json) leaves the CRM: it is an export, with its own right,
    /// whichever command produces it.
    func requireExport(_ entity: EntityDefinition, format: OutputFormat, at range: SourceRange?) throws {
        guard format == .csv || format == .json else { return }
        _ = try require(.export, entity, at: range)
    }

    /// Rows leave in an export only within the export right's scope (on alias t0).
    func exportFilter(_ entity: EntityDefinition) -> [SQLFragment] {
        let decision = decide(.export, on: entity.name)
        guard let level = decision.scope, let filter = policy.scopeFilter(level, on: entity, alias: "t0") else { return [] }
        return [filter]
    }

    /// What the acting user may read of each entity, applied to every join a query makes.
    var visibility: Visibility {
        Visibility { [self] entity in readVisibility(entity) }
    }

    /// A query scope rooted at `entity`, seeing only what the acting user may read.
    func queryScope(_ entity: EntityDefinition) -> QueryScope {
        QueryScope(root: entity, visibility: visibility)
    }

    /// The records (a read-scope filter) and fields of `entity` the acting user may read.
    func readVisibility(_ entity: EntityDefinition) -> (records: Visibility.Records, hiddenFields: Set<String>) {
        if let known = visibilities[entity.name] { return known }
        let computed = computeReadVisibility(entity)
        visibilities[entity.name] = computed
        return computed
    }

    private func computeReadVisibility(_ entity: EntityDefinition) -> (records: Visibility.Records, hiddenFields: Set<String>) {
        let decision = decide(.read, on: entity.name)
        if decision.deniedBy != nil { return (.none, []) }
        var hidden = Set(decision.deniedFields.keys)
        let level: GrantedRule.Scope
        if let scope = decision.scope {
            level = scope
        } else if let widest = decision.fieldAllows.values.map(\.scope).max() {
            // Only some fields are allowed: the rest are hidden.
            level = widest
            for field in entity.fields where field.name != "id" && decision.fieldAllows[field.name] == nil {
                hidden.insert(field.name)
            }
        } else {
            return (.none, [])
        }
        let policy = self.policy
        guard level != .all, policy.scopeFilter(level, on: entity, alias: "t0") != nil else { return (.all, hidden) }
        return (.filtered({ alias in policy.scopeFilter(level, on: entity, alias: alias) ?? SQLFragment("1") }), hidden)
    }

    /// The read-scope filter on the root alias `t0` of `entity`, or nil when every record is readable.
    func readFilter(_ entity: EntityDefinition, alias: String = "t0") -> SQLFragment? {
        readVisibility(entity).records.filter(alias: alias)
    }

    /// Why some records of `entity` are not readable: the rule that gives the read scope.
    func readScopeHelp(_ entity: EntityDefinition) -> String {
        let decision = decide(.read, on: entity.name)
        guard let level = decision.scope, let rule = decision.allowedBy else {
            return "none of \(actor.handle)'s roles (\(roleNames)) allows read on \(entity.name)"
        }
        return "\(rule.description) covers only \(level == .own ? "records they own or are assigned" : "records owned within their team")"
    }

    /// The note under a table naming paths whose values are hidden from the acting user.
    func hiddenNote(_ paths: [String]) -> String? {
        guard !paths.isEmpty else { return nil }
        return "(values of \(paths.joined(separator: ", ")) that \(actor.handle) may not read show as \(Visibility.hiddenMarker))"
    }

    // MARK: - Audit

    public struct AuditEntry: Codable, Sendable {
        let at: String
        let userID: Int64
        let impersonatorID: Int64?
        let command: String
        var outcome: AuditOutcome
        let rows: Int?
        let message: String?
        var changeSetID: Int64? = nil

        /// The entry of a statement whose transaction was rolled back.
        func rolledBack() -> AuditEntry {
            var entry = self
            if entry.outcome == .ok {
                entry.outcome = .rolledBack
                entry.changeSetID = nil
            }
            return entry
        }
    }

    /// An entry for something the session did itself (leaving the shell with a transaction open).
    public func sessionEntry(_ command: String, outcome: AuditOutcome) -> AuditEntry {
        AuditEntry(
            at: clock.now().description, userID: actor.id, impersonatorID: impersonator, command: command, outcome: outcome,
            rows: nil, message: nil, changeSetID: nil)
    }

    func entry(_ statement: ParsedStatement, outcome: AuditOutcome, rows: Int?, message: String?, changeSet: Int64? = nil) -> AuditEntry {
        AuditEntry(
            at: clock.now().description, userID: actor.id, impersonatorID: impersonator, command: statement.text, outcome: outcome,
            rows: rows, message: message, changeSetID: changeSet)
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
        try? store.dbQueue.inDatabase { db in
            vocabulary.users = try String.fetchAll(db, RecordLookup.names("users", column: "handle").sql)
            vocabulary.roles = try String.fetchAll(db, RecordLookup.names("roles").sql)
            vocabulary.teams = try String.fetchAll(db, RecordLookup.names("teams").sql)
        }
        return vocabulary
    }
}

/// A flag one thread raises (the Ctrl-C handler) and another polls.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    var isRequested: Bool { lock.withLock { raised } }
    func request() { lock.withLock { raised = true } }
    func clear() { lock.withLock { raised = false } }
}
