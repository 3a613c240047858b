import RoloStore
import RoloSyntax

/// A constant point or span of time, as text comparable with stored dates and timestamps.
///
/// `2026-11-22` and `this quarter` are spans [start, end); `now` and `5 hours ago` are instants.
/// A date column compared with a span uses day boundaries; a timestamp column compares its text,
/// which sorts correctly against `YYYY-MM-DD` bounds.
struct TemporalValue: Equatable {
    enum Kind: Equatable {
        case day(CivilDate)
        case span(CivilDate, CivilDate)
        case instant(Timestamp)
    }

    let kind: Kind

    /// Inclusive lower bound, as stored text.
    var start: String {
        switch kind {
        case .day(let d): return d.description
        case .span(let s, _): return s.description
        case .instant(let t): return t.description
        }
    }

    /// Exclusive upper bound (nil for an instant).
    var end: String? {
        switch kind {
        case .day(let d): return d.adding(days: 1).description
        case .span(_, let e): return e.description
        case .instant: return nil
        }
    }

    /// The value stored when this is written into a field of `type`.
    func storedValue(for type: FieldType) -> String {
        switch (kind, type) {
        case (.instant(let t), .date): return t.date.description
        case (.day(let d), .timestamp): return Timestamp(date: d).description
        case (.span(let s, _), .timestamp): return Timestamp(date: s).description
        default: return start
        }
    }
}

/// Resolves date words and forms against the clock.
struct TemporalResolver {
    private let clockNow: Timestamp
    /// Told when a date word or form reads the clock.
    let dependencies: BindingDependencies?

    init(now: Timestamp, dependencies: BindingDependencies? = nil) {
        clockNow = now
        self.dependencies = dependencies
    }

    var now: Timestamp {
        dependencies?.volatile = true
        return clockNow
    }

    var today: CivilDate { now.date }

    func word(_ word: String) -> TemporalValue? {
        switch word {
        case "today": return TemporalValue(kind: .day(today))
        case "yesterday": return TemporalValue(kind: .day(today.adding(days: -1)))
        case "tomorrow": return TemporalValue(kind: .day(today.adding(days: 1)))
        case "now": return TemporalValue(kind: .instant(now))
        default: return nil
        }
    }

    /// `3 days ago` (amount -3) or `in 2 weeks` (amount 2).
    func relative(amount: Int, unit: TimeUnit) -> TemporalValue {
        switch unit {
        case .minute: return TemporalValue(kind: .instant(now.adding(seconds: amount * 60)))
        case .hour: return TemporalValue(kind: .instant(now.adding(seconds: amount * 3600)))
        default: return TemporalValue(kind: .day(shift(today, by: amount, unit)))
        }
    }

    func shift(_ date: CivilDate, by amount: Int, _ unit: TimeUnit) -> CivilDate {
        switch unit {
        case .minute, .hour: return date
        case .day: return date.adding(days: amount)
        case .week: return date.adding(days: 7 * amount)
        case .month: return date.adding(months: amount)
        case .quarter: return date.adding(months: 3 * amount)
        case .year: return date.adding(months: 12 * amount)
        }
    }

    /// `this quarter` (offset 0), `last month` (-1), `next year` (1).
    func period(offset: Int, unit: TimeUnit) -> TemporalValue {
        let start: CivilDate
        let end: CivilDate
        switch unit {
        case .minute, .hour, .day:
            start = today.adding(days: offset)
            end = start.adding(days: 1)
        case .week:
            start = today.adding(days: -today.weekday + 7 * offset)
            end = start.adding(days: 7)
        case .month:
            start = CivilDate(year: today.year, month: today.month, day: 1).adding(months: offset)
            end = start.adding(months: 1)
        case .quarter:
            let firstMonth = (today.month - 1) / 3 * 3 + 1
            start = CivilDate(year: today.year, month: firstMonth, day: 1).adding(months: 3 * offset)
            end = start.adding(months: 3)
        case .year:
            start = CivilDate(year: today.year + offset, month: 1, day: 1)
            end = CivilDate(year: today.year + offset + 1, month: 1, day: 1)
        }
        return TemporalValue(kind: .span(start, end))
    }

    /// `today + 14 days`, `now - 2 hours`.
    func add(_ value: TemporalValue, amount: Int, unit: TimeUnit) -> TemporalValue {
        switch value.kind {
        case .instant(let t):
            switch unit {
            case .minute: return TemporalValue(kind: .instant(t.adding(seconds: amount * 60)))
            case .hour: return TemporalValue(kind: .instant(t.adding(seconds: amount * 3600)))
            default:
                let shifted = shift(t.date, by: amount, unit)
                return TemporalValue(kind: .instant(Timestamp(date: shifted).adding(seconds: t.secondOfDay)))
            }
        case .day(let d):
            if unit == .hour || unit == .minute {
                let seconds = amount * (unit == .hour ? 3600 : 60)
                return TemporalValue(kind: .instant(Timestamp(date: d).adding(seconds: seconds)))
            }
            return TemporalValue(kind: .day(shift(d, by: amount, unit)))
        case .span(let s, let e):
            return TemporalValue(kind: .span(shift(s, by: amount, unit), shift(e, by: amount, unit)))
        }
    }
}

extension TimeUnit {
    /// The unit in the SQL builder's terms.
    var calendarUnit: SQLCalendarUnit {
        switch self {
        case .minute: return .minute
        case .hour: return .hour
        case .day: return .day
        case .week: return .week
        case .month: return .month
        case .quarter: return .quarter
        case .year: return .year
        }
    }
}
