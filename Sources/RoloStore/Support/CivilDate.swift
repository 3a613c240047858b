import Foundation

/// Calendar arithmetic on UTC days without DateFormatter (fast, and the same on every platform).
///
/// Days are counted from 1970-01-01; algorithms from Howard Hinnant's `days_from_civil`.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`, rejecting impossible dates (2026-02-30).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), d >= 1, d <= CivilDate.daysIn(month: m, year: y)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init(daysSinceEpoch z0: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: m <= 2 ? y + 1 : y, month: m, day: d)
    }

    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// Adds months, clamping the day to the month's length (Jan 31 + 1 month = Feb 28).
    public func adding(months: Int) -> CivilDate {
        let total = year * 12 + (month - 1) + months
        let y = total >= 0 ? total / 12 : (total - 11) / 12
        let m = total - y * 12 + 1
        return CivilDate(year: y, month: m, day: min(day, CivilDate.daysIn(month: m, year: y)))
    }

    /// Monday is 0.
    public var weekday: Int { ((daysSinceEpoch % 7) + 7 + 3) % 7 }

    public var description: String {
        String(unsafeUninitializedCapacity: 10) { buffer in
            writeDigits(year, 4, into: buffer, at: 0)
            buffer[4] = UInt8(ascii: "-")
            writeDigits(month, 2, into: buffer, at: 5)
            buffer[7] = UInt8(ascii: "-")
            writeDigits(day, 2, into: buffer, at: 8)
            return 10
        }
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }
}

/// A UTC instant with second precision, formatted as ISO-8601 `YYYY-MM-DDTHH:MM:SSZ`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let secondsSinceEpoch: Int

    public init(secondsSinceEpoch: Int) { self.secondsSinceEpoch = secondsSinceEpoch }
    public init(_ date: Date) { self.secondsSinceEpoch = Int(date.timeIntervalSince1970.rounded(.down)) }
    public init(date: CivilDate, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.secondsSinceEpoch = date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (also with a space instead of T, and without Z).
    public init?(_ text: String) {
        let chars = Array(text.utf8)
        guard chars.count >= 19, let date = CivilDate(text.prefix(10)),
            chars[10] == UInt8(ascii: "T") || chars[10] == UInt8(ascii: " "),
            let h = Int(text.dropFirst(11).prefix(2)), let m = Int(text.dropFirst(14).prefix(2)),
            let s = Int(text.dropFirst(17).prefix(2)), h < 24, m < 60, s < 60
        else { return nil }
        self.init(date: date, hour: h, minute: m, second: s)
    }

    public var date: CivilDate {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        return CivilDate(daysSinceEpoch: days)
    }

    public var secondOfDay: Int { secondsSinceEpoch - date.daysSinceEpoch * 86_400 }

    public func adding(seconds: Int) -> Timestamp { Timestamp(secondsSinceEpoch: secondsSinceEpoch + seconds) }

    /// `YYYY-MM-DDTHH:MM:SSZ`, written straight into the string's storage (generators call this millions of times).
    public var description: String {
        let d = date
        let s = secondOfDay
        return String(unsafeUninitializedCapacity: 20) { buffer in
            writeDigits(d.year, 4, into: buffer, at: 0)
            buffer[4] = UInt8(ascii: "-")
            writeDigits(d.month, 2, into: buffer, at: 5)
            buffer[7] = UInt8(ascii: "-")
            writeDigits(d.day, 2, into: buffer, at: 8)
            buffer[10] = UInt8(ascii: "T")
            writeDigits(s / 3600, 2, into: buffer, at: 11)
            buffer[13] = UInt8(ascii: ":")
            writeDigits((s / 60) % 60, 2, into: buffer, at: 14)
            buffer[16] = UInt8(ascii: ":")
            writeDigits(s % 60, 2, into: buffer, at: 17)
            buffer[19] = UInt8(ascii: "Z")
            return 20
        }
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.secondsSinceEpoch < b.secondsSinceEpoch }
}

/// Where "now" comes from. Tests and transcripts fix it; the shell uses the system clock.
public protocol CRMClock: Sendable {
    func now() -> Timestamp
}

/// The real clock.
public struct SystemClock: CRMClock {
    public init() {}
    public func now() -> Timestamp { Timestamp(Date()) }
}

/// A clock that always says the same time.
public struct FixedClock: CRMClock {
    public let time: Timestamp
    public init(_ time: Timestamp) { self.time = time }
    public func now() -> Timestamp { time }

    /// The instant transcripts and tests run at: 2026-11-22 10:00:00 UTC.
    public static let reference = FixedClock(Timestamp(date: CivilDate(year: 2026, month: 11, day: 22), hour: 10))
}

/// Writes `value` as exactly `width` zero-padded decimal digits.
@inline(__always)
func writeDigits(_ value: Int, _ width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
    var v = value < 0 ? 0 : value
    for i in stride(from: width - 1, through: 0, by: -1) {
        buffer[offset + i] = UInt8(48 + v % 10)
        v /= 10
    }
}
