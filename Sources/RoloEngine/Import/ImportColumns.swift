import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// How a file's header names a field: case, spaces, dashes and underscores do not matter
/// (`First Name`, `first-name`, `FIRST_NAME`), and common spreadsheet and CRM-export names are
/// known synonyms (`E-mail`, `Company Name`, `Job Title`, `Mobile`).
enum HeaderMatching {
    /// `First Name` → `first_name`.
    static func normalized(_ header: String) -> String {
        var out = ""
        var pendingUnderscore = false
        for scalar in header.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                if pendingUnderscore, !out.isEmpty { out.append("_") }
                pendingUnderscore = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingUnderscore = true
            }
        }
        return out
    }

    /// Normalized header → the fields (or relations) it may mean, tried in order on the entity.
    static let synonyms: [String: [String]] = [
        "e_mail": ["email"], "email_address": ["email"], "e_mail_address": ["email"], "mail": ["email"],
        "company_name": ["company", "name"], "organization": ["company", "name"], "organisation": ["company", "name"],
        "account_name": ["account", "name"],
        "job_title": ["title"], "position": ["title"],
        "mobile": ["phone"], "mobile_phone": ["phone"], "cell": ["phone"], "cell_phone": ["phone"],
        "phone_number": ["phone"], "telephone": ["phone"], "tel": ["phone"], "work_phone": ["phone"],
        "first": ["first_name"], "firstname": ["first_name"], "given_name": ["first_name"], "forename": ["first_name"],
        "last": ["last_name"], "lastname": ["last_name"], "surname": ["last_name"], "family_name": ["last_name"],
        "owner_handle": ["owner"], "assigned_to": ["owner", "assignee"],
        "created": ["created_at"], "created_date": ["created_at"], "date_created": ["created_at"], "created_on": ["created_at"],
        "updated": ["updated_at"], "modified": ["updated_at"], "last_modified": ["updated_at"],
        "last_modified_date": ["updated_at"], "updated_on": ["updated_at"],
        "town": ["city"], "web": ["website"], "url": ["website"], "homepage": ["website"], "web_site": ["website"],
        "revenue": ["annual_revenue"], "number_of_employees": ["employees"], "employee_count": ["employees"],
        "record_id": ["id"],
    ]

    /// The field a header means on `entity`, if any.
    static func field(for header: String, in entity: EntityDefinition) -> FieldDefinition? {
        let name = normalized(header)
        for candidate in [name] + (synonyms[name] ?? []) {
            if let field = entity.field(named: candidate) ?? entity.relation(named: candidate) { return field }
        }
        return nil
    }
}

/// The result of converting one cell: the value to store, or why it cannot be.
enum CellValue {
    case value(DatabaseValue)
    /// The reason, and where it names something of this cell (its length, the nearest enum value),
    /// the kind of problem the import's summary counts it under.
    case invalid(String, kind: String? = nil)
    /// A value in form but past what Rolo holds (E308): a date outside 0001 … 9999, a huge amount.
    case outOfRange(String)
}

/// Turns cells of text into stored values, as `create` and `update` would accept them: types,
/// enums, email syntax, money, dates in ISO-8601 and the common spreadsheet forms, length limits.
/// Built once per column; a related record is looked up by its natural key (`account` by name,
/// `owner` by handle) in a table read once per import.
struct CellConverter {
    /// How `03/04/2026` is read: day first, month first, or refused as ambiguous.
    enum DateOrder: String { case dmy, mdy }

    let field: FieldDefinition
    let dateOrder: DateOrder?

    /// Export writes a cell that a spreadsheet would run as a formula with a leading apostrophe
    /// (`'=SUM(…)`, `'+1 555`); exactly one is taken off before such a character.
    static func unneutralized(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.count >= 2, utf8.first == UInt8(ascii: "'") else { return text }
        let second = utf8[utf8.index(after: utf8.startIndex)]
        switch second {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
            return String(text.dropFirst())
        default:
            return text
        }
    }

