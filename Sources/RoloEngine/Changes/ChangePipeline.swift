import GRDB
import RoloStore
import RoloSyntax

/// What a changing command did to its records, as its summary says it: `updated 3 contacts`.
enum ChangeVerb: String, Sendable {
    case updated, created, deleted, assigned, merged, logged, reverted, imported
    case granted, revoked, added, dropped, moved, activated, deactivated, saved, applied, verified, normalized
}

/// What a changing command did, reported by its body to the pipeline.
struct ChangeOutcome {
    var records: Int
    var verb: ChangeVerb
    var entity: EntityDefinition
    /// A line printed after the summary (e.g. the new record's number).
    var note: String? = nil
    /// Records the command addressed, when some matched but none needed changing.
    var unchangedMatches = 0
    /// Lines printed after the summary (a grant's reach).
    var report: [String] = []
    /// Lines printed instead of "no … matched" when nothing changed (an import's summary).
    var nothingNote: [String]? = nil
    /// Singular and plural nouns when the entity's are not right ("record", "records").
    var noun: (String, String)? = nil
    /// Per-record diffs after the summary (a rule's note and report say it better).
    var showsDiffs = true

    var nounText: String {
        let (one, many) = noun ?? (entity.singular, entity.name)
        return records == 1 ? one : many
    }
}

extension Engine {
    /// Whether this statement only previews.
    func isDryRun(_ statement: ParsedStatement) -> Bool {
        session.settings.dryRun || statement.hasOption("dry-run")
    }

    /// The one path every change takes: inside a savepoint, open a change set, run the body
    /// (which checks permissions and writes through the recorder), close the change set, print
    /// the summary and per-record diffs, then commit — or roll back for a dry-run, an empty
    /// change, or a declined confirmation.
    func performChange(
        _ statement: ParsedStatement, output: OutputSink,
        body: (Database, ChangeRecorder) throws -> ChangeOutcome
    ) throws -> CommandResult {
        let dryRun = isDryRun(statement)
        var result = CommandResult()
        result.wasDryRun = dryRun
        // Inside a transaction (a script, `begin … commit`) every change joins one change set,
        // undone as one; an undo keeps a change set of its own.
        var isUndo = false
        if statement.command is UndoCommand { isUndo = true }
        let joining = transactions.isOpen && !isUndo ? transactions.state.changeSet : nil
        // A dry-run of a whole transaction keeps each change inside it, so later statements see
        // them, and rolls the transaction back at its end.
        let keepInTransaction = dryRun && transactions.state.dryRun && transactions.isOpen
        var completed: (changeSet: Int64?, summary: String, records: Int)? = nil
        func work(_ db: Database) throws -> Database.TransactionCompletion {
            let recorder = try ChangeRecorder(
                db: db, actor: access.actor, impersonator: access.impersonator,
                command: transactions.isOpen && !isUndo ? (transactions.state.label ?? statement.text) : statement.text, now: clock.now().description,
                joining: joining)
            recorder.readFilter = { [access] entity in access.readFilter(entity) }
            if !isUndo { recorder.baseline = try RuleBaseline(engine: self, db: db, at: statement.range) }
            let outcome = try body(db, recorder)
            let noun = outcome.nounText
            if outcome.records == 0 {
                result.summary = "nothing would change (no \(outcome.entity.name) matched, or they had those values)"
                if let lines = outcome.nothingNote {
                    for line in lines { output.line(line) }
                    output.line("nothing changed")
                } else if outcome.unchangedMatches > 0 {
                    let n = outcome.unchangedMatches
                    output.line(
                        "\(n) \(n == 1 ? outcome.entity.singular : outcome.entity.name) matched but already had those values; nothing changed"
                    )
                } else {
                    output.line("no \(outcome.entity.name) matched; nothing changed")
                }
                return .rollback
            }
            // Validation rules hold for every record a change leaves behind; undo is never blocked.
            if !isUndo { try enforceRules(db, recorder: recorder, at: statement.range) }
            let summary = "\(outcome.verb) \(outcome.records) \(noun)"
            try recorder.finish(
                records: outcome.records,
                summary: joining == nil ? summary : "\(transactions.state.changes + 1) changes: \(transactions.state.firstSummary ?? "") … \(summary)")
            if !dryRun, outcome.records > session.settings.confirmThreshold, !statement.hasOption("yes"), let confirm = session.confirm {
                if !confirm("\(statement.text.split(separator: " ").first ?? "change") \(outcome.records) \(noun)?") {
                    output.line("cancelled; nothing changed")
                    return .rollback
                }
            }
            result.rows = outcome.records
            if dryRun {
                result.summary = "\(outcome.records) \(noun) would be \(outcome.verb)"
                output.line("dry-run: \(outcome.records) \(noun) would be \(outcome.verb); nothing was written")
                result.dryRunChanges = true
            } else {
                let changeSetID = try recorder.changeSetID
                output.line("\(outcome.verb) \(outcome.records) \(noun) (change \(changeSetID))")
                result.changeSetID = changeSetID
            }
            if let note = outcome.note { output.line(note) }
            for line in outcome.report { output.line(line) }
            if !statement.hasOption("quiet"), outcome.showsDiffs {
                // Undo (a change set's records, of any entity) lists them all alike.
                try recorder.printDiffs(
                    output: output, total: outcome.records, primary: outcome.entity.kind == .system ? nil : outcome.entity.name)
            }
            if !dryRun || keepInTransaction { completed = (recorder.existingChangeSetID, summary, outcome.records) }
            return dryRun && !keepInTransaction ? .rollback : .commit
        }
        try store.inDatabase { db in
            if transactions.dryRunOwnsTransaction {
                // A dry-run alone in its transaction: the caller rolls the whole transaction back,
                // which discards the write-ahead log's frames at once; a savepoint rolled back
                // inside it would copy a million pages back from the statement journal.
                _ = try work(db)
            } else {
                try db.inSavepoint { try work(db) }
            }
        }
        if transactions.isOpen {
            if isUndo {
                transactions.state.changeSet = nil
            } else if let completed {
                if transactions.state.changeSet == nil { transactions.state.firstSummary = completed.summary }
                transactions.state.changeSet = completed.changeSet
                transactions.state.changes += 1
                if keepInTransaction { transactions.state.dryRunRecords += completed.records }
            }
        }
        return result
    }

