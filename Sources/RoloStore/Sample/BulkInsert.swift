import Foundation
import GRDB
import GRDBSQLite

/// A value the generator binds straight to an SQLite statement.
protocol BulkBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

/// `SQLITE_TRANSIENT`: SQLite copies the bound bytes (the Swift buffer is temporary).
let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension String: BulkBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var copy = self
        return copy.withUTF8 { bytes in
            sqlite3_bind_text(
                statement, index, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                Int32(bytes.count), transient)
        }
    }
}

extension Int: BulkBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, Int64(self)) }
}

extension Int64: BulkBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self) }
}

extension Optional: BulkBindable where Wrapped: BulkBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .some(let value): return value.bind(to: statement, at: index)
        case .none: return sqlite3_bind_null(statement, index)
        }
    }
}

extension Statement {
    /// Binds the values in order and steps the statement once: the generator's hot path,
    /// about twice as fast as going through `StatementArguments` for millions of rows.
    func run(_ values: any BulkBindable...) throws {
        let handle = sqliteStatement
        for (offset, value) in values.enumerated() {
            let code = value.bind(to: handle, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw StoreError.sqlite("bind failed (\(code)) in \(sql)") }
        }
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw StoreError.sqlite("insert failed (\(code)): " + String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
        }
    }
}

extension DatabaseValue: BulkBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch storage {
        case .null: return sqlite3_bind_null(statement, index)
        case .int64(let n): return sqlite3_bind_int64(statement, index, n)
        case .double(let d): return sqlite3_bind_double(statement, index, d)
        case .string(let s): return s.bind(to: statement, at: index)
        case .blob(let data):
            return data.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
        }
    }
}

/// SQL NULL for `Statement.run`.
struct BulkNull: BulkBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_null(statement, index) }
}

let bulkNull = BulkNull()
