import GRDB
import RoloStore
import RoloSyntax

/// A value expression after binding: what it is, its SQL and its type.
enum BoundExpression {
    case column(ColumnReference)
    /// Computed SQL (functions, arithmetic) of a known or unknown type.
    case computed(SQLFragment, FieldType?)
    /// A literal; `type` is the type it was checked against.
    case constant(DatabaseValue, FieldType?)
    case temporal(TemporalValue)
    case duration(Int, TimeUnit)
    /// A subquery yielding ids: `account = "Acme"`, `owner = bob`, `owner in my team`.
    case ids(SQLFragment)
    case null

    var type: FieldType? {
        switch self {
        case .column(let c): return c.type
        case .computed(_, let t), .constant(_, let t): return t
        case .temporal(let t):
            if case .instant = t.kind { return .timestamp }
            return .date
        case .duration, .null, .ids: return nil
        }
    }
}

/// Who is acting, for `me` and `my team`.
public struct Actor: Sendable, Equatable {
    public let id: Int64
    public let handle: String
    public let name: String
    public let teamID: Int64?

    public init(id: Int64, handle: String, name: String, teamID: Int64?) {
        self.id = id
        self.handle = handle
        self.name = name
        self.teamID = teamID
    }
}

/// Binds expressions and conditions of one query against the schema and the data.
///
/// Names resolve through the `QueryScope`; bare words resolve by the type they are compared
/// with (an enum value, a user handle, a date word); constants become bound arguments.
struct ExpressionBinder {
    let database: Database
    let scope: QueryScope
    let temporal: TemporalResolver
    let actor: Actor
    let parameterValues: [String: ScriptValue]
    /// Told when the binding reads the data or a parameter (the clock tells it through `temporal`).
    let dependencies: BindingDependencies?
    /// In a `having` condition: the groups' figures by name (`count`, the command's own `sum`…),
    /// the only names it may use; nil elsewhere.
    var figures: [(name: String, sql: SQLFragment, type: FieldType)]? = nil
    /// Set while a validation rule is bound: words meaning the acting user are refused, and the
    /// records it names are collected with their numbers.
    var rule: RuleBinding? = nil
    /// `has …` / `no …` as one set of the related records' links (`t0.id IN (SELECT contact_id …)`)
    /// rather than a probe per record (EXISTS): the same records, faster when the whole table is
    /// read (`audit`), slower for one record, so only the audit asks for it.
    var relatedAsSets = false

    init(
        db: Database, scope: QueryScope, temporal: TemporalResolver, actor: Actor, parameters: [String: ScriptValue],
        rule: RuleBinding? = nil, dependencies: BindingDependencies? = nil
    ) {
        self.database = db
        self.scope = scope
        self.temporal = temporal
        self.actor = actor
        self.parameterValues = parameters
        self.rule = rule
        self.dependencies = dependencies
    }

    /// The database, for lookups (a record by key, a user by handle): what they find is of this moment.
    var db: Database {
        dependencies?.volatile = true
        return database
    }

    /// A script's parameters: their values are of this run.
    var parameters: [String: ScriptValue] {
        dependencies?.volatile = true
        return parameterValues
    }

    // MARK: - Values

