import Foundation

/// How a connection waits for another process's write lock: up to `timeout` seconds (a session
/// setting, 30 by default), telling the person at the terminal after a second, or not at all
/// when `noWait` is set (the audit of reads tries the lock and comes back later).
///
/// SQLite calls the busy handler on its own thread of execution — the connection's — so the
/// state is guarded by a lock rather than an actor.
public final class BusyPolicy: @unchecked Sendable {
    private let lock = NSLock()
    private var _timeout: Double = CRMStore.defaultBusyTimeout
    private var _noWait = false
    private var _onWait: (@Sendable () -> Void)? = nil
    private var started: Date? = nil
    private var told = false

    public init() {}

    /// Seconds a write waits for another writer before giving up.
    public var timeout: Double {
        get { lock.withLock { _timeout } }
        set { lock.withLock { _timeout = newValue } }
    }

    /// Called once per wait that lasts more than a second (the shell prints "waiting for another writer…").
    public var onWait: (@Sendable () -> Void)? {
        get { lock.withLock { _onWait } }
        set { lock.withLock { _onWait = newValue } }
    }

    /// Runs `body` without waiting for the lock: a busy database fails at once.
    public func withoutWaiting<T>(_ body: () throws -> T) rethrows -> T {
        lock.withLock { _noWait = true }
        defer { lock.withLock { _noWait = false } }
        return try body()
    }

    /// SQLite's busy handler: sleep a little and retry until the timeout.
    func shouldRetry(tries: Int) -> Bool {
        let (noWait, timeout, elapsed, notify): (Bool, Double, Double, (@Sendable () -> Void)?) = lock.withLock {
            if tries == 0 {
                started = Date()
                told = false
            }
            let elapsed = Date().timeIntervalSince(started ?? Date())
            var notify: (@Sendable () -> Void)? = nil
            if elapsed >= 1, !told {
                told = true
                notify = _onWait
            }
            return (_noWait, _timeout, elapsed, notify)
        }
        if noWait || elapsed >= timeout { return false }
        notify?()
        // 1 ms, backing off to 20 ms: a short wait answers quickly, a long one costs little.
        usleep(UInt32(min(20, 1 + tries)) * 1000)
        return true
    }
}
