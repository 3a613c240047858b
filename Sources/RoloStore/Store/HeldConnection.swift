import Foundation
import GRDB

/// The store's connection while a run holds it (`CRMStore.hold`), for the thread holding it.
///
/// Inside the hold, the thread is on GRDB's queue for the connection, so a database access can
/// use the connection at once: GRDB's own reentrant path (its queue-specific lookups and checks)
/// cost a statement of a script about 900 instructions. Another thread is never handed it.
final class HeldConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var database: Database? = nil
    private var thread: pthread_t? = nil

    /// The held connection, when this thread holds it.
    var onThisThread: Database? {
        lock.lock()
        defer { lock.unlock() }
        guard let database, let thread, pthread_equal(thread, pthread_self()) != 0 else { return nil }
        return database
    }

    /// Runs `body` with `database` held by this thread (a hold inside another keeps the outer one after).
    func holding<T>(_ database: Database, _ body: () throws -> T) rethrows -> T {
        let outer = exchange((database, pthread_self()))
        defer { _ = exchange(outer) }
        return try body()
    }

    private func exchange(_ held: (Database?, pthread_t?)) -> (Database?, pthread_t?) {
        lock.lock()
        defer { lock.unlock() }
        let previous = (database, thread)
        (database, thread) = held
        return previous
    }
}
