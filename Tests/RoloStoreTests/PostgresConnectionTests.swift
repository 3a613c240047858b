import Foundation
import RoloTestSupport
import Testing

@testable import RoloStore

/// The PostgreSQL client (libpq through CLibPQ) against the throwaway cluster scripts/test runs
/// (or one started for this process): values bound and read back, errors told apart by their
/// SQLSTATE code, and the connection failures an admin meets said in one line each.
@Suite("PostgreSQL connection", .serialized)
struct PostgresConnectionTests {
    @Test("bound values come back as they were sent, however they look like SQL")
    func boundValuesRoundTrip() throws {
        let (target, drop) = try PostgresTestServer.freshDatabase("values")
        defer { drop() }
        let connection = try PostgresConnection(target)
        let texts = [
            "Ana O'Neil", "'; DROP TABLE contacts; --", "Zoë ДИРЕКТОР 東京", "$1", "back\\slash", "",
            "a\"quote", "line\nbreak", String(repeating: "x", count: 100_000),
        ]
        for text in texts {
            #expect(try connection.text(PostgresSQL.echo, [.text(text)]) == text)
        }
        for integer in [Int64.min, -1, 0, 42, Int64.max] {
            #expect(try connection.text(PostgresSQL.echoInteger, [.integer(integer)]) == String(integer))
        }
        #expect(try connection.text(PostgresSQL.echo, [.null]) == nil)
        #expect(try connection.text(PostgresSQL.echoBytes, [.bytes([0, 1, 0xFE, 0xFF])]) == "0001feff")
    }

    @Test("an error is told by its SQLSTATE: a second row with a unique key is 23505")
    func errorsCarryTheirCode() throws {
        let (target, drop) = try PostgresTestServer.freshDatabase("codes")
        defer { drop() }
        let connection = try PostgresConnection(target)
        try connection.execute("CREATE TABLE t (email text UNIQUE)")
        try connection.execute("INSERT INTO t VALUES ($1)", [.text("ana@acme.io")])
        do {
            try connection.execute("INSERT INTO t VALUES ($1)", [.text("ana@acme.io")])
            Issue.record("a second row with the same unique key was accepted")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23505")
            #expect(!error.description.contains("lost"))
        }
        let changed = try connection.execute("UPDATE t SET email = $1", [.text("bo@acme.io")]).changed
        #expect(changed == 1)
        #expect(connection.isOpen)
    }

