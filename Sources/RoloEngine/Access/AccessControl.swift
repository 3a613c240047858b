import GRDB
import RoloStore
import RoloSyntax

/// Who acts and what they may do: the acting user (and, during an `as`, the admin behind them),
/// their policy, and the decisions and read visibility it gives, remembered until it changes.
///
/// One of the engine's services (docs/architecture.md); a command reaches it as
/// `context.access`. It reads nothing from the database itself: `load` reads a user and their
/// rules, the engine hands them over.
public final class AccessControl {
    public private(set) var actor: Actor
    /// While `as USER` runs a command: the admin behind it.
    public private(set) var impersonator: Int64? = nil
    public private(set) var policy: AccessPolicy {
        didSet {
            decisions.removeAll(keepingCapacity: true)
            visibilities.removeAll(keepingCapacity: true)
            compiledQueries.removeAll()
        }
    }
    /// Compiled reads by statement text, kept until the policy changes (`CompiledQueryCache`):
    /// what a query may see is the policy's, so a new policy compiles them again.
    let compiledQueries = CompiledQueryCache()
    /// The policy's decisions as asked, kept until the policy changes (every query asks several).
    private var decisions: [DecisionKey: AccessPolicy.Decision] = [:]
    private struct DecisionKey: Hashable {
        let action: PermissionAction
        let entity: String
    }
    /// `readVisibility` per entity, kept until the policy changes (every query asks).
    private var visibilities: [String: (records: Visibility.Records, hiddenFields: Set<String>)] = [:]
    /// Set when a lookup met a record outside the actor's read scope: the user is told "there is
    /// no such record" (no oracle), the audit log records a refusal. Cleared as each command starts.
    var lookupRefused = false

    /// Who acts and the admin behind an `as`, for each audit entry (read without copying `actor`).
    var actorIDs: (id: Int64, impersonator: Int64?) { (actor.id, impersonator) }

    init(actor: Actor, policy: AccessPolicy) {
        self.actor = actor
        self.policy = policy
    }

    // MARK: - Who acts

    /// Acts as `actor` under `policy` from now on (`login`; a reset that read the session again).
    func become(_ actor: Actor, policy: AccessPolicy) {
        self.actor = actor
        self.policy = policy
    }

    /// The acting user's rules read again (after a grant, revoke or rule change).
    func replacePolicy(_ policy: AccessPolicy) { self.policy = policy }

    /// Runs `body` as `actor` under `policy` with `impersonator` behind it (`as USER COMMAND`),
    /// then acts as before, whatever `body` did.
    func acting<T>(as actor: Actor, policy: AccessPolicy, impersonator: Int64, _ body: () throws -> T) rethrows -> T {
        let saved = (self.actor, self.policy, self.impersonator)
        (self.actor, self.policy, self.impersonator) = (actor, policy, impersonator)
        defer { (self.actor, self.policy, self.impersonator) = saved }
        return try body()
    }

    /// Reads `handle` and their rules; refuses unknown and deactivated users.
    static func load(handle: String, db: Database) throws -> (actor: Actor, policy: AccessPolicy) {
        let actor = try loadActor(handle: handle, db: db)
        return (actor, try AccessPolicy.load(for: actor, in: db))
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
        let actor = Actor(
            id: try row.decode(forColumn: "id"), handle: try row.decode(forColumn: "handle"), name: try row.decode(forColumn: "name"),
            teamID: try row.decode(forColumn: "team_id"))
        return (actor, (try row.decode(Int?.self, forColumn: "active")) == 1)
    }

    /// Whether the acting user may act for others (`as`, `login`): admins, who may grant on all.
    func requireImpersonation(_ target: Located<String>, command: String) throws {
        let decision = decide(.grant, on: "users")
        guard decision.deniedBy == nil, decision.scope == .all else {
            throw Diagnostic(
                .escalation, "\(actor.handle) may not act as another user", at: target.range,
                help: "`\(command)` is for admins: ask an admin")
        }
    }

    // MARK: - Decisions

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

    // MARK: - What may be read

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
        return (.filtered({ alias in policy.scopeFilter(level, on: entity, alias: alias) ?? Sql.true }), hidden)
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
}
