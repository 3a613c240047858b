import GRDB
import RoloStore
import RoloSyntax

/// `audit [contacts|accounts|leads|all] [older than N months] [as json] [--save]` and
/// `audit history [ENTITY]`: the data-governance article's seven-step audit as one report
/// (issue 22, item 1; the measuring is Quality/DataAudit*.swift). It reads only, under the
/// user's read rights; `--save` keeps the report in `audit_snapshots` (a change, with the
/// `manage_rules` right), and `audit history` shows the saved ones as a trend.
///
///     audit := 'audit' ['history'] [entity | 'all'] ['older' 'than' NUMBER 'months'] ['as' format]
struct AuditCommand: Command {
    var entity: EntityName?
    var history = false
    var months: Located<Int>?
    var format: Located<OutputFormat>?

    static let name = "audit"
    static let forms = [
        form("audit") { parser, _ throws(Diagnostic) in
            var command = AuditCommand()
            if parser.acceptWord("history") { command.history = true }
            if let word = parser.current.word, !["older", "as"].contains(word) { command.entity = try parser.parseEntity() }
            while !parser.atStatementEnd {
                if !command.history, parser.acceptWord("older") {
                    guard parser.acceptWord("than") else { throw parser.failure(expected: "'than', e.g. older than 12 months") }
                    let months = try parser.parseInteger(what: "a number of months, e.g. older than 12 months")
                    guard parser.acceptWord("months") || parser.acceptWord("month") else {
                        throw parser.failure(expected: "'months', e.g. older than 12 months")
                    }
                    command.months = months
                } else if !command.history, parser.acceptWord("as") {
                    command.format = try parser.parseFormat()
                } else {
                    throw parser.failure(expected: command.history ? "the end of the command" : "'older than N months' or 'as json'")
                }
            }
            return command
        }
    ]
    static let synopsis = "audit [contacts|accounts|leads|all] [older than N months] [as json] [--save] | audit history [ENTITY]"
    static let summary =
        "The seven-step data audit in one report: locate, prioritise, duplicates and incorrect data, conflicts, missing data, uniform entry, decay; each finding with its count, examples, the find that lists it and the command that fixes it."
    static let examples = ["audit contacts", "audit history contacts"]
    static let actions: [PermissionAction] = [.read, .manageRules]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]
    static let audited = ["contacts", "accounts", "leads"]

    func changesData(with options: [CommandOption]) -> Bool { !history && options.contains { $0.name.value == "save" } }

    func run(_ context: CommandContext) throws -> CommandResult {
        history ? try showHistory(context) : try audit(context)
    }

    func entities() throws -> [EntityDefinition] {
        guard let entity else { return [CRMSchema.contacts] }
        if entity.value == "all" { return Self.audited.compactMap { CRMSchema.entity(named: $0) } }
        let found = try Catalog.entity(entity)
        guard Self.audited.contains(found.name) else {
            throw Diagnostic(.usage, "audit looks at contacts, accounts and leads, not \(found.name)", at: entity.range, help: "e.g. audit contacts, or audit all")
        }
        return [found]
    }

    func audit(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        let all = entity?.value == "all"
        let range = entity?.range ?? context.statement.range
        let months = self.months?.value ?? 12
        if let given = self.months, !(1...600).contains(given.value) {
            throw Diagnostic(.invalidValue, "older than \(given.value) months is outside 1–600", at: given.range, help: "e.g. older than 12 months")
        }
        let format = self.format?.value ?? (context.format == .json ? .json : .table)
        guard format == .table || format == .json else {
            throw Diagnostic(.invalidValue, "an audit prints as a table or as json", at: self.format?.range ?? range, help: "e.g. audit contacts as json")
        }
        let save = context.statement.hasOption("save")
        if save { try Self.requireManageRules(engine, at: range) }
        var reports: [AuditReport] = []
        var refused: [String] = []
        for entity in try entities() {
            let decision = engine.access.decide(.read, on: entity.name)
            if all, decision.deniedBy != nil || (decision.scope == nil && decision.fieldAllows.isEmpty) {
                refused.append("\(entity.name): \(engine.access.actor.handle) may not read \(entity.name); not audited")
                continue
            }
            _ = try engine.access.require(.read, entity, at: range)
            if format == .json { try engine.access.requireExport(entity, format: .json, at: range) }
            reports.append(
                try context.store.inDatabase { db in
                    try DataAudit(engine: engine, db: db, entity: entity, decayMonths: months).run()
                })
        }
        let output = context.output
        if format == .json {
            let texts = try reports.map { try $0.json() }
            let text = all ? "[\n" + texts.joined(separator: ",\n") + "\n]" : texts.first ?? "{}"
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { output.line(String(line)) }
        } else if context.statement.hasOption("quiet") {
            for report in reports {
                output.line(
                    "audit of \(report.entity): \(AuditReport.number(report.records)) records, \(AuditReport.number(report.totalFindings)) findings")
            }
        } else {
            for (index, report) in reports.enumerated() {
                if index > 0 { output.line() }
                let when = report.date.prefix(16).replacingOccurrences(of: "T", with: " ")
                for line in report.text(when: when) { output.line(line) }
            }
            for line in refused {
                output.line()
                output.line(line)
            }
        }
        var result = CommandResult()
        result.rows = reports.reduce(0) { $0 + $1.totalFindings }
        guard save, !reports.isEmpty else { return result }
        if format == .table, !context.statement.hasOption("quiet") { output.line() }
        return try engine.performChange(context.statement, output: output) { _, recorder in
            for report in reports {
                _ = try recorder.insert(
                    CRMSchema.auditSnapshots,
                    values: [
                        ("entity", report.entity.databaseValue), ("records", report.records.databaseValue),
                        ("findings", report.totalFindings.databaseValue), ("report", try report.json().databaseValue),
                        ("created_by", engine.access.actor.id.databaseValue), ("created_at", report.date.databaseValue),
                    ])
            }
            var outcome = ChangeOutcome(records: reports.count, verb: .saved, entity: CRMSchema.auditSnapshots)
            outcome.noun = ("audit", "audits")
            outcome.showsDiffs = false
            outcome.note = "audit history \(reports.count == 1 ? reports[0].entity : "ENTITY") shows the trend"
            return outcome
        }
    }

    static func requireManageRules(_ engine: Engine, at range: SourceRange?) throws {
        let decision = engine.access.decide(.manageRules, on: CRMSchema.auditSnapshots.name)
        guard decision.deniedBy == nil, decision.scope == .all else {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not save audits", at: range,
                help: "saving an audit needs manage_rules, the data-governance right (anyone may run audit)")
        }
    }
}
