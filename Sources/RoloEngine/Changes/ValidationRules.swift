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
            guard let entity = CRMSchema.entity(named: try row.decode(forColumn: "entity")), let kind = RuleKind(rawValue: try row.decode(forColumn: "kind")) else { return nil }
            return ValidationRule(
                id: try row.decode(forColumn: "id"), entity: entity, field: try row.decode(forColumn: "field"), kind: kind, text: try row.decode(forColumn: "rule"), condition: try row.decode(forColumn: "condition"),
                message: try row.decode(forColumn: "message"))
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
        guard !rules.isEmpty else {
            try recorder.baseline?.drop()
            return
        }
        var touched: [(EntityDefinition, SQLFragment)] = []
        var seen = Set<String>()
        for rule in rules where seen.insert(rule.entity.name).inserted {
            if let ids = recorder.touchedIDs(of: rule.entity) { touched.append((rule.entity, ids)) }
        }
        try enforceRules(db, touched: touched, rules: rules, baseline: recorder.baseline, at: range)
        try recorder.baseline?.drop()
    }

    /// The seam for other writers (import): refuses if any of the given records — per entity, a
    /// subquery or list of ids over which `t0.id IN (…)` is taken — breaks a rule. One count
    /// query per rule of a touched entity. With a `baseline`, records that broke the rule before
    /// the statement touched them are not counted: a change is refused for what it breaks.
    func enforceRules(
        _ db: Database, touched: [(entity: EntityDefinition, ids: SQLFragment)], rules known: [ValidationRule]? = nil,
        baseline: RuleBaseline? = nil, at range: SourceRange? = nil
    ) throws {
        let rules = try known ?? ValidationRule.load(db)
        for (entity, ids) in touched {
            for rule in rules where rule.entity === entity {
                let breaking = try recordsBreaking(rule, db: db, scope: ruleScope(entity), within: ids)
                    .where(baseline?.alreadyBroken(rule).map { Sql.notIn(Sql.id("t0"), $0) })
                let count = try overflowNamingRule(rule, db: db, at: range) { try Int.fetchOne(db, breaking.counted) ?? 0 }
                guard count > 0 else { continue }
                let sample = try Int64.fetchAll(db, breaking.ordered(by: Sql.id("t0")).limited(3).sql)
                let which =
                    count == 1
                    ? "\(entity.singular) \(sample.first ?? 0)"
                    : "\(count) \(entity.name) (\(sample.map(String.init).joined(separator: ", "))\(count > sample.count ? ", …" : ""))"
                let text = shownText(of: rule, db: db)
                throw Diagnostic(
                    .ruleBroken, "rule \(rule.id): \(rule.message ?? text)", at: range,
                    help: "\(which) would break it (\(text)); nothing was changed")
            }
        }
    }
}

extension Engine {
    /// The rule's text with the records it names (stored by number) shown by their current names:
    /// `contacts must account != "Acme"` after Acme's rename shows the new name. A record no longer
    /// there keeps its number; a rule that no longer binds is shown as stored.
    func shownText(of rule: ValidationRule, db: Database) -> String {
        guard let statement = try? Parser.parse("rule " + rule.text).first,
            let command = statement.command as? RuleCommand, case .create(let definition) = command.action
        else { return rule.text }
        var binder = binder(db, scope: ruleScope(rule.entity))
        let binding = RuleBinding()
        binder.rule = binding
        do {
            for check in definition.checks { _ = try binder.condition(check) }
        } catch {
            return rule.text
        }
        var replacements: [(range: SourceRange, text: String)] = []
        for reference in binding.references {
            let entity = reference.entity
            let key = entity.name == "users" ? "handle" : entity.naturalKey.first
            guard let key,
                let name = try? String.fetchOne(
                    db, Select(Sql.column("t0", key), from: entity.name, as: "t0").where(Sql.idEquals("t0", reference.id)).sql)
            else { continue }
            let bare = entity.name == "users" && !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
            replacements.append((reference.range, bare ? name : Self.quotedLiteral(name)))
        }
        return definition.written(replacing: replacements).text
    }

    /// A string literal of the language: in double quotes, `"` and `\\` escaped.
    static func quotedLiteral(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t") + "\""
    }

