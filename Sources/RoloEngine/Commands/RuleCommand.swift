import GRDB
import RoloStore
import RoloSyntax

/// Validation rules: defining, listing, dropping and checking them.
///
///     rule  := 'rule' entity '.' field 'must' field-test [ STRING ]
///            | 'rule' entity 'require' field [ 'when' condition ] [ STRING ]
///            | 'rule' entity 'must' condition [ STRING ]
///     field-test := ('be' 'valid' | 'match') ('email' | 'phone') | 'not' 'be' 'empty'
///            | [ 'be' ] predicate-after-value          (`be in (a, b)`, `> 0`, `not contains "x"`…)
///     rules := 'rules' [ entity ]
///     drop  := 'drop' 'rule' NUMBER
///     check := 'check' 'rules' [ entity ]
///
/// A rule is stored as Rolo text — the condition every record of its entity must meet — and bound
/// whenever it is used, so `check rules` prints a `find` that lists the records breaking it.
struct RuleCommand: Command {
    enum Action: Equatable, Sendable {
        case create(RuleDefinition)
        case list(entity: EntityName?)
        case drop(number: Located<Int>)
        case check(entity: EntityName?)
    }
    var action: Action

    /// A rule as parsed: its parts with their places in the line (for errors), and its text.
    struct RuleDefinition: Equatable, Sendable {
        var entity: EntityName
        var field: Located<String>?
        var kind: RuleKind
        /// What is bound at creation, for errors that point into the line: the field test, the
        /// required field's emptiness and the `when` condition, or the whole-record condition.
        var checks: [Condition]
        /// The rule as written, without its message.
        var text: String
        /// The condition every record must meet, as written (names of records as written).
        var condition: String
        var message: Located<String>?
        /// The line the rule was read from, and where in it the rule's text and its condition's
        /// pieces are, so the text can be written again with records named by number.
        var source: String = ""
        var textRange: SourceRange? = nil
        var conditionParts: [ConditionPart] = []

        /// A piece of the stored condition: words Rolo adds (`FIELD is empty or `) or a part of the line.
        enum ConditionPart: Equatable, Sendable {
            case words(String)
            case source(SourceRange)
        }

        /// The rule's text and condition with the given ranges of the line replaced (a record's
        /// name by its number when stored; its number by its current name when shown).
        func written(replacing replacements: [(range: SourceRange, text: String)]) -> (text: String, condition: String) {
            guard let textRange, !replacements.isEmpty else { return (text, condition) }
            let bytes = Array(source.utf8)
            let sorted = replacements.sorted { $0.range.start.offset < $1.range.start.offset }
            func render(_ range: SourceRange) -> String {
                var out: [UInt8] = []
                var at = range.start.offset
                for replacement in sorted
                where replacement.range.start.offset >= at && replacement.range.end.offset <= range.end.offset {
                    out += bytes[at..<replacement.range.start.offset]
                    out += Array(replacement.text.utf8)
                    at = replacement.range.end.offset
                }
                out += bytes[at..<range.end.offset]
                return String(decoding: out, as: UTF8.self)
            }
            let condition = conditionParts.map { part -> String in
                switch part {
                case .words(let words): return words
                case .source(let range): return render(range)
                }
            }.joined()
            return (render(textRange), condition)
        }
    }