    @Test("COPY loads 100,000 rows whose text holds tabs, newlines, backslashes and NULLs, exactly")
    func copyLoadsRows() throws {
        let (target, drop) = try PostgresTestServer.freshDatabase("copy")
        defer { drop() }
        let connection = try PostgresConnection(target)
        try connection.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text, active boolean, at timestamptz)")
        let awkward = ["tab\there", "line\nbreak\r\n", "back\\slash \\N", "Zoë 東京 👍", "", "\\.", "'quoted' \"double\""]
        let rows: [[String?]] = (1...100_000).map { i in
            [String(i), i % 7 == 0 ? nil : awkward[i % awkward.count] + " \(i)", i % 2 == 0 ? "1" : "0", "2026-11-22T10:00:00Z"]
        }
        #expect(try connection.copy("COPY t (id, name, active, at) FROM STDIN", rows: rows) == 100_000)
        #expect(try connection.text("SELECT count(*) FROM t") == "100000")
        #expect(try connection.text("SELECT count(*) FROM t WHERE name IS NULL") == String(100_000 / 7))
        #expect(try connection.text("SELECT count(*) FROM t WHERE active") == "50000")
        for i in [1, 2, 3, 5, 6, 13, 99_999] {
            #expect(try connection.text("SELECT name FROM t WHERE id = $1", [.integer(Int64(i))]) == rows[i - 1][1])
        }
    }

    @Test("a bad row in a COPY loads nothing, says which value, and leaves the connection usable")
    func copyRefusesWhole() throws {
        let (target, drop) = try PostgresTestServer.freshDatabase("copybad")
        defer { drop() }
        let connection = try PostgresConnection(target)
        try connection.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
        let rows: [[String?]] = (1...1_000).map { [$0 == 500 ? "five hundred" : String($0), "x"] }
        do {
            try connection.copy("COPY t (id, name) FROM STDIN", rows: rows)
            Issue.record("a row with text for a number was loaded")
        } catch let error as PostgresError {
            #expect(error.sqlState == "22P02")
            #expect(error.description.contains("five hundred"))
        }
        #expect(try connection.text("SELECT count(*) FROM t") == "0")
        #expect(connection.isOpen)
    }

    @Test("no server at the address: says where it looked and to start the server")
    func unreachableServer() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("rolo-no-server-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        do {
            _ = try PostgresConnection("host=\(empty.path) port=5439 user=rolo_test dbname=postgres connect_timeout=5")
            Issue.record("connected to a server that is not there")
        } catch let error as PostgresError {
            guard case .connect(_, _, let kind) = error else { Issue.record("not a connection error: \(error)"); return }
            #expect(kind == .unreachable)
            #expect(error.description.contains(empty.path))
            #expect(error.description.contains("port 5439"))
            #expect(error.description.contains("start the server"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("a login the server does not know is refused, naming the login")
    func unknownLogin() throws {
        let server = try PostgresTestServer.connectionString()
        do {
            _ = try PostgresConnection(PostgresTestServer.with("user", "nobody_at_acme", in: server))
            Issue.record("an unknown login connected")
        } catch let error as PostgresError {
            guard case .connect(_, _, let kind) = error else { Issue.record("not a connection error: \(error)"); return }
            #expect(kind == .refused)
            #expect(error.description.contains("nobody_at_acme"))
        }
    }

    @Test("a connection string libpq cannot read is said to be unreadable, not an unreachable server")
    func malformedTarget() throws {
        do {
            _ = try PostgresConnection("host=/tmp dbname")
            Issue.record("a malformed connection string connected")
        } catch let error as PostgresError {
            guard case .connect(_, _, let kind) = error else { Issue.record("not a connection error: \(error)"); return }
            #expect(kind == .malformed)
            #expect(error.description.contains("cannot read the PostgreSQL connection"))
        }
    }

    @Test("a login that needs a password: none given, and a wrong one, are each said plainly")
    func passwords() throws {
        let server = try PostgresTestServer.connectionString()
        let admin = try PostgresConnection(server)
        try admin.execute(PostgresSQL.dropLogin("rolo_password_test"))
        try admin.execute(PostgresSQL.createLogin("rolo_password_test", password: "right horse"))
        defer { _ = try? admin.execute(PostgresSQL.dropLogin("rolo_password_test")) }
        let login = PostgresTestServer.with("user", "rolo_password_test", in: server)
        // The cluster asks this login for a password (scripts/pg-cluster's pg_hba.conf line).
        let right = try PostgresConnection(PostgresTestServer.with("password", "right horse", in: login))
        #expect(right.login == "rolo_password_test")
        do {
            _ = try PostgresConnection(PostgresTestServer.with("password", "wrong", in: login))
            Issue.record("a wrong password was accepted")
        } catch let error as PostgresError {
            guard case .connect(_, _, let kind) = error else { Issue.record("not a connection error: \(error)"); return }
            #expect(kind == .passwordRefused)
            #expect(error.description.contains("password was refused"))
        }
        do {
            _ = try PostgresConnection(PostgresTestServer.with("passfile", "/nonexistent", in: login))
            Issue.record("no password was accepted")
        } catch let error as PostgresError {
            guard case .connect(_, _, let kind) = error else { Issue.record("not a connection error: \(error)"); return }
            #expect(kind == .passwordNeeded)
            #expect(error.description.contains("PGPASSWORD"))
        }
    }

    @Test("a connection lost in the middle is said to be lost, and is no longer open")
    func lostConnection() throws {
        let (target, drop) = try PostgresTestServer.freshDatabase("lost")
        defer { drop() }
        let victim = try PostgresConnection(target)
        let process = try #require(try victim.text(PostgresSQL.backendProcess))
        let other = try PostgresConnection(target)
        #expect(try other.text(PostgresSQL.endBackend, [.integer(Int64(process)!)]) == "t")
        do {
            try victim.execute(PostgresSQL.echo, [.text("still there?")])
            Issue.record("a statement ran on a connection the server ended")
        } catch let error as PostgresError {
            guard case .server(_, _, let lost) = error else { Issue.record("not a server error: \(error)"); return }
            #expect(lost)
            #expect(error.description.contains("connection to the PostgreSQL server was lost"))
        }
        #expect(!victim.isOpen)
    }
}
