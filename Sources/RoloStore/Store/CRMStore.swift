import Foundation
import GRDB

/// An open CRM database: a GRDB queue with the Rolo schema migrated in.
///
/// Opening never modifies a file that is not a Rolo database, and refuses one written by a
/// newer Rolo. Foreign keys are on, the journal is WAL and writers wait for each other.
public final class CRMStore: Sendable {
    public let path: String
    public let dbQueue: DatabaseQueue
    /// The files SQLite keeps beside the database while it is open, by the ending added to its
    /// path: the write-ahead log, its shared-memory index, and the rollback journal.
    public static let companionSuffixes = ["-wal", "-shm", "-journal"]

    /// How writes wait for another process's write lock.
    public let busy: BusyPolicy
    /// The file could not be written: reads work, changes are refused, nothing is audited.
    public let isReadOnly: Bool
    /// The connection while a run holds it (`hold`).
    private let held = HeldConnection()

    private init(path: String, dbQueue: DatabaseQueue, busy: BusyPolicy, isReadOnly: Bool = false) {
        self.path = path
        self.dbQueue = dbQueue
        self.busy = busy
        self.isReadOnly = isReadOnly
    }

    /// Whether the file at `path` cannot be written by this process: no write permission, or
    /// no write bit at all (an admin's `chmod 444`, honoured even for root).
    public static func isUnwritable(path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        if access(path, W_OK) != 0 { return true }
        let mode = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0o644
        return mode & 0o222 == 0
    }

    /// How to treat a path that has no database yet.
    public enum OpenMode: Sendable {
        /// The file must already be a Rolo database.
        case existing
        /// Create an empty Rolo database if the file is absent.
        case createIfMissing
    }

