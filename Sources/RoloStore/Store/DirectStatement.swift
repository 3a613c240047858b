import Foundation
import GRDB
import GRDBSQLite

/// Runs a prepared (and cached) GRDB statement with arguments bound straight through SQLite's C
/// API, stepping rows without GRDB's `StatementArguments` and `Row`.
///
/// Why: building `StatementArguments` goes through GRDB's generic initializers, which this build
/// cannot specialise across modules; for a one-row lookup that cost more than SQLite's own work.
/// Values bind through `BulkBindable`, as the sample generator's do. The engine's read queries and
/// the audit log's append use this, always inside GRDB's database access (`inDatabase`). GRDB
/// still prepares the statement (and caches it); the next GRDB use of the statement binds its own
/// arguments afresh, so the two never mix.
public struct DirectStatement {
    public let statement: Statement

    public init(statement: Statement) { self.statement = statement }

    /// Binds `arguments` (positional, in order) after resetting the statement.
    public func bind(_ arguments: [DatabaseValue]) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        // No sqlite3_clear_bindings: every parameter is bound below (the count is checked).
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == arguments.count else {
            // Our SQL generator and its arguments disagree: a bug, never a user error.
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "statement expects \(expected) arguments, got \(arguments.count)", sql: statement.sql)
        }
        for (offset, value) in arguments.enumerated() {
            let code = value.bind(to: handle, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw error(code) }
        }
    }

    /// Steps one row: true for a row, false when done.
    public func step() throws -> Bool {
        switch sqlite3_step(statement.sqliteStatement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw error(code)
        }
    }

    /// The value of column `index` in the current row.
    public func value(at index: Int) -> DatabaseValue {
        DatabaseValue(sqliteStatement: statement.sqliteStatement, index: Int32(index))
    }

    /// Whether column `index` of the current row is NULL.
    public func isNull(at index: Int) -> Bool {
        sqlite3_column_type(statement.sqliteStatement, Int32(index)) == SQLITE_NULL
    }

    /// Whether column `index` holds a number (an integer or a real).
    public func isNumber(at index: Int) -> Bool {
        let type = sqlite3_column_type(statement.sqliteStatement, Int32(index))
        return type == SQLITE_INTEGER || type == SQLITE_FLOAT
    }

    /// Column `index` as an integer (0 for NULL).
    public func int64(at index: Int) -> Int64 {
        sqlite3_column_int64(statement.sqliteStatement, Int32(index))
    }

    /// Column `index` as text, up to its first NUL as GRDB reads text (`String(cString:)`),
    /// without making a string; nil for NULL. The bytes are valid until the next step.
    public func text(at index: Int) -> UnsafeRawBufferPointer? {
        let handle = statement.sqliteStatement
        guard sqlite3_column_type(handle, Int32(index)) != SQLITE_NULL, let text = sqlite3_column_text(handle, Int32(index)) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        let raw = UnsafeRawPointer(text)
        let length = memchr(raw, 0, count).map { raw.distance(to: UnsafeRawPointer($0)) } ?? count
        return UnsafeRawBufferPointer(start: raw, count: length)
    }

    /// Resets the statement so it holds no read lock between commands.
    public func finish() {
        sqlite3_reset(statement.sqliteStatement)
    }

    /// The error SQLite reported, read before the reset that frees the statement for next time.
    private func error(_ code: Int32) -> DatabaseError {
        let handle = statement.sqliteStatement
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        sqlite3_reset(handle)
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}
