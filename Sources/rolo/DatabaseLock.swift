import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An advisory lock on a database file, so that `rolo demo FILE --fresh` never deletes a file that
/// another rolo process has open.
///
/// Every rolo process that opens a database holds a shared `flock` on the database file itself for as
/// long as it runs (no lock file is left beside it); `--fresh` takes an exclusive one without waiting
/// and refuses when it cannot. On Linux `flock` locks are apart from the POSIX record locks SQLite
/// takes, so the two never meet; on the BSDs (macOS) they may conflict, so there rolo takes no lock and
/// `--fresh` does not check. Other programs (the sqlite3 shell) take no such lock and are not seen.
///
/// A lock's descriptor is closed only for a file this process has no SQLite connection to: closing any
/// descriptor of a file drops every POSIX lock the process holds on it, SQLite's included. The rest are
/// released when the process ends.
final class DatabaseLock {
    private let descriptor: Int32
    private let device: UInt64
    private let inode: UInt64

    /// The locks this process holds, so that it never locks one file twice (its own exclusive lock
    /// would make it wait for itself).
    nonisolated(unsafe) private static var held: [DatabaseLock] = []

    private init(descriptor: Int32, device: UInt64, inode: UInt64) {
        self.descriptor = descriptor
        self.device = device
        self.inode = inode
    }

    enum Attempt {
        case locked(DatabaseLock)
        /// Another process holds a lock on the file.
        case busy
        /// The file does not exist, cannot be opened for reading, or its file system has no `flock`.
        case unavailable
    }

    /// Locks `path` shared: the file is in use by this process. Waits while another process holds it
    /// exclusively (a `rolo demo --fresh` replacing it), calling `onWait` once first, and locks the file
    /// at `path` once it is done, even if it was replaced meanwhile. Nil when there is no file to lock
    /// (opening it will say why).
    static func shared(_ path: String, onWait: () -> Void = {}) -> DatabaseLock? {
        #if !os(Linux)
            return nil
        #endif
        if let mine = heldLock(on: path) {
            _ = flock(mine.descriptor, LOCK_SH)
            return mine
        }
        var waited = false
        for _ in 0..<20 {
            guard let (descriptor, device, inode) = openForLock(path) else { return nil }
            // A file system without flock (errno other than EWOULDBLOCK) goes on unlocked.
            if flock(descriptor, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK {
                if !waited {
                    onWait()
                    waited = true
                }
                while flock(descriptor, LOCK_SH) != 0 && errno == EINTR {}
            }
            // Replaced while this waited: lock the new file instead. The old descriptor stays open
            // (see the type's notes) and its lock with it, on a file no longer at `path`.
            if let now = identity(path), now.device == device, now.inode == inode {
                let lock = DatabaseLock(descriptor: descriptor, device: device, inode: inode)
                held.append(lock)
                return lock
            }
        }
        return nil
    }

    /// Locks `path` exclusively without waiting: `.busy` when another rolo process has it open.
    static func exclusive(_ path: String) -> Attempt {
        #if !os(Linux)
            return .unavailable
        #endif
        if let mine = heldLock(on: path) {
            return flock(mine.descriptor, LOCK_EX | LOCK_NB) == 0 ? .locked(mine) : .busy
        }
        guard let (descriptor, device, inode) = openForLock(path) else { return .unavailable }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            close(descriptor)  // this process has not opened the file with SQLite
            return busy ? .busy : .unavailable
        }
        let lock = DatabaseLock(descriptor: descriptor, device: device, inode: inode)
        held.append(lock)
        return .locked(lock)
    }

    /// Lets go of the lock and closes its descriptor: only for a file this process has no SQLite
    /// connection to (one it deleted, or one it has not opened).
    func releaseAndClose() {
        Self.held.removeAll { $0 === self }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func heldLock(on path: String) -> DatabaseLock? {
        guard let file = identity(path) else { return nil }
        return held.first { $0.device == file.device && $0.inode == file.inode }
    }

    private static func identity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    private static func openForLock(_ path: String) -> (Int32, UInt64, UInt64)? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            return nil
        }
        return (descriptor, UInt64(info.st_dev), UInt64(info.st_ino))
    }
}
