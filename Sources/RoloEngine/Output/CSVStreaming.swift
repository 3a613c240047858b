import GRDB
import GRDBSQLite
import RoloStore

extension CSVWriter {
    /// Steps the statement and writes each row as CSV bytes, read straight from SQLite's column
    /// buffers: no `Row`, no `DatabaseValue`, no `String` per cell. Memory stays flat.
    func streamRows(of statement: DirectStatement) throws -> Int {
        defer { statement.finish() }
        let handle = statement.statement.sqliteStatement
        let width = columns.count
        let money = columns.map { $0.type == .money }
        var line: [UInt8] = []
        line.reserveCapacity(512)
        var count = 0
        while try statement.step() {
            line.removeAll(keepingCapacity: true)
            for column in 0..<width {
                if column > 0 { line.append(UInt8(ascii: ",")) }
                let index = Int32(column)
                let type = sqlite3_column_type(handle, index)
                switch type {
                case SQLITE_NULL:
                    break
                case SQLITE_INTEGER where money[column]:
                    line.append(contentsOf: ValueFormatter.raw(sqlite3_column_int64(handle, index).databaseValue, .money).utf8)
                case SQLITE_INTEGER:
                    DecimalBytes.append(sqlite3_column_int64(handle, index), to: &line)
                case SQLITE_FLOAT where money[column]:
                    // total() of money is a REAL of cents: written as dollars like any amount.
                    let cents = Int64(sqlite3_column_double(handle, index).rounded())
                    line.append(contentsOf: ValueFormatter.raw(cents.databaseValue, .money).utf8)
                default:
                    // The type as stored, asked before reading the text (reading may convert it).
                    let isText = neutralizesFormulas && type == SQLITE_TEXT
                    guard let text = sqlite3_column_text(handle, index) else { break }
                    let length = Int(sqlite3_column_bytes(handle, index))
                    let bytes = UnsafeBufferPointer(start: text, count: length)
                    let formula = isText && Self.startsFormula(bytes.first)
                    if bytes.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
                        line.append(UInt8(ascii: "\""))
                        if formula { line.append(UInt8(ascii: "'")) }
                        for byte in bytes {
                            if byte == 0x22 { line.append(0x22) }
                            line.append(byte)
                        }
                        line.append(UInt8(ascii: "\""))
                    } else {
                        if formula { line.append(UInt8(ascii: "'")) }
                        line.append(contentsOf: bytes)
                    }
                }
            }
            line.append(UInt8(ascii: "\n"))
            line.withUnsafeBytes { output.write(bytes: $0) }
            count += 1
        }
        return count
    }
}