    func bind(_ expression: Expression, expecting expected: FieldType? = nil) throws -> BoundExpression {
        switch expression.kind {
        case .path(let parts):
            if let figures { return try bindFigure(parts, expecting: expected, figures: figures) }
            if parts.count == 1 {
                if let word = try bindWord(parts[0], expecting: expected) { return word }
            }
            return .column(try scope.resolve(parts))
        case .string(let s):
            // In NFC, as text is stored: a decomposed `Zoe\u{308}` typed at the prompt is `Zoë`.
            return try bindText(TextFolding.stored(s), at: expression.range, expecting: expected)
        case .number(let text):
            if let rule, case .reference(let target) = expected, let id = Int64(text), let entity = CRMSchema.entity(named: target) {
                rule.references.append(.init(range: expression.range, id: id, entity: entity))
            }
            if expected == .money {
                if let cents = Self.cents(fromDecimal: text) { return .constant(cents.databaseValue, .money) }
                if Self.isDecimal(text) { throw Self.moneyOutOfRange(text, at: expression.range) }
            }
            if let int = Int64(text) { return .constant(int.databaseValue, .integer) }
            if !text.contains(".") {
                throw Diagnostic(
                    .valueOutOfRange, "the number \(text) is too large", at: expression.range,
                    help: "whole numbers go up to 9,223,372,036,854,775,807")
            }
            if let double = Double(text) { return .constant(double.databaseValue, .integer) }
            throw Diagnostic(.invalidValue, "invalid number '\(text)'", at: expression.range)
        case .money(let cents):
            return .constant(Int64(cents).databaseValue, .money)
        case .date(let text) where text.count > 10:
            // A moment: 2026-11-22T10:00:00Z (or 2026-11-22 10:00, as tables print it).
            if let moment = Timestamp(text), !(1...9999).contains(moment.date.year) {
                throw Self.dateOutOfRange(at: expression.range)
            }
            guard let moment = Timestamp(text), (1...9999).contains(moment.date.year) else {
                throw Diagnostic(
                    .invalidDate, "'\(text.replacingOccurrences(of: "T", with: " ").dropLast())' is not a time of the calendar",
                    at: expression.range, help: "write a time as 2026-11-22 10:00 or 2026-11-22T10:00:00Z (UTC)")
            }
            return .temporal(TemporalValue(kind: .instant(moment)))
        case .date(let text):
            if let date = CivilDate(text), !(1...9999).contains(date.year) { throw Self.dateOutOfRange(at: expression.range) }
            guard let date = CivilDate(text), (1...9999).contains(date.year) else {
                throw Diagnostic(
                    .invalidDate, "'\(text)' is not a date of the calendar", at: expression.range,
                    help: "write dates as YYYY-MM-DD, e.g. 2026-11-22")
            }
            return .temporal(TemporalValue(kind: .day(date)))
        case .variable(let name):
            if rule != nil {
                throw RuleBinding.refusal(
                    "$\(name)", "is a script's parameter", at: expression.range, help: "write the value itself in the rule")
            }
            switch parameters[name] {
            case .text(let value)?:
                return try bindText(value, at: expression.range, expecting: expected)
            case .typed(let value, let type)?:
                if value.isNull { return .null }
                // A date a `let` found is a date here, as one written out would be.
                if type == .date || type == .timestamp, let text = String.fromDatabaseValue(value) {
                    return try bindText(text, at: expression.range, expecting: type)
                }
                return .constant(value, type ?? .text)
            case nil:
                throw Diagnostic(
                    .unknownParameter, "no value for parameter $\(name)", at: expression.range,
                    help: "declare it with `param \(name)` and pass it as \(name)=\"…\" when running the script, or compute it with `let \(name) = count …`")
            }
        case .null:
            return .null
        case .relative(let amount, let unit):
            try Self.checkSpan(amount, unit, at: expression.range)
            return .temporal(try Self.checkDate(temporal.relative(amount: amount, unit: unit), at: expression.range))
        case .period(let offset, let unit):
            try Self.checkSpan(offset, unit, at: expression.range)
            return .temporal(try Self.checkDate(temporal.period(offset: offset, unit: unit), at: expression.range))
        case .duration(let amount, let unit):
            return .duration(amount, unit)
        case .myTeam:
            if rule != nil {
                throw RuleBinding.refusal(
                    "'my team'", "means the acting user's team", at: expression.range,
                    help: "name the team instead, e.g. owner.team = \"Sales\"")
            }
            guard let team = actor.teamID else {
                throw Diagnostic(
                    .unknownTeam, "\(actor.handle) is in no team, so 'my team' means nobody",
                    at: expression.range, help: "move the user to a team first")
            }
            return .ids(Select(Sql.name("id"), from: "users").where(Sql.equals(Sql.name("team_id"), Sql.value(team))).sql)
        case .negate(let inner):
            let bound = try bind(inner, expecting: expected)
            if case .constant(let value, let type) = bound {
                if let i = Int64.fromDatabaseValue(value) { return .constant((-i).databaseValue, type) }
                if let d = Double.fromDatabaseValue(value) { return .constant((-d).databaseValue, type) }
            }
            if case .duration(let n, let unit) = bound { return .duration(-n, unit) }
            let (sql, type) = try numericSQL(bound, at: inner.range)
            return .computed(Sql.negate(sql), type)
        case .binary(let op, let left, let right):
            if op == .add || op == .subtract, let sum = try bindLongSum(expression, expecting: expected) { return sum }
            return try bindArithmetic(op, left, right, expecting: expected, range: expression.range)
        case .call(let name, let arguments):
            return try bindCall(name, arguments, expecting: expected, range: expression.range)
        case .related(let related):
            if let figures {
                throw Diagnostic(
                    .invalidAggregate, "having compares the groups' figures, not related records", at: expression.range,
                    help: "having takes " + figures.map(\.name).joined(separator: " or ") + "; count related records in where or by")
            }
            return .computed(try relatedCount(related), .integer)
        }
    }

