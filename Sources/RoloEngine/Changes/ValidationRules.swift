import GRDB
import RoloStore
import RoloSyntax

/// A validation rule as `validation_rules` keeps it: Rolo source text, bound each time it is used,
/// so a rule reads the schema and the language of the Rolo that enforces it.
struct ValidationRule {
    let id: Int64
    let entity: EntityDefinition
    let field: String?
    let kind: RuleKind
    /// The rule as written after `rule`, without its message.
    let text: String
    /// The condition every record of `entity` must meet.
    let condition: String
    let message: String?

    /// The `find` that lists the records breaking the rule, runnable as it is.
    var offendersFind: String { "find \(entity.name) where not (\(condition))" }

    /// Every rule (of one entity), oldest first.
    static func load(_ db: Database, entity: EntityDefinition? = nil) throws -> [ValidationRule] {
        var query = Select(
            Select.columns(["id", "entity", "field", "kind", "rule", "condition", "message"]), from: CRMSchema.validationRules.name)
        if let entity { query = query.where(Sql.equals(Sql.name("entity"), Sql.value(entity.name))) }
        return try Row.fetchAll(db, query.ordered(by: Sql.name("id")).sql).compactMap { row in
            guard let entity = CRMSchema.entity(named: row["entity"]), let kind = RuleKind(rawValue: row["kind"]) else { return nil }
            return ValidationRule(
                id: row["id"], entity: entity, field: row["field"], kind: kind, text: row["rule"], condition: row["condition"],
                message: row["message"])
        }
    }
}

extension Engine {
    /// A scope that sees every record and field: a rule holds for every record, whoever changes it.
    func ruleScope(_ entity: EntityDefinition) -> QueryScope {
        QueryScope(root: entity, visibility: Visibility { _ in (.all, []) })
    }

    /// The records of the rule's entity (alias t0) that break it, among `within` when given, in
    /// `scope` (the rule scope for enforcement; the acting user's for `check rules`).
    func recordsBreaking(
        _ rule: ValidationRule, db: Database, scope: QueryScope, within: SQLFragment? = nil
    ) throws -> Select {
        let condition: Condition
        do {
            condition = try Parser.parseCondition(rule.condition)
        } catch {
            throw Diagnostic(
                .invalidRule, "rule \(rule.id) (\(rule.text)) no longer reads as a condition: \(error.message)",
                help: "drop rule \(rule.id) and write it again")
        }
        let sql: SQLFragment
        do {
            sql = try binder(db, scope: scope).condition(condition)
        } catch let error as Diagnostic {
            throw Diagnostic(
                .invalidRule, "rule \(rule.id) (\(rule.text)) no longer fits the schema: \(error.message)",
                help: "drop rule \(rule.id) and write it again")
        }
        return Select(Sql.id("t0"), from: rule.entity.name, as: "t0").joining(scope.joinSQL)
            .where(within.map { Sql.in(Sql.id("t0"), $0) }).where(Sql.notTrue(sql))
    }

    /// Refuses the change (E520, with the rule's number and message) if a record this statement
    /// created or changed breaks a validation rule. Runs inside the change's transaction, after
    /// its writes; records are found from the statement's own field-history rows.
    func enforceRules(_ db: Database, recorder: ChangeRecorder, at range: SourceRange? = nil) throws {
        let rules = try ValidationRule.load(db)
        guard !rules.isEmpty else { return }
        var touched: [(EntityDefinition, SQLFragment)] = []
        var seen = Set<String>()
        for rule in rules where seen.insert(rule.entity.name).inserted {
            if let ids = recorder.touchedIDs(of: rule.entity) { touched.append((rule.entity, ids)) }
        }
        try enforceRules(db, touched: touched, rules: rules, at: range)
    }

    /// The seam for other writers (import): refuses if any of the given records — per entity, a
    /// subquery or list of ids over which `t0.id IN (…)` is taken — breaks a rule. One count
    /// query per rule of a touched entity.
    func enforceRules(
        _ db: Database, touched: [(entity: EntityDefinition, ids: SQLFragment)], rules known: [ValidationRule]? = nil,
        at range: SourceRange? = nil
    ) throws {
        let rules = try known ?? ValidationRule.load(db)
        for (entity, ids) in touched {
            for rule in rules where rule.entity === entity {
                let breaking = try recordsBreaking(rule, db: db, scope: ruleScope(entity), within: ids)
                let count = try Int.fetchOne(db, breaking.counted) ?? 0
                guard count > 0 else { continue }
                let sample = try Int64.fetchAll(db, breaking.ordered(by: Sql.id("t0")).limited(3).sql)
                let which =
                    count == 1
                    ? "\(entity.singular) \(sample.first ?? 0)"
                    : "\(count) \(entity.name) (\(sample.map(String.init).joined(separator: ", "))\(count > sample.count ? ", …" : ""))"
                throw Diagnostic(
                    .ruleBroken, "rule \(rule.id): \(rule.message ?? rule.text)", at: range,
                    help: "\(which) would break it (\(rule.text)); nothing was changed")
            }
        }
    }
}