    /// Runs `body`, a query over a rule's condition; a value the rule computes past Rolo's limits
    /// (money arithmetic, a date moved out of the calendar) is E308 naming the rule.
    func overflowNamingRule<T>(
        _ rule: ValidationRule, db: Database? = nil, at range: SourceRange? = nil, _ body: () throws -> T
    ) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            guard let limit = DatabaseErrors.limit(of: error), limit.code == .valueOutOfRange
            else { throw error }
            let text = db.map { shownText(of: rule, db: $0) } ?? rule.text
            throw Diagnostic(
                .valueOutOfRange, "rule \(rule.id) (\(text)): " + limit.text.prefix(1).lowercased() + limit.text.dropFirst(),
                at: range, help: limit.help)
        }
    }
}

/// Which records broke each rule before the statement first touched them, so a change is refused
/// only for the records it newly breaks (passed before, fail after). The change recorder calls it
/// before each update, over the records the update may touch, and for each record it creates (a
/// new record broke nothing before); kept in TEMP tables per rule, dropped when the statement's
/// rules have been checked (and rolled back with a refused change).
final class RuleBaseline {
    let engine: Engine
    let db: Database
    /// The statement, for errors.
    let range: SourceRange?
    private var rules: [ValidationRule]? = nil
    /// Per rule: the table of records seen so far and the table of those that broke it then.
    private var tables: [Int64: (seen: String, broken: String)] = [:]

    /// Made at the start of a change, before its writes: the tables are created here, outside
    /// any savepoint the change's own work opens (an import rolls its writes back and redoes them),
    /// so they last as long as the change.
    init(engine: Engine, db: Database, at range: SourceRange? = nil) throws {
        self.engine = engine
        self.db = db
        self.range = range
        let rules = try ValidationRule.load(db)
        self.rules = rules
        for rule in rules {
            let names = (seen: "rolo_rule_\(rule.id)_seen", broken: "rolo_rule_\(rule.id)_broken")
            for name in [names.seen, names.broken] {
                try db.execute(SchemaSQL.dropTemporaryTable(name))
                try db.execute(SchemaSQL.createTemporaryTable(name, key: "id", columns: []))
            }
            tables[rule.id] = names
        }
    }

    private func rules(of entity: EntityDefinition) throws -> [ValidationRule] {
        rules?.filter { $0.entity === entity && tables[$0.id] != nil } ?? []
    }

    private func tables(for rule: ValidationRule) throws -> (seen: String, broken: String) {
        guard let known = tables[rule.id] else { preconditionFailure("rule \(rule.id) has no baseline tables") }
        return known
    }

    /// Before an update of `entity`'s records matching `filter` (alias t0): notes those not seen
    /// yet, and which of them break each rule as they are.
    func beforeUpdate(_ entity: EntityDefinition, filter: SQLFragment?) throws {
        for rule in try rules(of: entity) {
            let (seen, broken) = try tables(for: rule)
            let unseen = Select(Sql.id("t0"), from: entity.name, as: "t0").where(filter)
                .where(Sql.notIn(Sql.id("t0"), Select(Sql.name("id"), from: seen).sql))
            let breaking = try engine.recordsBreaking(rule, db: db, scope: engine.ruleScope(entity), within: unseen.sql)
            try engine.overflowNamingRule(rule, db: db, at: range) { try db.execute(Insert(into: broken, columns: ["id"], select: breaking).sql) }
            try db.execute(Insert(into: seen, columns: ["id"], select: unseen).sql)
        }
    }

    /// A record the statement created: it broke nothing before.
    func created(_ entity: EntityDefinition, id: Int64) throws {
        for rule in try rules(of: entity) {
            let (seen, _) = try tables(for: rule)
            try db.execute(
                Insert(into: seen, columns: ["id"], select: Select(value: Sql.value(id))
                    .where(Sql.notIn(Sql.value(id), Select(Sql.name("id"), from: seen).sql))).sql)
        }
    }

    /// The records that broke `rule` before the statement touched them (a subquery of ids).
    func alreadyBroken(_ rule: ValidationRule) -> SQLFragment? {
        tables[rule.id].map { Select(Sql.name("id"), from: $0.broken).sql }
    }

    func drop() throws {
        for (seen, broken) in tables.values {
            try db.execute(SchemaSQL.dropTemporaryTable(seen))
            try db.execute(SchemaSQL.dropTemporaryTable(broken))
        }
        tables = [:]
    }
}
