import CLibPQ
import Foundation

/// A value bound to a server statement's parameter or read back from a row: Rolo sends every
/// value as a bound parameter ($1, $2, …), never as text spliced into the statement.
public enum ServerValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes([UInt8])
}

/// One connection to a PostgreSQL server through libpq (Debian's libpq-dev, reached through the
/// `CLibPQ` system-library target as libedit is through `CLibEdit`). libpq reads the connection
/// the way psql does: a `postgres://USER@HOST[:PORT]/DBNAME` or `postgresql://…` URL, a
/// `host=… dbname=…` string, the PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD environment and
/// ~/.pgpass. Synchronous, like the rest of the engine. Not shared between threads.
public final class PostgresConnection {
    private let connection: OpaquePointer

    /// What the connection reached: the server's host (or socket directory), port, database and login.
    public let host: String
    public let port: String
    public let database: String
    public let login: String

    /// Connects, or throws `PostgresError.connect` with the server, the reason and what to do.
    public init(_ target: String) throws {
        guard let connection = PQconnectdb(target) else {
            throw PostgresError.connect(server: target, reason: "libpq could not allocate a connection", kind: .unreachable)
        }
        let host = PQhost(connection).map { String(cString: $0) } ?? ""
        let port = PQport(connection).map { String(cString: $0) } ?? ""
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.lastMessage(connection)
            let needsPassword = PQconnectionNeedsPassword(connection) == 1
            let usedPassword = PQconnectionUsedPassword(connection) == 1
            PQfinish(connection)
            // Told apart by libpq's codes, not its message: no answer at all is a server that is
            // not running or not reachable; an answer is a server that refused this login.
            // A connection string libpq cannot read is not attempted at all.
            let ping = PQping(target)
            throw PostgresError.connect(
                server: Self.describe(host: host, port: port), reason: message,
                kind: ping == PQPING_NO_ATTEMPT ? .malformed : ping == PQPING_NO_RESPONSE ? .unreachable
                    : needsPassword ? .passwordNeeded : usedPassword ? .passwordRefused : .refused)
        }
        self.connection = connection
        self.host = host
        self.port = port
        self.database = PQdb(connection).map { String(cString: $0) } ?? ""
        self.login = PQuser(connection).map { String(cString: $0) } ?? ""
        // Notices (a table dropped that was not there) are the caller's business, not stderr's.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { PQfinish(connection) }

    /// "HOST:PORT", or "the socket in DIR (port N)" for a Unix socket, as a person names the server.
    public var server: String { Self.describe(host: host, port: port) }

    static func describe(host: String, port: String) -> String {
        if host.hasPrefix("/") { return "the Unix socket in \(host) (port \(port.isEmpty ? "5432" : port))" }
        return "\(host.isEmpty ? "localhost" : host):\(port.isEmpty ? "5432" : port)"
    }

    /// Whether the connection is still usable (a server restarted under it is not).
    public var isOpen: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Runs one statement with its values bound ($1, $2, …) and returns its rows, as text, and
    /// the number of rows it changed. Integers and reals are sent as their text, bytes in binary.
    @discardableResult
    public func execute(_ sql: String, _ values: [ServerValue] = []) throws -> ServerResult {
        let texts: [[UInt8]?] = values.map { value in
            switch value {
            case .null: return nil
            case .integer(let i): return Array(String(i).utf8) + [0]
            case .real(let d): return Array(String(d).utf8) + [0]
            case .text(let s): return Array(s.utf8) + [0]
            case .bytes(let b): return b
            }
        }
        let lengths: [Int32] = values.enumerated().map { index, value in
            if case .bytes(let b) = value { return Int32(b.count) }
            return Int32(max((texts[index]?.count ?? 1) - 1, 0))
        }
        let formats: [Int32] = values.map { if case .bytes = $0 { return 1 } else { return 0 } }
        let result: OpaquePointer? = withPointers(texts) { pointers in
            PQexecParams(connection, sql, Int32(values.count), nil, pointers, lengths, formats, 0)
        }
        guard let result else {
            throw PostgresError.server(sqlState: nil, message: Self.lastMessage(connection), connectionLost: !isOpen)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return ServerResult(result)
        default:
            throw failure(result)
        }
    }

