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
    public private(set) var policy: AccessPolicy {
        didSet { decisions.removeAll(keepingCapacity: true) }
    }
    /// The policy's decisions as asked, kept until the policy changes (every query asks several).
    private var decisions: [DecisionKey: AccessPolicy.Decision] = [:]
    private struct DecisionKey: Hashable {
        let action: String
        let entity: String
    }
    /// While `as USER` runs a command: the admin behind it.
    public private(set) var impersonator: Int64? = nil
    /// Set while the inner command of an `as` runs (it audits itself).
    private var innerCommandRan = false
    public var settings = SessionSettings()
    /// Values for `$name` in scripts.
    public var parameters: [String: String] = [:]
    /// Asks the person at the terminal to confirm a large change; nil never asks (scripts, -c, pipes).
    public var confirm: ((String) -> Bool)? = nil
    /// An explicit transaction is open (`begin`, or a running script).
    public private(set) var inTransaction = false
    /// Audit entries held back while a transaction is open, so a rollback cannot erase them.
    private var pendingAudit: [AuditEntry] = []

    /// Opens a session as `handle`; refuses unknown and deactivated users.
    public init(store: CRMStore, clock: any CRMClock = SystemClock(), user handle: String) throws {
        self.store = store
        self.clock = clock
        (actor, policy) = try store.dbQueue.read { db in
            let actor = try Engine.loadActor(handle: handle, db: db)
            return (actor, try AccessPolicy.load(for: actor, in: db))
        }
    }

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
                db, sql: "SELECT id, handle, name, team_id, active FROM users WHERE handle = ? COLLATE NOCASE",
                arguments: [handle])
        else {
            let handles = try String.fetchAll(db, sql: "SELECT handle FROM users WHERE active = 1 ORDER BY handle")
            let help =
                Suggestions.nearest(to: handle, in: handles).map { "did you mean '\($0)'?" }
                ?? (handles.isEmpty ? "this database has no users yet" : "users are " + handles.prefix(12).joined(separator: ", "))
            throw Diagnostic(.unknownUser, "unknown user '\(handle)'", help: help)
        }
        let actor = Actor(id: row["id"], handle: row["handle"], name: row["name"], teamID: row["team_id"])
        return (actor, (row["active"] as Int?) == 1)
    }

    /// Parses and runs every statement in `source`, stopping at the first error.
    public func run(_ source: String, output: OutputSink) throws -> CommandResult {
        var last = CommandResult()
        for statement in try Parser.parse(source) {
            last = try execute(statement, output: output)
            if last.quit { break }
        }
        return last
    }

    /// Runs one statement and records it in the audit log, whatever its outcome.
    public func execute(_ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        do {
            return try executeAndAudit(statement, output: output)
        } catch let error as DatabaseError {
            // Database errors become diagnostics like any other, and are audited.
            let diagnostic =
                error.resultCode == .SQLITE_INTERRUPT
                ? Diagnostic(.interrupted, "interrupted; nothing of this command was kept", at: statement.range)
                : Diagnostic(.constraintViolated, "the database refused this: \(error.message ?? error.description)", at: statement.range)
            try? audit(statement, outcome: "error", rows: nil, message: diagnostic.message)
            throw diagnostic
        }
    }

    /// Stops the running command at its next step (Ctrl-C during a long command).
    public func interrupt() {
        store.dbQueue.interrupt()
    }

    private func executeAndAudit(_ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        do {
            let result = try dispatch(statement, output: output)
            // A successful `as` is audited through its inner command, which names both users.
            if case .asUser = statement.kind { return result }
            try audit(statement, outcome: result.wasDryRun ? "dry_run" : "ok", rows: result.rows, message: nil)
            return result
        } catch let diagnostic as Diagnostic {
            // An `as` whose inner command ran has been audited there already.
            if case .asUser = statement.kind, innerCommandRan {
                innerCommandRan = false
                throw diagnostic
            }
            let outcome = diagnostic.code == .permissionDenied || diagnostic.code == .escalation ? "refused" : "error"
            try? audit(statement, outcome: outcome, rows: nil, message: diagnostic.message)
            throw diagnostic
        }
    }

    private func dispatch(_ statement: ParsedStatement, output: OutputSink) throws -> CommandResult {
        let format = try outputFormat(statement, output: output)
        switch statement.kind {
        case .find(let query):
            return try store.dbQueue.inDatabase { db in
                try FindCommand(engine: self, db: db).run(query, format: query.format?.value ?? format, output: output)
            }
        case .aggregate(let query):
            return try store.dbQueue.inDatabase { db in
                try AggregateCommand(engine: self, db: db).run(query, format: query.format?.value ?? format, output: output)
            }
        case .show(let reference) where ["role", "roles"].contains(reference.entity.value):
            guard case .natural(let name) = reference.key.value else {
                throw Diagnostic(.unknownRole, "roles are named, e.g. show role sales_rep", at: reference.key.range)
            }
            return try store.dbQueue.inDatabase { db in
                try AccessCommands(engine: self, db: db).showRole(Located(name, reference.key.range), output: output)
            }
        case .show(let reference):
            return try store.dbQueue.inDatabase { db in
                try ShowCommand(engine: self, db: db).run(reference, output: output)
            }
        case .history(let reference):
            return try store.dbQueue.inDatabase { db in
                try HistoryCommand(engine: self, db: db).run(reference, format: format, output: output)
            }
        case .explain(let inner):
            return try store.dbQueue.inDatabase { db in
                try ExplainCommand(engine: self, db: db).run(inner, output: output)
            }
        case .whoami, .users, .roles, .teams:
            return try store.dbQueue.inDatabase { db in
                try DirectoryCommand(engine: self, db: db).run(statement.kind, format: format, output: output)
            }
        case .help(let topic):
            try HelpCommand.run(topic: topic, output: output)
            return CommandResult()
        case .quit:
            var result = CommandResult()
            result.quit = true
            return result
        case .dryRun(let on):
            settings.dryRun = on ?? !settings.dryRun
            output.line("dry-run is \(settings.dryRun ? "on: changes are previewed and rolled back" : "off")")
            return CommandResult()
        case .setting(let name, let value):
            try applySetting(name: name, value: value, output: output)
            return CommandResult()
        case .create(let entity, let assignments):
            return try performChange(statement, output: output) { db, recorder in
                try ChangeCommands(engine: self, db: db, recorder: recorder).create(entityName: entity, assignments: assignments)
            }
        case .update(let entity, let selector, let assignments):
            return try performChange(statement, output: output) { db, recorder in
                try ChangeCommands(engine: self, db: db, recorder: recorder).update(
                    entityName: entity, selector: selector, assignments: assignments, statement: statement)
            }
        case .delete(let entity, let selector):
            return try performChange(statement, output: output) { db, recorder in
                try ChangeCommands(engine: self, db: db, recorder: recorder).delete(entityName: entity, selector: selector)
            }
        case .assign(let entity, let selector, let user):
            return try performChange(statement, output: output) { db, recorder in
                try ChangeCommands(engine: self, db: db, recorder: recorder).assign(entityName: entity, selector: selector, to: user)
            }
        case .merge(let entity, let from, let into):
            return try performChange(statement, output: output) { db, recorder in
                try ChangeCommands(engine: self, db: db, recorder: recorder).merge(entityName: entity, from: from, into: into)
            }
        case .log(let kind, let target, let text):
            return try performChange(statement, output: output) { db, recorder in
                try ChangeCommands(engine: self, db: db, recorder: recorder).log(kind: kind, target: target, text: text)
            }
        case .addTask(let title, let target, let due, let assignee):
            return try performChange(statement, output: output) { db, recorder in
                try ChangeCommands(engine: self, db: db, recorder: recorder).addTask(
                    title: title, target: target, due: due, assignee: assignee)
            }
        case .undo(let changeSet):
            return try performChange(statement, output: output) { db, recorder in
                try UndoCommand(engine: self, db: db, recorder: recorder).run(
                    changeSet, force: statement.hasOption("force"), range: statement.range)
            }
        case .changes(let limit):
            return try store.dbQueue.inDatabase { db in
                try ChangesCommand(engine: self, db: db).run(limit: limit, format: format, output: output)
            }
        case .createUser(let handle, let assignments):
            return try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).createUser(handle, assignments)
            }
        case .createTeam(let name, let assignments):
            return try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).createTeam(name, assignments)
            }
        case .createRole(let name, let like):
            return try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).createRole(name, like: like)
            }
        case .setUserActive(let handle, let active):
            return try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).setActive(handle, active: active)
            }
        case .moveUser(let handle, let team):
            return try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).move(handle, to: team)
            }
        case .grant(let role, let user):
            let result = try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).grant(role, to: user)
            }
            try reloadPolicy()
            return result
        case .revoke(let role, let user):
            let result = try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).revoke(role, from: user)
            }
            try reloadPolicy()
            return result
        case .dropRole(let name):
            return try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).dropRole(name)
            }
        case .rule(let effect, let role, let action, let entity, let fields, let scope):
            let result = try performChange(statement, output: output) { db, recorder in
                try SecurityCommands(engine: self, db: db, recorder: recorder).rule(
                    effect: effect, role: role, action: action, entity: entity, fields: fields, scope: scope)
            }
            try reloadPolicy()
            return result
        case .can(let user, let action, let entity, let key):
            return try store.dbQueue.inDatabase { db in
                try AccessCommands(engine: self, db: db).can(user: user, action: action, entity: entity, key: key, output: output)
            }
        case .asUser(let user, let inner):
            return try runAs(user, inner, output: output)
        case .login(let user):
            try login(user, output: output)
            return CommandResult()
        case .verifyAudit:
            return try store.dbQueue.inDatabase { db in
                _ = try require("read", CRMSchema.auditLog, at: statement.range)
                return try AuditLog.verify(db: db, output: output)
            }
        case .begin:
            try beginTransaction(at: statement.range)
            output.line("transaction open: changes are kept until commit (or dropped by rollback)")
            return CommandResult()
        case .commit:
            try endTransaction(commit: true, at: statement.range)
            output.line("committed")
            return CommandResult()
        case .rollback:
            try endTransaction(commit: false, at: statement.range)
            output.line("rolled back: the transaction's changes are gone")
            return CommandResult()
        }
    }

    // MARK: - Acting users

    /// Reloads the acting user's rules (after a grant, revoke or rule change).
    func reloadPolicy() throws {
        let actor = self.actor
        policy = try store.dbQueue.inDatabase { db in try AccessPolicy.load(for: actor, in: db) }
    }

    /// Whether the acting user may act for others (`as`, `login`): admins, who may grant on all.
    private func requireImpersonation(_ target: Located<String>, command: String) throws {
        let decision = decide("grant", on: "users")
        guard decision.deniedBy == nil, decision.scope == .all else {
            throw Diagnostic(
                .escalation, "\(actor.handle) may not act as another user", at: target.range,
                help: "`\(command)` is for admins; ask one, or start rolo with --user \(target.value)")
        }
    }

    /// `as USER COMMAND`: one command as another user, audited with both.
    private func runAs(_ user: Located<String>, _ inner: ParsedStatement, output: OutputSink) throws -> CommandResult {
        if case .asUser = inner.kind { throw Diagnostic(.usage, "`as` cannot be nested", at: inner.range) }
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

    private func login(_ user: Located<String>, output: OutputSink) throws {
        if user.value.lowercased() != actor.handle.lowercased() { try requireImpersonation(user, command: "login") }
        let (target, newPolicy) = try store.dbQueue.inDatabase { db -> (Actor, AccessPolicy) in
            let target = try Engine.loadActor(handle: user.value, db: db)
            return (target, try AccessPolicy.load(for: target, in: db))
        }
        (actor, policy) = (target, newPolicy)
        output.line("now acting as \(target.handle) (\(target.name)) · roles: \(roleNames)")
    }

    // MARK: - Transactions

    /// Opens an explicit transaction (`begin`, and around every script).
    public func beginTransaction(at range: SourceRange? = nil) throws {
        if inTransaction {
            throw Diagnostic(.transactionOpen, "a transaction is already open", at: range, help: "commit or rollback it first")
        }
        try store.dbQueue.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        inTransaction = true
    }

    /// Commits or rolls back the open transaction, then writes the audit entries it held back.
    public func endTransaction(commit: Bool, at range: SourceRange? = nil) throws {
        guard inTransaction else {
            throw Diagnostic(.noTransaction, "no transaction is open", at: range, help: "begin one with `begin`")
        }
        inTransaction = false
        try store.dbQueue.inDatabase { db in
            if db.isInsideTransaction { try db.execute(sql: commit ? "COMMIT" : "ROLLBACK") }
        }
        let pending = pendingAudit
        pendingAudit = []
        // One transaction for the held entries, not one commit each.
        try store.dbQueue.inDatabase { db in
            try db.inTransaction {
                try AuditLog.append(pending, db: db)
                return .commit
            }
        }
    }

    private func outputFormat(_ statement: ParsedStatement, output: OutputSink) throws -> OutputFormat {
        if let option = statement.option("format"), let value = option.value {
            guard let format = OutputFormat(rawValue: value.value) else {
                throw Diagnostic(
                    .unknownOption, "unknown format '\(value.value)'", at: value.range,
                    help: "formats are table, csv and json")
            }
            return format
        }
        return settings.format ?? .table
    }

    private func applySetting(name: Located<String>, value: Located<String>, output: OutputSink) throws {
        switch name.value {
        case "confirm":
            guard let n = Int(value.value), n >= 0 else {
                throw Diagnostic(.invalidValue, "confirm takes a number of records", at: value.range)
            }
            settings.confirmThreshold = n
            output.line("changes of more than \(n) records will ask first")
        case "format":
            guard let format = OutputFormat(rawValue: value.value.lowercased()) else {
                throw Diagnostic(.invalidValue, "unknown format '\(value.value)'", at: value.range, help: "formats are table, csv and json")
            }
            settings.format = format
            output.line("output format is \(format.rawValue)")
        default:
            let names = ["confirm", "format"]
            throw Diagnostic(
                .unknownOption, "unknown setting '\(name.value)'", at: name.range,
                help: Suggestions.nearest(to: name.value, in: names).map { "did you mean '\($0)'?" } ?? "settings are confirm and format")
        }
    }

    // MARK: - Shared helpers for commands

    func binder(_ db: Database, scope: QueryScope) -> ExpressionBinder {
        ExpressionBinder(db: db, scope: scope, temporal: TemporalResolver(now: clock.now()), actor: actor, parameters: parameters)
    }

    /// The acting user's policy decision for `action` on `entity`, remembered until the policy changes.
    func decide(_ action: String, on entity: String) -> AccessPolicy.Decision {
        let key = DecisionKey(action: action, entity: entity)
        if let known = decisions[key] { return known }
        let decision = policy.decide(action, on: entity)
        decisions[key] = decision
        return decision
    }

    /// Checks that the user may `action` the entity; returns the decision for scope filters.
    func require(_ action: String, _ entity: EntityDefinition, at range: SourceRange?) throws -> AccessPolicy.Decision {
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

    /// Checks every column a query names: related entities must be readable and no field denied.
    func checkReadable(_ scope: QueryScope) throws {
        for reference in scope.referenced {
            let (column, range) = (reference.column, reference.range)
            let decision = try require("read", column.entity, at: range)
            if let deny = decision.deniedFields[column.field.name] {
                throw Diagnostic(
                    .permissionDenied, "\(actor.handle) may not read \(column.entity.name).\(column.field.name)",
                    at: range, help: "denied by rule \(deny.description)")
            }
        }
    }

    // MARK: - Audit

    struct AuditEntry {
        let at: String
        let userID: Int64
        let impersonatorID: Int64?
        let command: String
        let outcome: String
        let rows: Int?
        let message: String?
    }

    func audit(_ statement: ParsedStatement, outcome: String, rows: Int?, message: String?) throws {
        if case .help = statement.kind { return }
        if case .quit = statement.kind { return }
        let entry = AuditEntry(
            at: clock.now().description, userID: actor.id, impersonatorID: impersonator, command: statement.text,
            outcome: outcome, rows: rows, message: message)
        if inTransaction {
            pendingAudit.append(entry)
        } else {
            try writeAudit(entry)
        }
    }

    private func writeAudit(_ entry: AuditEntry) throws {
        try store.dbQueue.inDatabase { db in
            try AuditLog.append(entry, db: db)
        }
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
    /// Reads the names worth completing (a handful of small queries).
    public func vocabulary() -> Vocabulary {
        var vocabulary = Vocabulary()
        try? store.dbQueue.read { db in
            vocabulary.users = try String.fetchAll(db, sql: "SELECT handle FROM users ORDER BY handle")
            vocabulary.roles = try String.fetchAll(db, sql: "SELECT name FROM roles ORDER BY name")
            vocabulary.teams = try String.fetchAll(db, sql: "SELECT name FROM teams ORDER BY name")
        }
        return vocabulary
    }
}