    static let name = "rule"
    static let forms = [
        form("rule") { parser, _ throws(Diagnostic) in RuleCommand(action: .create(try parser.parseRule())) },
        form("rules") { parser, _ throws(Diagnostic) in
            RuleCommand(action: .list(entity: parser.atStatementEnd ? nil : try parser.parseEntity()))
        },
        form("drop", "rule") { parser, _ throws(Diagnostic) in
            RuleCommand(action: .drop(number: try parser.parseInteger(what: "the rule's number, e.g. drop rule 2")))
        },
        form("check", "rules") { parser, _ throws(Diagnostic) in
            RuleCommand(action: .check(entity: parser.atStatementEnd ? nil : try parser.parseEntity()))
        },
    ]
    static let synopsis =
        #"rule ENTITY.FIELD must TEST ["message"] | rule ENTITY require FIELD [when CONDITION] ["message"] | rule ENTITY must CONDITION ["message"] | rules [ENTITY] | drop rule N | check rules [ENTITY]"#
    static let summary =
        "Validation rules, kept in the database and enforced on every create, update, merge and import (never on undo); check rules counts the records breaking each."
    static let examples = [
        #"rule leads.source must be in (web, referral, event, partner) "Pick one of the four sources" --dry-run"#,
        #"rule deals require close_date when stage >= proposal "Deals past proposal need a close date""#,
        "rules",
        "check rules",
    ]
    static let helpWords = ["rules", "check"]
    static let actions: [PermissionAction] = [.manageRules, .read]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]
    /// `drop rule N` takes a rule's number: nothing to complete.
    static func arguments(after words: [String]) -> [ArgumentHint] { words == ["drop", "rule"] ? [] : arguments }

    var changesData: Bool {
        switch action {
        case .create, .drop: return true
        case .list, .check: return false
        }
    }

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        switch action {
        case .create(let definition):
            return try engine.performChange(context.statement, output: context.output) { db, recorder in
                try RuleWriter(engine: engine, db: db, recorder: recorder).create(definition)
            }
        case .drop(let number):
            return try engine.performChange(context.statement, output: context.output) { db, recorder in
                try RuleWriter(engine: engine, db: db, recorder: recorder).drop(number)
            }
        case .list(let entityName):
            return try engine.store.inDatabase { db in
                let entity = try entityName.map { name throws -> EntityDefinition in try Catalog.entity(name) }
                let rules = try ValidationRule.load(db, entity: entity)
                var writer = ResultWriters.make(context.format, output: context.output)
                writer.begin([
                    ResultColumn("rule", .integer), ResultColumn("entity", .text), ResultColumn("text", .text),
                    ResultColumn("message", .text),
                ])
                for rule in rules {
                    writer.row([
                        rule.id.databaseValue, rule.entity.name.databaseValue, engine.shownText(of: rule, db: db).databaseValue,
                        rule.message.databaseValue,
                    ])
                }
                writer.end(note: rules.isEmpty ? "no validation rules yet; an admin adds one with `rule …` (help rule)" : nil)
                var result = CommandResult()
                result.rows = rules.count
                return result
            }
        case .check(let entityName):
            return try engine.store.inDatabase { db in
                let entity = try entityName.map { name throws -> EntityDefinition in try Catalog.entity(name) }
                let rules = try ValidationRule.load(db, entity: entity)
                if rules.isEmpty { context.output.line("no validation rules" + (entity.map { " on \($0.name)" } ?? "")) }
                var broken = 0
                for rule in rules {
                    // Counted within what the user may read, so the count is what the find lists.
                    if case .none = engine.access.readVisibility(rule.entity).records {
                        context.output.line(
                            "rule \(rule.id) (\(engine.shownText(of: rule, db: db))): not counted; \(engine.access.actor.handle) may not read \(rule.entity.name)")
                        continue
                    }
                    let scope = engine.access.queryScope(rule.entity)
                    let breaking = try engine.recordsBreaking(rule, db: db, scope: scope)
                        .where(engine.access.readFilter(rule.entity))
                    let count = try engine.overflowNamingRule(rule) { try Int.fetchOne(db, breaking.counted) ?? 0 }
                    if count > 0 { broken += 1 }
                    let noun = count == 1 ? rule.entity.singular : rule.entity.name
                    context.output.line(
                        "rule \(rule.id) (\(engine.shownText(of: rule, db: db))): " + (count == 0 ? "no \(rule.entity.name) break it" : "\(count) \(noun) break it"))
                    if count > 0 { context.output.line("  " + rule.offendersFind) }
                }
                var result = CommandResult()
                result.rows = broken
                return result
            }
        }
    }
}

