/// The type of a field as the language sees it.
///
/// Storage follows from the type: money is integer cents, dates are `YYYY-MM-DD` text,
/// timestamps are UTC ISO-8601 text (`YYYY-MM-DDTHH:MM:SSZ`), booleans are 0/1.
public enum FieldType: Sendable, Equatable {
    case integer
    case text
    /// Free text validated as an email address on write.
    case email
    /// Integer cents; shown as `$1,234.56` in tables.
    case money
    case date
    case timestamp
    case boolean
    /// One of a closed set of bare words, enforced by a CHECK constraint.
    case enumeration([String])
    /// A foreign key to another entity, stored as its integer id.
    case reference(String)
    /// A length of time in seconds: the difference of two dates or times (never stored).
    case duration

    /// The SQLite column type used in DDL (spelled by `SchemaSQL.columnType`).
    public var sqlType: String { SchemaSQL.columnType(self) }

    /// A short name for messages ("expects a date").
    public var displayName: String {
        switch self {
        case .integer: return "a number"
        case .text: return "text"
        case .email: return "an email address"
        case .money: return "an amount of money"
        case .date: return "a date"
        case .timestamp: return "a date and time"
        case .boolean: return "yes or no"
        case .enumeration(let values): return "one of " + values.joined(separator: ", ")
        case .reference(let entity): return "a reference to \(entity)"
        case .duration: return "a length of time"
        }
    }

    public var isTextual: Bool {
        switch self {
        case .text, .email, .enumeration: return true
        default: return false
        }
    }

    public var isTemporal: Bool { self == .date || self == .timestamp }
    public var isNumeric: Bool { self == .integer || self == .money || self == .duration }
}