    func convert(_ raw: String) -> CellValue {
        let text = Self.unneutralized(raw)
        if text.isEmpty { return .value(.null) }
        switch field.type {
        case .text:
            let text = TextFolding.stored(text)
            if let problem = Self.tooLong(text, field) { return problem }
            return .value(text.databaseValue)
        case .email:
            // Spaces around it were taken off before (unless --raw); one inside is refused, as `create` refuses it.
            let email = TextFolding.stored(text)
            guard AssignmentBinder.isValidEmail(email) else { return .invalid("is not an email address") }
            if let problem = Self.tooLong(email, field) { return problem }
            return .value(email.databaseValue)
        case .integer:
            guard let number = Self.integer(text) else { return .invalid("is not a whole number") }
            return .value(number.databaseValue)
        case .money:
            guard let cents = Self.cents(text) else {
                if Self.cents(text, unbounded: true) != nil {
                    return .outOfRange("is past the largest amount, $92,233,720,368,547,758.07")
                }
                return .invalid("is not an amount of money (e.g. 1234.56)")
            }
            return .value(cents.databaseValue)
        case .boolean:
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "yes", "y", "true", "1": return .value(1.databaseValue)
            case "no", "n", "false", "0": return .value(0.databaseValue)
            default: return .invalid("is not yes or no")
            }
        case .enumeration(let values):
            let word = HeaderMatching.normalized(text)
            if values.contains(word) { return .value(word.databaseValue) }
            let near = Suggestions.nearest(to: word, in: values)
            let kind = "is not one of " + values.joined(separator: ", ")
            return .invalid(kind + (near.map { "; perhaps \($0)" } ?? ""), kind: kind)
        case .date:
            guard let (date, _) = Self.moment(text, order: dateOrder) else { return .invalid(dateProblem(text)) }
            guard (1...9999).contains(date.year) else { return .outOfRange(Self.outsideCalendar) }
            return .value(date.description.databaseValue)
        case .timestamp:
            guard let (date, seconds) = Self.moment(text, order: dateOrder) else { return .invalid(dateProblem(text)) }
            guard (1...9999).contains(date.year) else { return .outOfRange(Self.outsideCalendar) }
            return .value(Self.timestamp(date, seconds).databaseValue)
        case .reference, .duration:
            return .invalid("cannot be imported")
        }
    }

    /// Past the field's limit in characters; counted only when the bytes could be (a character is
    /// at least one byte), since counting characters is the slow part of a row.
    private static func tooLong(_ text: String, _ field: FieldDefinition) -> CellValue? {
        guard let max = field.maxLength, text.utf8.count > max else { return nil }
        let count = text.count
        return count > max ? .invalid("is \(count) characters; it takes at most \(max)", kind: "is longer than \(max) characters") : nil
    }

    static let outsideCalendar = "is outside 0001-01-01 … 9999-12-31"

    private func dateProblem(_ text: String) -> String {
        if dateOrder == nil, Self.isAmbiguousDate(text) {
            return "could be day/month or month/day; add `dates dmy` or `dates mdy` to the import"
        }
        return field.type == .date
            ? "is not a date (YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY with `dates dmy`)"
            : "is not a date and time (ISO-8601, e.g. 2026-11-22T10:00:00Z)"
    }

    /// `1234`, `-12`, `1,234`, `1 234`.
    static func integer(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let value = Int64(trimmed) { return value }
        let grouped = trimmed.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\u{00A0}" || $0 == "." })
        guard grouped.count > 1, grouped.dropFirst().allSatisfy({ $0.count == 3 }) else { return nil }
        return Int64(grouped.joined())
    }

    /// Money as integer cents: `1234.56`, `$1,234.56`, `1.234,56 €`, `-12.5`, `$-5`; `(12.50)`,
    /// `+5` and `--5` are refused. Nil too past the largest amount (`isPastLimit` tells which).
    static func cents(_ text: String, unbounded: Bool = false) -> Int64? {
        var body = text.trimmingCharacters(in: .whitespaces)
        var negative = false
        if body.hasPrefix("-") {
            negative = true
            body.removeFirst()
        }
        body = String(body.filter { !"$€£¥ \u{00A0}".contains($0) })
        // One minus, before or after the currency sign (`-$5`, `$-5`); `--5` is refused, as `+5` is.
        if body.hasPrefix("-") {
            guard !negative else { return nil }
            negative = true
            body.removeFirst()
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == ",") }) else { return nil }
        // The decimal mark is the last `.` or `,` followed by one or two digits; the others group thousands.
        var whole = body
        var fraction = ""
        if let mark = body.lastIndex(where: { $0 == "." || $0 == "," }) {
            let after = body[body.index(after: mark)...]
            let marks = body.filter { $0 == "." || $0 == "," }
            if (1...2).contains(after.count) || (marks.count == 1 && body[mark] == "." && after.count != 3) {
                whole = String(body[..<mark])
                fraction = String(after)
            }
        }
        if whole.contains(where: { $0 == "." || $0 == "," }) {
            let groups = whole.split(whereSeparator: { $0 == "." || $0 == "," })
            guard groups.count > 1, groups.dropFirst().allSatisfy({ $0.count == 3 }), !groups[0].isEmpty, groups[0].count <= 3 else {
                return nil
            }
            whole = groups.joined()
        }
        if unbounded { return fraction.count <= 2 && whole.allSatisfy(\.isNumber) ? 0 : nil }
        guard fraction.count <= 2, let units = Int64(whole.isEmpty ? "0" : whole) else { return nil }
        let centsPart = Int64(fraction.padding(toLength: 2, withPad: "0", startingAt: 0)) ?? 0
        let (scaled, overflow) = units.multipliedReportingOverflow(by: 100)
        guard !overflow else { return nil }
        let (sum, overflow2) = scaled.addingReportingOverflow(centsPart)
        guard !overflow2 else { return nil }
        return negative ? -sum : sum
    }

    /// Whether `text` is `A/B/YYYY` with both A and B at most 12.
    static func isAmbiguousDate(_ text: String) -> Bool {
        let datePart = text.split(separator: " ").first.map(String.init) ?? text
        let parts = datePart.split(separator: "/")
        guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]) else { return false }
        return a <= 12 && b <= 12 && a != b
    }

    /// A date and the seconds into it (UTC): `2026-11-22`, `2026-11-22T10:00:00Z`, `2026-11-22 10:00`,
    /// `2026-11-22T12:00:00+02:00`, `2026/11/22`, `22.11.2026`, `22/11/2026` (dmy) or `11/22/2026`
    /// (mdy; either when the day is past 12), each with an optional time.
    static func moment(_ text: String, order: DateOrder?) -> (CivilDate, Int)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var datePart = Substring(trimmed)
        var timePart: Substring = ""
        if let t = trimmed.firstIndex(where: { $0 == "T" || $0 == " " }) {
            datePart = trimmed[..<t]
            timePart = trimmed[trimmed.index(after: t)...].drop(while: { $0 == " " })
        }
        guard let date = civilDate(datePart, order: order) else { return nil }
        if timePart.isEmpty { return (date, 0) }
        // Time: HH:MM[:SS[.fff]] then Z, ±HH:MM, ±HHMM or nothing (UTC).
        var offset = 0
        var clock = timePart
        if clock.hasSuffix("Z") || clock.hasSuffix("z") {
            clock = clock.dropLast()
        } else if let sign = clock.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = clock[clock.index(after: sign)...].filter { $0 != ":" }
            guard zone.count == 4, let hours = Int(zone.prefix(2)), let minutes = Int(zone.suffix(2)), hours < 24, minutes < 60 else {
                return nil
            }
            offset = (hours * 3600 + minutes * 60) * (clock[sign] == "+" ? 1 : -1)
            clock = clock[..<sign]
        }
        let pieces = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(pieces.count), pieces[0].count <= 2, pieces[1].count == 2,
            let hour = Int(pieces[0]), let minute = Int(pieces[1]), hour < 24, minute < 60
        else { return nil }
        var second = 0
        if pieces.count == 3 {
            let whole = pieces[2].split(separator: ".", maxSplits: 1).first ?? ""
            guard whole.count == 2, let s = Int(whole), s < 60 else { return nil }
            second = s
        }
        var seconds = hour * 3600 + minute * 60 + second - offset
        var day = date.daysSinceEpoch
        while seconds < 0 {
            seconds += 86_400
            day -= 1
        }
        while seconds >= 86_400 {
            seconds -= 86_400
            day += 1
        }
        return (CivilDate(daysSinceEpoch: day), seconds)
    }

    private static func civilDate(_ text: Substring, order: DateOrder?) -> CivilDate? {
        if let date = CivilDate(text) { return date }
        let separator: Character = text.contains("/") ? "/" : "."
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        var year: Int, month: Int, day: Int
        guard let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]) else { return nil }
        if parts[0].count == 4 {
            (year, month, day) = (a, b, c)
        } else {
            guard parts[2].count == 4 else { return nil }
            year = c
            if separator == "." || order == .dmy || (order == nil && a > 12) {
                (day, month) = (a, b)
            } else if order == .mdy || b > 12 || a == b {
                (month, day) = (a, b)
            } else {
                return nil
            }
        }
        // Year 0 is read, so `convert` refuses it as outside the calendar (E308), as ISO 0000-01-01 is.
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year), (0...9999).contains(year) else {
            return nil
        }
        return CivilDate(year: year, month: month, day: day)
    }

    static func timestamp(_ date: CivilDate, _ seconds: Int) -> String {
        let h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(date.description)T\(two(h)):\(two(m)):\(two(s))Z"
    }
}
