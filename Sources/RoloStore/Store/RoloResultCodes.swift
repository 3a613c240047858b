import GRDB

/// The result codes Rolo's own SQL functions fail with, so the engine tells their errors apart by
/// code, not by message text. Each is an extended code of SQLITE_TOOBIG (a value too large for
/// Rolo) that SQLite itself never uses: SQLite passes a function's code through to the statement.
extension ResultCode {
    /// Money arithmetic past what a money amount holds (rolo_money_*).
    public static let roloMoneyOutOfRange = ResultCode(rawValue: ResultCode.SQLITE_TOOBIG.rawValue | (0x40 << 8))
    /// A date outside 0001-01-01 … 9999-12-31 (rolo_date).
    public static let roloDateOutOfRange = ResultCode(rawValue: ResultCode.SQLITE_TOOBIG.rawValue | (0x41 << 8))
    /// Whole-number arithmetic past 64 bits in Rolo's functions.
    public static let roloIntegerOverflow = ResultCode(rawValue: ResultCode.SQLITE_TOOBIG.rawValue | (0x42 << 8))
}