    /// A name in `having`: one of the groups' figures, or a value word (`today`); a field is refused,
    /// since a group has no single value of it.
    func bindFigure(
        _ parts: [Located<String>], expecting expected: FieldType?, figures: [(name: String, sql: SQLFragment, type: FieldType)]
    ) throws -> BoundExpression {
        let names = figures.map(\.name)
        let range = SourceRange(parts[0].range.start, parts[parts.count - 1].range.end)
        let written = parts.map(\.value).joined(separator: ".")
        if parts.count == 1, let figure = figures.first(where: { $0.name == parts[0].value }) {
            return .computed(figure.sql, figure.type)
        }
        let isField = parts.count > 1 || scope.root.field(named: written) != nil || scope.root.relation(named: written) != nil
        if parts.count == 1, !isField, let word = try bindWord(parts[0], expecting: expected) { return word }
        let list = names.joined(separator: " or ")
        if AggregateFunction(rawValue: written) != nil {
            throw Diagnostic(
                .unknownField, "'\(written)' is not a figure of these groups: having compares their \(list)", at: range,
                help: "for the \(written) of a field, run \(written) \(scope.root.name).FIELD by … having \(written) > …")
        }
        if isField {
            throw Diagnostic(
                .unknownField, "'\(written)' is a field: having compares the groups' \(list)", at: range,
                help: "filter records with where, e.g. where \(written) …; having keeps groups, e.g. having \(names[0]) > 1")
        }
        throw Diagnostic(
            .unknownField, "unknown figure '\(written)' in having", at: range,
            help: Suggestions.nearest(to: written, in: names).map { "did you mean '\($0)'? having compares \(list)" }
                ?? "having compares the groups' \(list), e.g. having \(names[0]) > 1")
    }

