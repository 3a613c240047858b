import Foundation
import RoloStore

/// The PostgreSQL server the tests use: the one `scripts/test` started (its connection string in
/// ROLO_TEST_POSTGRES), or, when a test runs without it (`swift test` alone), a throwaway cluster
/// of its own started by `scripts/pg-cluster` on first use and stopped when the process exits.
/// Each test gets a database of its own (`PostgresTestServer.freshDatabase`).
public enum PostgresTestServer {
    /// The server's connection string, without a database name.
    public static func connectionString() throws -> String {
        try lock.withLock {
            if let known = started { return known }
            if let given = ProcessInfo.processInfo.environment["ROLO_TEST_POSTGRES"], !given.isEmpty {
                started = given
                return given
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rolo-pg-\(getpid())").path
            let output = try run(script, ["start", directory])
            ownDirectory = strdup(directory)
            atexit {
                guard let directory = PostgresTestServer.ownDirectory else { return }
                _ = try? PostgresTestServer.run(PostgresTestServer.script, ["stop", String(cString: directory)])
            }
            started = output
            return output
        }
    }

    /// A new, empty database on the test server, its connection string, and a function that
    /// drops it.
    public static func freshDatabase(_ label: String = "t") throws -> (target: String, drop: () -> Void) {
        let server = try connectionString()
        let name = "rolo_\(label)_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PostgresConnection(server)
        try admin.execute(PostgresSQL.createDatabase(name))
        let target = server.replacingOccurrences(of: "dbname=postgres", with: "dbname=\(name)")
        return (target, { _ = try? PostgresConnection(server).execute(PostgresSQL.dropDatabase(name)) })
    }

    /// A connection string for the same server with one setting replaced or added.
    public static func with(_ key: String, _ value: String, in target: String) -> String {
        var parts = target.split(separator: " ").filter { !$0.hasPrefix("\(key)=") }.map(String.init)
        let quoted = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        parts.append("\(key)='\(quoted)'")
        return parts.joined(separator: " ")
    }

    private static func failure(_ arguments: [String], _ reason: String) -> PostgresError {
        .connect(server: "a throwaway cluster", reason: "scripts/pg-cluster \(arguments.joined(separator: " ")): \(reason)", kind: .unreachable)
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: String?
    nonisolated(unsafe) private static var ownDirectory: UnsafeMutablePointer<CChar>?

    /// scripts/pg-cluster in this checkout (Sources/RoloTestSupport/… → the package root).
    private static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/pg-cluster").path
    }

    /// Runs a script and returns its standard output. The output goes to a file, not a pipe (the
    /// server the script starts inherits the descriptor, and a pipe would never reach its end),
    /// and the script is spawned and waited for directly: Foundation's `Process` was seen never
    /// to reap it once it had started a server.
    private static func run(_ path: String, _ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("rolo-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out")
        FileManager.default.createFile(atPath: outputPath.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputPath) }
        let output = open(outputPath.path, O_WRONLY | O_TRUNC)
        guard output >= 0 else { throw failure(arguments, "cannot write \(outputPath.path)") }
        defer { close(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, output, STDOUT_FILENO)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw failure(arguments, "cannot run it (error \(spawned))") }
        var status: Int32 = 0
        while waitpid(child, &status, 0) == -1, errno == EINTR {}
        // Exited normally with status 0: the low 7 bits (the signal) and the exit code both zero.
        guard status == 0 else { throw failure(arguments, "it failed (wait status \(status)); see its output above") }
        let data = try Data(contentsOf: outputPath)
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