extension Parser {
    /// A rule after `rule`, in one of its three forms, with its text and stored condition.
    mutating func parseRule() throws(Diagnostic) -> RuleCommand.RuleDefinition {
        let entity = try parseEntity()
        let start = entity.range
        var field: Located<String>? = nil
        let kind: RuleKind
        var checks: [Condition] = []
        let condition: String
        var parts: [RuleCommand.RuleDefinition.ConditionPart] = []
        if acceptSymbol(.dot) {
            let name = try parseName("a field, e.g. rule contacts.email must be valid email")
            field = name
            guard acceptWord("must") else {
                throw failure(expected: "'must', e.g. rule \(entity.value).\(name.value) must be valid email")
            }
            kind = .must
            let value = Expression(.path([name]), name.range)
            let test: Condition
            let testText: String
            if current.isWord("match") || (current.isWord("be") && peek().isWord("valid")) {
                _ = advance()
                _ = acceptWord("valid")
                guard let word = current.word, let format = ValueFormat(rawValue: word) else {
                    throw failure(expected: "'email' or 'phone'")
                }
                let end = advance().range
                test = Condition(.isValid(value, format, negated: false), name.range.union(end))
                testText = "\(name.value) is valid \(format.rawValue)"
            } else if current.isWord("not"), peek().isWord("be"), peek(2).isWord("empty") {
                _ = advance()
                _ = advance()
                let end = advance().range
                test = Condition(.isEmpty(value, negated: true), name.range.union(end))
                testText = "\(name.value) is not empty"
            } else {
                _ = acceptWord("be")
                let tailStart = current.range
                test = try parsePredicate(after: value)
                testText = name.value + " " + text(of: SourceRange(tailStart.start, test.range.end))
                parts = [.words(name.value + " "), .source(SourceRange(tailStart.start, test.range.end))]
            }
            if parts.isEmpty { parts = [.words(testText)] }
            checks = [test]
            // A test of a field's values passes an empty field (`require` asks for a value),
            // unless the test is itself about emptiness.
            if case .isEmpty = test.kind {
                condition = testText
            } else {
                condition = "\(name.value) is empty or \(testText)"
                parts.insert(.words("\(name.value) is empty or "), at: 0)
            }
        } else if acceptWord("require") {
            kind = .require
            let name = try parseName("the field it requires, e.g. rule deals require close_date when stage >= proposal")
            field = name
            checks = [Condition(.isEmpty(Expression(.path([name]), name.range), negated: true), name.range)]
            if acceptWord("when") {
                let when = try parseCondition()
                checks.append(when)
                condition = "\(name.value) is not empty or not (\(text(of: when.range)))"
                parts = [.words("\(name.value) is not empty or not ("), .source(when.range), .words(")")]
            } else {
                condition = "\(name.value) is not empty"
                parts = [.words(condition)]
            }
        } else if acceptWord("must") {
            kind = .must
            let whole = try parseCondition()
            checks = [whole]
            condition = text(of: whole.range)
            parts = [.source(whole.range)]
        } else {
            throw failure(
                expected: "'.FIELD must', 'require FIELD' or 'must CONDITION', e.g. rule \(entity.value).email must be valid email")
        }
        let end = previous?.range ?? start
        let ruleText = text(of: start.union(end))
        var message: Located<String>? = nil
        if let text = stringValue(current) {
            message = Located(text, advance().range)
        }
        return RuleCommand.RuleDefinition(
            entity: entity, field: field, kind: kind, checks: checks, text: ruleText, condition: condition, message: message,
            source: text(of: SourceRange(.start, current.range.end)), textRange: start.union(end), conditionParts: parts)
    }
}

/// What `rule` and `drop rule` write, through the change recorder: history, change set, audit, undo.
struct RuleWriter {
    let engine: Engine
    let db: Database
    let recorder: ChangeRecorder