    /// Resolves a bare word that is a value rather than a field, or returns nil to treat it as a field.
    func bindWord(_ word: Located<String>, expecting expected: FieldType?) throws -> BoundExpression? {
        let w = word.value
        // A field of the root entity wins unless the word is a valid value for the expected type.
        let isField = scope.root.field(named: w) != nil || scope.root.relation(named: w) != nil
        switch expected {
        case .enumeration(let values):
            if let match = values.first(where: { $0 == w }) {
                return .constant(match.databaseValue, expected)
            }
            if isField { return nil }
            let near = Suggestions.nearest(to: w, in: values)
            throw Diagnostic(
                .unknownValue, "'\(w)' is not a valid value here", at: word.range,
                help: near.map { "did you mean '\($0)'? (one of \(values.joined(separator: ", ")))" }
                    ?? "expected one of \(values.joined(separator: ", "))")
        case .reference(let target):
            if isField { return nil }
            if target == "users" {
                if w == "me" {
                    if rule != nil { throw RuleBinding.refusingMe(at: word.range) }
                    return .constant(actor.id.databaseValue, expected)
                }
                let id = try userID(handle: w, at: word.range)
                rule?.note(word.range, id, target)
                return .constant(id.databaseValue, expected)
            }
            return try bindText(w, at: word.range, expecting: expected)
        case .boolean:
            if ["yes", "true", "on"].contains(w) { return .constant(1.databaseValue, .boolean) }
            if ["no", "false", "off"].contains(w) { return .constant(0.databaseValue, .boolean) }
        case .date, .timestamp:
            if let value = temporal.word(w) { return .temporal(value) }
        default:
            break
        }
        if let value = temporal.word(w), !isField { return .temporal(value) }
        if w == "me", !isField {
            if rule != nil { throw RuleBinding.refusingMe(at: word.range) }
            return .constant(actor.id.databaseValue, .reference("users"))
        }
        if isField { return nil }
        if let type = expected, type.isTextual {
            var help = "put text in quotes: \"\(w)\""
            if let near = Suggestions.nearest(to: w, in: Catalog.fieldNames(of: scope.root)) {
                help = "did you mean the field '\(near)'? For text, use quotes: \"\(w)\""
            }
            throw Diagnostic(.unknownValue, "'\(w)' is neither a field of \(scope.root.name) nor a value", at: word.range, help: help)
        }
        return nil
    }

    func userID(handle: String, at range: SourceRange) throws -> Int64 {
        try RecordLookup.userID(handle: handle, at: range, db: db)
    }

    // MARK: - SQL for a bound value

    /// The SQL for a bound value used as a scalar.
    func valueSQL(_ bound: BoundExpression, at range: SourceRange, for type: FieldType? = nil) throws -> (SQLFragment, FieldType?) {
        switch bound {
        case .column(let column):
            return (SQLFragment(column.sql), column.type)
        case .computed(let sql, let t):
            return (sql, t)
        case .constant(let value, let t):
            return (Sql.value(value), t)
        case .temporal(let value):
            let stored = value.storedValue(for: type ?? bound.type ?? .date)
            return (Sql.value(stored), bound.type)
        case .duration(let amount, let unit):
            // Compared with a length of time (closed_at - opened_at > 3 days): seconds.
            if type == .duration {
                let seconds: Int
                switch unit {
                case .minute: seconds = 60
                case .hour: seconds = 3600
                case .day: seconds = 86_400
                case .week: seconds = 604_800
                case .month, .quarter, .year:
                    throw Diagnostic(
                        .typeMismatch, "months, quarters and years have no fixed length", at: range,
                        help: "compare lengths of time in minutes, hours, days or weeks, e.g. > 30 days")
                }
                return (Sql.value(Int64(amount) * Int64(seconds)), .duration)
            }
            throw Diagnostic(.typeMismatch, "a duration like '14 days' needs a date to add to, as in today + 14 days", at: range)
        case .ids(let query):
            return (Sql.first(query), .reference("ids"))
        case .null:
            return (Sql.null, nil)
        }
    }
}

/// What binding a validation rule collects and refuses. A rule holds alike whoever acts, so words
/// that mean the acting user (`me`, `my team`) and a script's parameters are refused; a record it
/// names (`account != "Acme"`, `owner = bob`) is bound to its number, kept in `references`.
final class RuleBinding {
    struct Reference {
        let range: SourceRange
        let id: Int64
        let entity: EntityDefinition
    }

    var references: [Reference] = []

    func note(_ range: SourceRange, _ id: Int64, _ target: String) {
        if let entity = CRMSchema.entity(named: target) { references.append(Reference(range: range, id: id, entity: entity)) }
    }

    static func refusal(_ word: String, _ meaning: String, at range: SourceRange, help: String) -> Diagnostic {
        Diagnostic(
            .invalidRule, "a rule cannot use \(word): it \(meaning), and a rule holds the same whoever changes a record",
            at: range, help: help)
    }

    static func refusingMe(at range: SourceRange) -> Diagnostic {
        refusal("'me'", "means the acting user", at: range, help: "name the user instead, e.g. owner = bob")
    }
}