    /// Loads rows with `COPY … FROM STDIN` (`statement`, text format): the bulk load, several
    /// times faster than inserts. Each row's values are text as the column's type reads it, nil
    /// for NULL; tabs, newlines and backslashes are escaped here. Sent in chunks of about a
    /// megabyte. Returns the number of rows the server loaded; on any error nothing is loaded.
    @discardableResult
    public func copy<Rows: Sequence>(_ statement: String, rows: Rows) throws -> Int where Rows.Element == [String?] {
        guard let started = PQexec(connection, statement) else {
            throw PostgresError.server(sqlState: nil, message: Self.lastMessage(connection), connectionLost: !isOpen)
        }
        let status = PQresultStatus(started)
        if status != PGRES_COPY_IN {
            defer { PQclear(started) }
            throw failure(started)
        }
        PQclear(started)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var sendError: String?
        func flush() {
            guard sendError == nil, !buffer.isEmpty else { return buffer.removeAll(keepingCapacity: true) }
            let sent = buffer.withUnsafeBufferPointer { bytes in
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    PQputCopyData(connection, $0, Int32(bytes.count))
                }
            }
            if sent != 1 { sendError = Self.lastMessage(connection) }
            buffer.removeAll(keepingCapacity: true)
        }
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { buffer.append(0x09) }
                guard let value else {
                    buffer.append(contentsOf: [0x5C, 0x4E])  // \N
                    continue
                }
                for byte in value.utf8 {
                    switch byte {
                    case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
                    case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
                    case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
                    case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
                    default: buffer.append(byte)
                    }
                }
            }
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { flush() }
            if sendError != nil { break }
        }
        flush()
        PQputCopyEnd(connection, sendError)
        var loaded = 0
        var firstFailure: PostgresError?
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                loaded = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if firstFailure == nil {
                firstFailure = failure(result)
            }
        }
        if let firstFailure { throw firstFailure }
        return loaded
    }

    private func failure(_ result: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        return PostgresError.server(sqlState: state, message: primary ?? Self.lastMessage(connection), connectionLost: !isOpen)
    }

    /// The first column of the first row, or nil for no row or NULL.
    public func text(_ sql: String, _ values: [ServerValue] = []) throws -> String? {
        try execute(sql, values).rows.first?.first ?? nil
    }

    private static func lastMessage(_ connection: OpaquePointer) -> String {
        let text = PQerrorMessage(connection).map { String(cString: $0) } ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func withPointers<T>(_ values: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(values.count)
        func step(_ index: Int) -> T {
            if index == values.count { return body(pointers) }
            guard let bytes = values[index] else {
                pointers.append(nil)
                return step(index + 1)
            }
            return bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) { pointer in
                    pointers.append(pointer)
                    return step(index + 1)
                }
            }
        }
        return step(0)
    }
}

/// A statement's rows, read as text (NULL as nil), its column names and the rows it changed.
public struct ServerResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    public let changed: Int

    init(_ result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        rows = (0..<rowCount).map { row in
            (0..<columnCount).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
        changed = Int(String(cString: PQcmdTuples(result))) ?? 0
    }
}

/// A failure talking to the server, worded for the person at the keyboard.
public enum PostgresError: Error, Equatable, CustomStringConvertible {
    public enum ConnectKind: Equatable, Sendable { case malformed, unreachable, refused, passwordNeeded, passwordRefused }

    case connect(server: String, reason: String, kind: ConnectKind)
    case server(sqlState: String?, message: String, connectionLost: Bool)

    /// The SQLSTATE code the server sent (e.g. 23505 for a unique key), to tell errors apart by
    /// code rather than by their text.
    public var sqlState: String? {
        if case .server(let state, _, _) = self { return state }
        return nil
    }

    public var description: String {
        switch self {
        case .connect(let server, let reason, let kind):
            let reason = reason.replacingOccurrences(of: "\n", with: " ")
            switch kind {
            case .malformed:
                return "cannot read the PostgreSQL connection \(server): \(reason) (write postgres://USER@HOST:PORT/DBNAME, or host=… dbname=… pairs)"
            case .passwordNeeded:
                return "cannot log in to the PostgreSQL server at \(server): it asks for a password and none was given; set PGPASSWORD or add the login to ~/.pgpass"
            case .passwordRefused:
                return "cannot log in to the PostgreSQL server at \(server): the password was refused (\(reason))"
            case .unreachable:
                return "cannot reach a PostgreSQL server at \(server) (\(reason)): start the server (pg_ctl start, or systemctl start postgresql) or check the host and port in --db"
            case .refused:
                return "the PostgreSQL server at \(server) refused the connection: \(reason)"
            }
        case .server(_, let message, let lost):
            return lost ? "the connection to the PostgreSQL server was lost: \(message)" : message
        }
    }
}
