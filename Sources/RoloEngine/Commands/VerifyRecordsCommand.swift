import GRDB
import RoloStore
import RoloSyntax

/// `verify contact 12 [FIELD, …]`, `verify contacts where …`: someone checked the record (called
/// the person, saw the website) and its data holds; `last_verified_at` becomes now, so decay is
/// measured from the last check and not only from the last edit. A change like any other: the
/// update right on `last_verified_at`, a field-history row, a change set, undo, dry-run.
///
///     verify-records := 'verify' entity key [field {',' field}] | 'verify' entity 'where' condition
struct VerifyRecordsCommand: Command {
    var entity: EntityName
    var selector: RecordSelector
    /// The fields checked, when named: kept in the change set's and the audit entry's command text.
    var fields: [Located<String>]

    static let name = "verify"
    static let helpWords = ["verified", "last_verified_at"]
    static let forms = [
        form("verify") { parser, _ throws(Diagnostic) in
            if parser.atStatementEnd {
                throw parser.failure(expected: "what was checked, e.g. verify contact 12, or verify audit")
            }
            let entity = try parser.parseEntity()
            let selector = try parser.parseSelector(allowAll: false)
            var fields: [Located<String>] = []
            if case .one = selector, !parser.atStatementEnd {
                fields = try parser.parseNames("a field that was checked, e.g. verify contact 12 email, phone")
            }
            return VerifyRecordsCommand(entity: entity, selector: selector, fields: fields)
        }
    ]
    static let synopsis = "verify ENTITY NUMBER [FIELD, …] | verify ENTITY where CONDITION"
    static let summary =
        "Record that records were checked and hold: last_verified_at becomes now (decay counts from it). Undoable; --dry-run previews."
    static let examples = [
        "verify contact 12 email, phone",
        #"verify contacts where account = "Acme" and title is not empty --dry-run"#,
    ]
    static let actions: [PermissionAction] = [.update]
    static let arguments: [ArgumentHint] = [.entities(singular: true)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        try context.engine.performChange(context.statement, output: context.output) { db, recorder in
            try ChangeCommands(engine: context.engine, db: db, recorder: recorder).verify(
                entityName: entity, selector: selector, fields: fields)
        }
    }
}

extension ChangeCommands {
    /// The field a verification sets.
    static let verifiedField = "last_verified_at"

    func verify(entityName: EntityName, selector: RecordSelector, fields: [Located<String>]) throws -> ChangeOutcome {
        let entity = try Catalog.entity(entityName)
        try requireWritable(entity, at: entityName.range)
        guard let stamp = entity.field(named: Self.verifiedField) else {
            let verifiable = CRMSchema.entities.filter { $0.field(named: Self.verifiedField) != nil }.map(\.name)
            throw Diagnostic(
                .usage, "\(entity.name) have no \(Self.verifiedField), so they cannot be verified", at: entityName.range,
                help: "records with it: " + verifiable.joined(separator: ", "))
        }
        let scope = engine.access.queryScope(entity)
        let hidden = engine.access.readVisibility(entity).hiddenFields
        for name in fields {
            // Each field named must be one of the record's and one the verifier may read.
            guard let field = entity.field(named: name.value) ?? entity.relation(named: name.value) else {
                let near = Suggestions.nearest(to: name.value, in: Catalog.fieldNames(of: entity))
                throw Diagnostic(
                    .unknownField, "unknown field '\(name.value)' on \(entity.name)", at: name.range,
                    help: near.map { "did you mean '\($0)'?" })
            }
            if hidden.contains(field.name) {
                throw Diagnostic(
                    .permissionDenied, "\(engine.access.actor.handle) may not read \(entity.name).\(field.name), so cannot verify it",
                    at: name.range)
            }
        }
        let (level, rule, _) = try allowedScope(.update, entity, fields: [(stamp, entityName.range)], at: entityName.range)
        let filter = try self.filter(
            for: selector, entity: entity, scope: scope, binder: engine.binder(db, scope: scope), action: .update,
            decision: engine.access.decide(.update, on: entity.name), level: level, rule: rule, range: entityName.range)
        let count = try recorder.update(entity, filter: filter, set: [(stamp, Sql.value(recorder.now))])
        var outcome = ChangeOutcome(records: count, verb: .verified, entity: entity)
        if !fields.isEmpty { outcome.report.append("checked: " + fields.map(\.value).joined(separator: ", ")) }
        return outcome
    }
}
