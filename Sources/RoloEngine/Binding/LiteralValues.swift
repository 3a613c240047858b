import GRDB
import RoloStore
import RoloSyntax

/// Literal values checked against the type they meet: quoted text as a date, an amount, a number,
/// yes/no, an enum value or a record's name; the limits of money and of the calendar.
extension ExpressionBinder {
    /// A quoted string (or parameter value) checked against the expected type.
    func bindText(_ text: String, at range: SourceRange, expecting expected: FieldType?) throws -> BoundExpression {
        switch expected {
        case .date, .timestamp:
            if let date = CivilDate(text) { return .temporal(try Self.checkDate(TemporalValue(kind: .day(date)), at: range)) }
            if let time = Timestamp(text) { return .temporal(try Self.checkDate(TemporalValue(kind: .instant(time)), at: range)) }
            if let word = temporal.word(text.lowercased()) { return .temporal(word) }
            throw Diagnostic(
                .typeMismatch, "expected a date, got \"\(text)\"", at: range,
                help: "write a date as 2026-11-22, today, 3 days ago or this quarter")
        case .money:
            let cleaned = text.replacingOccurrences(of: "$", with: "").replacingOccurrences(of: ",", with: "")
            guard let cents = Self.cents(fromDecimal: cleaned) else {
                if Self.isDecimal(cleaned) { throw Self.moneyOutOfRange(text, at: range) }
                throw Diagnostic(
                    .typeMismatch, "expected an amount of money, got \"\(text)\"", at: range,
                    help: "write amounts as 5000, $5,000 or 5000.50")
            }
            return .constant(cents.databaseValue, .money)
        case .integer:
            guard let n = Int64(text) else {
                throw Diagnostic(.typeMismatch, "expected a number, got \"\(text)\"", at: range)
            }
            return .constant(n.databaseValue, .integer)
        case .boolean:
            switch text.lowercased() {
            case "yes", "true", "1": return .constant(1.databaseValue, .boolean)
            case "no", "false", "0": return .constant(0.databaseValue, .boolean)
            default: throw Diagnostic(.typeMismatch, "expected yes or no, got \"\(text)\"", at: range)
            }
        case .enumeration(let values):
            if let match = values.first(where: { $0 == text.lowercased() }) { return .constant(match.databaseValue, expected) }
            let near = Suggestions.nearest(to: text, in: values)
            throw Diagnostic(
                .unknownValue, "\"\(text)\" is not a valid value here", at: range,
                help: near.map { "did you mean '\($0)'?" } ?? "expected one of \(values.joined(separator: ", "))")
        case .reference(let target):
            guard let entity = CRMSchema.entity(named: target) else { return .constant(text.databaseValue, .text) }
            if let id = Int64(text) {
                rule?.note(range, id, target)
                return .constant(id.databaseValue, expected)
            }
            guard !entity.naturalKey.isEmpty else {
                throw Diagnostic(.typeMismatch, "\(entity.name) are named by number, got \"\(text)\"", at: range)
            }
            if target == "users" {
                let id = try userID(handle: text, at: range)
                rule?.note(range, id, target)
                return .constant(id.databaseValue, expected)
            }
            if let rule {
                // A rule names one record, by its number from now on, so a rename does not undo it.
                let key = entity.naturalKey[0]
                let ids = try Int64.fetchAll(
                    db,
                    Select(Sql.id("r"), from: entity.name, as: "r")
                        .where(Sql.caseInsensitiveEquals(Sql.column("r", key), Sql.value(text))).ordered(by: Sql.id("r")).limited(6).sql)
                guard ids.count == 1 else {
                    throw Diagnostic(
                        .unknownRecord,
                        ids.isEmpty
                            ? "no \(entity.singular) has the \(key) \"\(text)\""
                            : "several \(entity.name) have the \(key) \"\(text)\": " + ids.prefix(5).map(String.init).joined(separator: ", "),
                        at: range,
                        help: ids.isEmpty
                            ? "find \(entity.name) where \(key) contains \"…\" lists candidates"
                            : "name the one the rule means by its number, e.g. \(ids[0])")
                }
                rule.note(range, ids[0], target)
                return .constant(ids[0].databaseValue, expected)
            }
            // Only records the acting user may read can be named: a condition on another record's
            // name would tell which records relate to it.
            let lookup = Select(Sql.id("r"), from: entity.name, as: "r")
                .where(Sql.caseInsensitiveEquals(Sql.column("r", entity.naturalKey[0]), Sql.value(text)))
                .where(scope.readFilter(entity, alias: "r"))
            return .ids(lookup.sql)
        default:
            return .constant(text.databaseValue, .text)
        }
    }

    /// Cents of a decimal amount ("5000.50"); nil when it is not one, or past what cents can hold.
    /// One leading `-` at most, never `+` (the sign rule import cells follow too, `CellConverter.cents`).
    static func cents(fromDecimal text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        let parts = text.dropFirst(negative ? 1 : 0).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            !parts[0].isEmpty || (parts.count == 2 && !parts[1].isEmpty),
            let whole = Int64(parts[0].isEmpty ? "0" : parts[0])
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard digits.count <= 2, digits.allSatisfy(\.isNumber), let f = Int64(digits) else { return nil }
            fraction = digits.count == 1 ? f * 10 : f
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(fraction)
        return overflow2 ? nil : negative ? -total : total
    }

    /// Digits, optionally a point and up to two more: an amount in form, whatever its size.
    static func isDecimal(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let body = parts[0].hasPrefix("-") ? parts[0].dropFirst() : parts[0]
        return parts.count <= 2 && !body.isEmpty && body.allSatisfy(\.isASCII) && body.allSatisfy(\.isNumber)
            && (parts.count == 1 || (parts[1].count <= 2 && parts[1].allSatisfy(\.isNumber)))
    }

    static func moneyOutOfRange(_ text: String, at range: SourceRange) -> Diagnostic {
        Diagnostic(
            .valueOutOfRange, "the amount \(text) is too large", at: range,
            help: "amounts go up to $92,233,720,368,547,758.07")
    }

    /// A span of time no calendar arithmetic can overflow on: at most 10,000 years either way.
    static func checkSpan(_ amount: Int, _ unit: TimeUnit, at range: SourceRange) throws {
        let limit: Int
        switch unit {
        case .minute: limit = 5_260_000_000
        case .hour: limit = 87_660_000
        case .day: limit = 3_652_500
        case .week: limit = 521_800
        case .month: limit = 120_000
        case .quarter: limit = 40_000
        case .year: limit = 10_000
        }
        guard amount.magnitude <= limit else {
            throw Diagnostic(
                .valueOutOfRange, "\(amount) \(unit.rawValue)s is past the calendar Rolo keeps", at: range,
                help: "dates run from 0001-01-01 to 9999-12-31")
        }
    }

    static func dateOutOfRange(at range: SourceRange) -> Diagnostic {
        Diagnostic(
            .valueOutOfRange, "that date is outside 0001-01-01 … 9999-12-31", at: range,
            help: "dates run from 0001-01-01 to 9999-12-31")
    }

    /// Dates run from 0001-01-01 to 9999-12-31.
    static func checkDate(_ value: TemporalValue, at range: SourceRange) throws -> TemporalValue {
        let years: [Int]
        switch value.kind {
        case .day(let d): years = [d.year]
        case .span(let s, let e): years = [s.year, e.adding(days: -1).year]
        case .instant(let t): years = [t.date.year]
        }
        guard years.allSatisfy({ (1...9999).contains($0) }) else { throw dateOutOfRange(at: range) }
        return value
    }
}