    /// Refuses a change that would touch records outside the user's scope, naming how many and some ids.
    func requireAllInScope(
        _ entity: EntityDefinition, filter: SQLFragment?, action: PermissionAction, scope level: GrantedRule.Scope,
        rule: GrantedRule?, db: Database, at range: SourceRange?
    ) throws {
        guard level != .all, let scoped = access.policy.scopeFilter(level, on: entity, alias: "t0") else { return }
        let base = Select(Sql.id("t0"), from: entity.name, as: "t0").where(filter.map(Sql.group))
        let outside = base.where(Sql.notTrue(scoped))
        let count = try Int.fetchOne(db, outside.counted) ?? 0
        guard count > 0 else { return }
        let sample = try Int64.fetchAll(db, outside.ordered(by: Sql.id("t0")).limited(5).sql)
        let total = try Int.fetchOne(db, base.counted) ?? 0
        let what = total == 1 ? "\(entity.singular) \(sample.first ?? 0)" : "\(count) of the \(total) \(entity.name)"
        let ids = total == 1 ? "" : " (e.g. " + sample.map(String.init).joined(separator: ", ") + ")"
        var why = "outside their \(level.name) scope"
        // The owner is named only of a record the user may read (undo reaches records that may
        // since have left the user's read scope).
        if total == 1, let id = sample.first, try RecordLookup.isReadable(id, of: entity, engine: self, db: db),
            let owner = try RecordLookup.ownerHandle(of: id, in: entity, db: db)
        {
            why = "it belongs to \(owner), outside their \(level.name) scope"
        }
        throw Diagnostic(
            .permissionDenied, "\(access.actor.handle) may not \(action) \(what)\(ids): \(why); nothing was changed",
            at: range,
            help:
                "\(rule?.description ?? level.name + " scope") covers only \(level == .own ? "records they own or are assigned" : "records owned within their team")"
        )
    }
}
