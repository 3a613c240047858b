import CLibEdit
import Foundation

/// The history file shared by every shell of a user: several shells open at once all keep their
/// lines. Each new line is merged into the file as it is now — read, the new lines added, the
/// newest `limit` written back — under an exclusive `flock` on the file, so one shell never
/// overwrites what another saved in between (no last-writer-wins). Reading takes a shared lock.
///
/// The file is libedit's own format (read and written by libedit, a `_HiStOrY_V2_` line, then
/// one `strvis`-encoded line per entry), mode 0600.
enum HistoryFile {
    /// Loads the file into `history` (nothing when it is missing or empty).
    static func load(_ path: String, into history: OpaquePointer) {
        withLock(path, exclusive: false) {
            var event = HistEvent()
            _ = rolo_history_load(history, &event, path)
        }
    }

    /// Adds `lines` after the file's current entries, keeping the newest `limit` (and, as the
    /// shell's own history does, not repeating a line just before).
    /// - Returns: false when the file could not be written.
    @discardableResult
    static func append(_ lines: [String], to path: String, limit: Int32) -> Bool {
        guard !lines.isEmpty else { return true }
        return withLock(path, exclusive: true) {
            guard let scratch = history_init() else { return false }
            defer { history_end(scratch) }
            var event = HistEvent()
            _ = rolo_history_setsize(scratch, &event, limit)
            _ = rolo_history_setunique(scratch, &event, 1)
            _ = rolo_history_load(scratch, &event, path)
            for line in lines { _ = rolo_history_enter(scratch, &event, line) }
            // Truncates and rewrites the locked file itself (the same inode, so the lock holds).
            return rolo_history_save(scratch, &event, path) >= 0
        } ?? false
    }

    /// The file's entries, oldest first.
    static func entries(_ path: String) -> [String] {
        guard let scratch = history_init() else { return [] }
        defer { history_end(scratch) }
        var event = HistEvent()
        _ = rolo_history_setsize(scratch, &event, 1 << 20)  // libedit keeps nothing until given a size
        load(path, into: scratch)
        var lines: [String] = []
        var found = rolo_history_first(scratch, &event)
        while found >= 0, let text = event.str {
            lines.append(String(cString: text))
            found = rolo_history_next(scratch, &event)
        }
        return lines.reversed()
    }

    /// Runs `body` holding a lock on the file (created with mode 0600 if missing); nil when the
    /// file cannot be opened.
    @discardableResult
    private static func withLock<T>(_ path: String, exclusive: Bool, _ body: () -> T) -> T? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd) }  // closing the descriptor releases the lock
        fchmod(fd, 0o600)
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { return nil }
        }
        return body()
    }
}
