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
        let handle = try reset(expecting: arguments.count)
        for (offset, value) in arguments.enumerated() {
            let code = value.bind(to: handle, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw error(code) }
        }
    }

    /// Binds `arguments`, runs `body` (which steps the statement), then resets the statement and
    /// clears its bindings.
    ///
    /// Text is bound where it lies for the time of `body` (`SQLITE_STATIC`), copied first into one
    /// buffer (on the stack when short). `bind` has SQLite copy each string, measuring it first:
    /// a `strlen`, a `malloc` and a `free` a string, a sixth of an audit entry's insert.
    /// Inlinable, so that it is specialised where it is called.
    @inlinable
    public func withArguments<Result>(_ arguments: [DatabaseValue], _ body: () throws -> Result) throws -> Result {
        let handle = try reset(expecting: arguments.count)
        var length = 0
        for value in arguments {
            if case .string(let text) = value.storage { length += text.utf8.count }
        }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(length, 1)) { buffer in
            // Cleared before the buffer goes: the statement keeps no pointer into it.
            defer {
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
            var used = 0
            for offset in arguments.indices {
                let index = Int32(offset + 1)
                let code: Int32
                switch arguments[offset].storage {
                case .string(var text):
                    let start = buffer.baseAddress! + used
                    let count = text.withUTF8 { bytes in
                        if let source = bytes.baseAddress { start.initialize(from: source, count: bytes.count) }
                        return bytes.count
                    }
                    used += count
                    code = sqlite3_bind_text(handle, index, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), Int32(count), nil)
                case .null: code = sqlite3_bind_null(handle, index)
                case .int64(let value): code = sqlite3_bind_int64(handle, index, value)
                case .double(let value): code = sqlite3_bind_double(handle, index, value)
                case .blob: code = Self.bind(arguments[offset], to: handle, at: index)
                }
                guard code == SQLITE_OK else { throw error(code) }
            }
            return try body()
        }
    }

    /// Binds a blob (SQLite copies it).
    @usableFromInline
    static func bind(_ value: DatabaseValue, to handle: SQLiteStatement, at index: Int32) -> Int32 {
        value.bind(to: handle, at: index)
    }

    /// Resets the statement for new arguments, checking that it takes `count` of them.
    @usableFromInline
    func reset(expecting count: Int) throws -> SQLiteStatement {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        // No sqlite3_clear_bindings: every parameter is bound next (the count is checked).
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == count else {
            // Our SQL generator and its arguments disagree: a bug, never a user error.
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE, message: "statement expects \(expected) arguments, got \(count)", sql: statement.sql)
        }
        return handle
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
    @usableFromInline
    func error(_ code: Int32) -> DatabaseError {
        let handle = statement.sqliteStatement
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        sqlite3_reset(handle)
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}
