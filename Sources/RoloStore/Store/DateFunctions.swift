import GRDB

/// `rolo_date(original, moved)`: a date or moment moved by calendar arithmetic (`close_date - 1
/// day`), kept within Rolo's calendar, 0001-01-01 … 9999-12-31. SQLite's own `date()` goes on to
/// `0000-12-31` and `-0001-12-31` below it and gives NULL past it; here either is an error
/// ("rolo: date out of range", E308 to the user), never a value stored or compared. An empty
/// original, or one that is not a date, gives what SQLite gave.
enum DateFunctions {
    static let inRange = DatabaseFunction("rolo_date", argumentCount: 2, pure: true) { values in
        guard values.count == 2, let original = String.fromDatabaseValue(values[0]), isDate(original) else {
            return values.count == 2 ? values[1] : nil
        }
        guard let moved = String.fromDatabaseValue(values[1]), isDate(moved), !moved.hasPrefix("0000") else {
            throw DatabaseError(resultCode: .roloDateOutOfRange, message: "rolo: date out of range")
        }
        return moved
    }

    /// Starts `YYYY-MM-DD` (four digits, no sign).
    static func isDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8.prefix(10))
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        return [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) }
    }

    static func install(in db: Database) {
        db.add(function: inRange)
    }
}