    /// Opens (and if allowed, creates) the database at `path`, migrating it to this build's schema.
    public static func open(path: String, mode: OpenMode = .existing, readOnly: Bool = false) throws -> CRMStore {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw StoreError.folderMissing(path: path, folder: folder)
        }
        let verdict = DatabaseFileCheck.inspect(path: path)
        switch verdict {
        case .absent:
            if mode == .existing { throw StoreError.fileMissing(path: path) }
        case .empty:
            if mode == .existing { throw StoreError.notARoloDatabase(path: path, reason: "the file is empty") }
        case .foreign(let reason):
            // A database we created may still have its header changes in the write-ahead log.
            if !FileManager.default.fileExists(atPath: path + "-wal") {
                throw StoreError.notARoloDatabase(path: path, reason: reason)
            }
            try verifyThroughSQLite(path: path, reason: reason)
        case .rolo(let version):
            if version > CRMSchema.version {
                throw StoreError.newerSchema(path: path, found: version, supported: CRMSchema.version)
            }
        }
        if readOnly || isUnwritable(path: path) {
            return try openReadOnly(path: path, verdict: verdict)
        }
        do {
            let busy = BusyPolicy()
            let queue = try DatabaseQueue(path: path, configuration: configuration(busy: busy))
            let store = CRMStore(path: path, dbQueue: queue, busy: busy)
            try Migrations.migrator.migrate(queue)
            if verdict != .rolo(schemaVersion: CRMSchema.version) {
                // A new or upgraded file gets its audit spool secret now (an older file of this
                // version gets it with its first write).
                _ = try queue.write { db in try AuditSpoolSecret.ensure(db) }
                // New, upgraded, or its header still in the WAL: put the schema version in the
                // file's header now, where an older Rolo looks to refuse a newer file.
                try store.checkpoint()
            }
            return store
        } catch let error as DatabaseError {
            switch error.resultCode {
            case .SQLITE_READONLY:
                throw StoreError.readOnly(path: path)
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                throw StoreError.locked(path: path)
            default:
                throw StoreError.sqlite("cannot open '\(path)': \(error.message ?? error.description)")
            }
        }
    }

    /// An in-memory database with the schema, for tests.
    public static func inMemory() throws -> CRMStore {
        let busy = BusyPolicy()
        let queue = try DatabaseQueue(configuration: configuration(busy: busy))
        try Migrations.migrator.migrate(queue)
        _ = try queue.write { db in try AuditSpoolSecret.ensure(db) }
        return CRMStore(path: ":memory:", dbQueue: queue, busy: busy)
    }

    /// Opens a file this process may not write: SQLite's read-only mode, no migration (an old file
    /// is refused: it cannot be upgraded), and nothing written beside it. A WAL database needs its
    /// shared-memory file to be read; when there is none, the file is opened as immutable, which
    /// is safe because nobody can be writing a file without write bits.
    private static func openReadOnly(path: String, verdict: DatabaseFileCheck.Verdict) throws -> CRMStore {
        switch verdict {
        case .rolo(let version) where version == CRMSchema.version: break
        case .rolo(let version):
            throw StoreError.sqlite(
                "cannot open '\(path)' read-only: it has schema version \(version) and needs an upgrade to \(CRMSchema.version), which needs write access"
            )
        default:
            throw StoreError.readOnly(path: path)
        }
        let busy = BusyPolicy()
        var config = configuration(busy: busy)
        config.readonly = true
        let hasLog = FileManager.default.fileExists(atPath: path + "-wal") || FileManager.default.fileExists(atPath: path + "-shm")
        let target = hasLog ? path : "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?immutable=1"
        do {
            let queue = try DatabaseQueue(path: target, configuration: config)
            return CRMStore(path: path, dbQueue: queue, busy: busy, isReadOnly: true)
        } catch let error as DatabaseError {
            throw StoreError.sqlite("cannot open '\(path)' read-only: \(error.message ?? error.description)")
        }
    }

    /// A second, read-only connection to the same file, configured as this one (the same SQL
    /// functions and settings), for reads run beside this connection's; nil for an in-memory
    /// database or a file opened read-only. Closed when released.
    public func reader() throws -> DatabaseQueue? {
        guard path != ":memory:", !isReadOnly else { return nil }
        var config = Self.configuration(busy: busy)
        config.readonly = true
        config.label = "rolo-reader"
        return try DatabaseQueue(path: path, configuration: config)
    }

    /// Seconds a write waits for another writer unless the session says otherwise.
    public static let defaultBusyTimeout: Double = 30

    static func configuration(busy: BusyPolicy) -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .callback { tries in busy.shouldRetry(tries: tries) }
        config.label = "rolo"
        // `begin` … `commit` and scripts keep one transaction open across statements.
        config.allowsUnsafeTransactions = true
        config.prepareDatabase { db in
            // WAL needs a file; in-memory databases keep their default journal.
            if !db.configuration.readonly, (try? String.fetchOne(db, Sql.setting("journal_mode"))) != "memory" {
                try db.execute(Sql.set("journal_mode", "WAL"))
                try db.execute(Sql.set("synchronous", "NORMAL"))
            }
            MoneyFunctions.install(in: db)
            DateFunctions.install(in: db)
            TextFolding.install(in: db)
            // Case-insensitive LIKE is SQLite's default; `contains` relies on it.
            try db.execute(Sql.set("case_sensitive_like", "OFF"))
            // SQLite's default cache and temp store: measured faster here than a larger in-memory
            // cache (scripts/bench), and a million-row dry-run keeps its journal on disk, not in RAM.
        }
        return config
    }

    private static func verifyThroughSQLite(path: String, reason: String) throws {
        var config = Configuration()
        config.readonly = true
        let appID: Int32
        let version: Int
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            (appID, version) = try queue.read { db in
                (
                    try Int32.fetchOne(db, Sql.setting("application_id")) ?? 0,
                    try Int.fetchOne(db, Sql.setting("user_version")) ?? 0
                )
            }
        } catch {
            throw StoreError.notARoloDatabase(path: path, reason: reason)
        }
        guard appID == CRMSchema.applicationID else {
            throw StoreError.notARoloDatabase(path: path, reason: reason)
        }
        if version > CRMSchema.version {
            throw StoreError.newerSchema(path: path, found: version, supported: CRMSchema.version)
        }
    }

    /// Copies the database into a single self-contained file (checkpointing the WAL first).
    public func checkpoint() throws {
        try inDatabase { db in
            _ = try db.checkpoint(.truncate)
        }
    }

    /// Runs `body` on the session's connection, as GRDB's `inDatabase` does, but reentrant: a
    /// script run holds the connection for all of its statements (`hold`), and every access
    /// inside it then runs `body` at once, without another dispatch onto GRDB's queue (for a
    /// quick read, a tenth of the statement). Every access of the engine goes through here: one
    /// through `dbQueue` itself inside a hold would be refused by GRDB as reentrant.
    public func inDatabase<T>(_ body: (Database) throws -> T) rethrows -> T {
        if let database = held.onThisThread { return try body(database) }
        return try dbQueue.unsafeReentrantWrite(body)
    }

    /// Runs `body` holding the connection (on GRDB's queue): `inDatabase` inside it, on this
    /// thread, uses the connection directly.
    public func hold<T>(_ body: () throws -> T) rethrows -> T {
        try dbQueue.unsafeReentrantWrite { database in try held.holding(database, body) }
    }
}
