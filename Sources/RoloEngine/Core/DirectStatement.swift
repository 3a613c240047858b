import Foundation
import GRDB
import GRDBSQLite

/// Runs a prepared (and cached) GRDB statement with arguments bound straight through SQLite's C
/// API, stepping rows without GRDB's `StatementArguments` and `Row`.
///
/// Why: building `StatementArguments` goes through GRDB's generic initializers, which this build
/// cannot specialise across modules; for a one-row lookup that cost more than SQLite's own work.
/// Read queries and the audit log's append use this, always inside a transaction or read GRDB
/// opened. GRDB still prepares the statement (and caches it); the next GRDB use of the statement
/// binds its own arguments afresh, so the two never mix.
struct DirectStatement {
    let statement: Statement

    /// Binds `arguments` (positional, in order) after resetting the statement.
    func bind(_ arguments: [DatabaseValue]) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == arguments.count else {
            // Our SQL generator and its arguments disagree: a bug, never a user error.
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "statement expects \(expected) arguments, got \(arguments.count)", sql: statement.sql)
        }
        for (offset, value) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value.storage {
            case .null: code = sqlite3_bind_null(handle, index)
            case .int64(let n): code = sqlite3_bind_int64(handle, index, n)
            case .double(let d): code = sqlite3_bind_double(handle, index, d)
            case .string(let s): code = sqlite3_bind_text(handle, index, s, -1, SQLITE_TRANSIENT)
            case .blob(let data):
                code = data.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
    }

    /// Steps one row: true for a row, false when done.
    func step() throws -> Bool {
        switch sqlite3_step(statement.sqliteStatement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw error(code)
        }
    }

    /// The value of column `index` in the current row.
    func value(at index: Int) -> DatabaseValue {
        DatabaseValue(sqliteStatement: statement.sqliteStatement, index: Int32(index))
    }

    /// Resets the statement so it holds no read lock between commands.
    func finish() {
        sqlite3_reset(statement.sqliteStatement)
    }

    private func error(_ code: Int32) -> DatabaseError {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        return DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))), sql: statement.sql)
    }
}

/// `SQLITE_TRANSIENT`: SQLite copies the bound bytes (the Swift string's buffer is temporary).
private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