    /// Managing rules needs `manage_rules` (admins).
    func requireManageRules(at range: SourceRange?) throws {
        let decision = engine.access.decide(.manageRules, on: CRMSchema.validationRules.name)
        if let deny = decision.deniedBy {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not manage_rules", at: range, help: "denied by rule \(deny.description)")
        }
        guard decision.scope == .all else {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not manage_rules", at: range,
                help: "creating and dropping validation rules is for admins (`rules` lists them for everyone)")
        }
    }

    func create(_ rule: RuleCommand.RuleDefinition) throws -> ChangeOutcome {
        try requireManageRules(at: rule.entity.range)
        let entity = try Catalog.entity(rule.entity)
        guard entity.kind == .domain else {
            throw Diagnostic(
                .invalidRule, "rules are for the CRM's records, not \(entity.name)", at: rule.entity.range,
                help: "entities are " + CRMSchema.entities.filter { $0.kind == .domain }.map(\.name).joined(separator: ", "))
        }
        // A relation's name stands for its field (`require contact` is contact_id).
        var fieldName = rule.field?.value
        if let field = rule.field {
            let definition = entity.field(named: field.value) ?? entity.fields.first { $0.relationName == field.value }
            if let definition, definition.system {
                throw Diagnostic(.invalidRule, "\(field.value) is kept by Rolo; a rule cannot ask anything of it", at: field.range)
            }
            fieldName = definition?.name ?? field.value
        }
        // Bound as written, so a wrong name, value or type points into the line.
        // Words meaning the acting user are refused, and records named by their key are bound to
        // their numbers: the rule is stored naming them by number, and shown by their current names.
        let scope = engine.ruleScope(entity)
        var binder = engine.binder(db, scope: scope)
        let binding = RuleBinding()
        binder.rule = binding
        for check in rule.checks { _ = try binder.condition(check) }
        let (text, condition) = rule.written(
            replacing: binding.references.map { (range: $0.range, text: String($0.id)) })
        if try Int64.fetchOne(
            db,
            Select(Sql.name("id"), from: CRMSchema.validationRules.name).where(Sql.equals(Sql.name("entity"), Sql.value(entity.name)))
                .where(Sql.equals(Sql.name("condition"), Sql.value(condition))).sql) != nil
        {
            throw Diagnostic(.invalidRule, "there is already a rule saying that", at: rule.entity.range, help: "rules \(entity.name)")
        }
        let values: [(field: String, value: DatabaseValue)] = [
            ("entity", entity.name.databaseValue), ("field", fieldName?.databaseValue ?? .null),
            ("kind", rule.kind.rawValue.databaseValue), ("rule", text.databaseValue),
            ("condition", condition.databaseValue), ("message", rule.message?.value.databaseValue ?? .null),
            ("created_by", engine.access.actor.id.databaseValue),
        ]
        let id = try recorder.insert(CRMSchema.validationRules, values: values)
        let stored = ValidationRule(
            id: id, entity: entity, field: fieldName, kind: rule.kind, text: text, condition: condition,
            message: rule.message?.value)
        // Records that already break it: the rule holds from now on, for records a change touches.
        let count = try engine.overflowNamingRule(stored, db: db, at: rule.entity.range.union(rule.textRange ?? rule.entity.range)) {
            try Int.fetchOne(db, try engine.recordsBreaking(stored, db: db, scope: scope).counted) ?? 0
        }
        var outcome = ChangeOutcome(records: 1, verb: .created, entity: CRMSchema.validationRules)
        outcome.noun = ("rule", "rules")
        outcome.showsDiffs = false
        outcome.note = "rule \(id): \(rule.text)" + (rule.message.map { " (\"\($0.value)\")" } ?? "")
        if count == 0 {
            outcome.report = ["no \(entity.name) break it now; it holds for every change from now on"]
        } else {
            outcome.report = [
                "\(count) \(count == 1 ? entity.singular : entity.name) already \(count == 1 ? "breaks" : "break") it; a change is refused only where it newly breaks it. They are:",
                "  " + stored.offendersFind,
            ]
        }
        return outcome
    }

    func drop(_ number: Located<Int>) throws -> ChangeOutcome {
        try requireManageRules(at: number.range)
        let filter = Sql.idEquals("t0", Int64(number.value))
        let exists = try Int.fetchOne(db, Select(Sql.countAll, from: CRMSchema.validationRules.name, as: "t0").where(filter).sql) ?? 0
        guard exists > 0 else {
            throw Diagnostic(
                .unknownRule, "there is no rule \(number.value)", at: number.range, help: "rules lists them with their numbers")
        }
        let text =
            try String.fetchOne(
                db, Select(Sql.column("t0", "rule"), from: CRMSchema.validationRules.name, as: "t0").where(filter).sql) ?? ""
        let count = try recorder.delete(CRMSchema.validationRules, filter: filter)
        var outcome = ChangeOutcome(records: count, verb: .dropped, entity: CRMSchema.validationRules)
        outcome.noun = ("rule", "rules")
        outcome.showsDiffs = false
        outcome.note = "rule \(number.value) was: \(text)"
        return outcome
    }
}
