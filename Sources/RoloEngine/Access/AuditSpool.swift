import Foundation

/// Audit entries of reads that ended while another session held the write lock.
///
/// A read never waits for the write lock, yet every read is recorded: its entry waits in memory
/// and is appended with the session's next write or when the lock is free. A session that ends
/// with entries still waiting appends them here, to a file beside the database
/// (`crm.db-audit-spool`, one JSON entry a line, mode 0600), and the next session that takes the
/// write lock moves them into the hash chain before its own entries.
struct AuditSpool {
    let path: String?

    init(databasePath: String) {
        path = databasePath == ":memory:" ? nil : databasePath + "-audit-spool"
    }

    /// Appends entries, one line each, in one write (O_APPEND keeps concurrent writers' lines whole).
    func spool(_ entries: [Engine.AuditEntry]) throws {
        guard let path, !entries.isEmpty else { return }
        let encoder = JSONEncoder()
        var data = Data()
        for entry in entries {
            data.append(try encoder.encode(entry))
            data.append(0x0A)
        }
        try Self.append(data, to: path)
    }

    private static func append(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Spooled entries taken for appending: the file is renamed first, so two sessions never
    /// append the same entries; `discard` after the commit, `restore` if it failed.
    struct Drained {
        let entries: [Engine.AuditEntry]
        let file: String
        let spool: String

        func discard() { unlink(file) }

        func restore() {
            if let data = FileManager.default.contents(atPath: file) { try? AuditSpool.append(data, to: spool) }
            unlink(file)
        }
    }

    /// Takes the spooled entries, if any (called with the write lock held).
    func drain() throws -> Drained? {
        guard let path, access(path, F_OK) == 0 else { return nil }
        let taken = path + ".\(getpid())"
        guard rename(path, taken) == 0 else { return nil }
        let data = FileManager.default.contents(atPath: taken) ?? Data()
        let decoder = JSONDecoder()
        var entries: [Engine.AuditEntry] = []
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            // A line cut short by a crash is skipped rather than blocking every later write.
            if let entry = try? decoder.decode(Engine.AuditEntry.self, from: line) { entries.append(entry) }
        }
        return Drained(entries: entries, file: taken, spool: path)
    }
}
