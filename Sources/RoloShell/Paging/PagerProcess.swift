import Foundation

/// A pager (`/bin/sh -c COMMAND`) reading from a pipe and drawing on the terminal: it shares the
/// shell's terminal, standard output and error, and process group (so it can read keys).
final class PagerProcess: PagerSink {
    private let input: Int32
    private let pid: pid_t
    private var closed = false

    private init(input: Int32, pid: pid_t) {
        self.input = input
        self.pid = pid
    }

    /// Starts `command`, or returns nil when its program is not found or cannot start.
    static func start(_ command: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> PagerProcess? {
        guard isRunnable(command, environment: environment) else { return nil }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        // Neither end stays open in the pager beyond its standard input (else it would never
        // see the end of its input).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, STDIN_FILENO)

        // The shell ignores SIGINT and SIGPIPE while it runs; the pager gets the defaults back.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGQUIT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        var arguments: [UnsafeMutablePointer<CChar>?] = []
        for word in ["/bin/sh", "-c", command] { arguments.append(strdup(word)) }
        arguments.append(nil)
        var variables: [UnsafeMutablePointer<CChar>?] = []
        for (name, value) in environment { variables.append(strdup(name + "=" + value)) }
        variables.append(nil)
        defer {
            for pointer in arguments { free(pointer) }
            for pointer in variables { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments, variables)
        Foundation.close(readEnd)
        guard status == 0 else {
            Foundation.close(writeEnd)
            return nil
        }
        return PagerProcess(input: writeEnd, pid: pid)
    }

    /// Whether the program of `command` (its first word after any NAME=VALUE assignments) is
    /// there: a path, or a name found on `PATH`.
    static func isRunnable(_ command: String, environment: [String: String]) -> Bool {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let program = words.first(where: { !$0.contains("=") }) else { return false }
        if program.contains("/") { return access(program, X_OK) == 0 }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").contains { access("\($0)/\(program)", X_OK) == 0 }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !closed, let base = bytes.baseAddress else { return !closed }
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(input, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false  // EPIPE: the pager was quit
            }
            offset += written
        }
        return true
    }

    func close() {
        guard !closed else { return }
        closed = true
        Foundation.close(input)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    deinit { close() }
}
