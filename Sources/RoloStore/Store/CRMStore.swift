import Foundation
import GRDB

/// An open CRM database: a GRDB queue with the Rolo schema migrated in.
///
/// Opening never modifies a file that is not a Rolo database, and refuses one written by a
/// newer Rolo. Foreign keys are on, the journal is WAL and writers wait for each other.
public final class CRMStore: Sendable {
    public let path: String
    public let dbQueue: DatabaseQueue

    private init(path: String, dbQueue: DatabaseQueue) {
        self.path = path
        self.dbQueue = dbQueue
    }

    /// How to treat a path that has no database yet.
    public enum OpenMode: Sendable {
        /// The file must already be a Rolo database.
        case existing
        /// Create an empty Rolo database if the file is absent.
        case createIfMissing
    }

    /// Opens (and if allowed, creates) the database at `path`, migrating it to this build's schema.
    public static func open(path: String, mode: OpenMode = .existing) throws -> CRMStore {
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
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration())
            let store = CRMStore(path: path, dbQueue: queue)
            try Migrations.migrator.migrate(queue)
            if verdict != .rolo(schemaVersion: CRMSchema.version) {
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
        let queue = try DatabaseQueue(configuration: configuration())
        try Migrations.migrator.migrate(queue)
        return CRMStore(path: ":memory:", dbQueue: queue)
    }

    /// How long an open or a write waits for another program's write lock.
    static let busyTimeoutSeconds = 5

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(TimeInterval(busyTimeoutSeconds))
        config.label = "rolo"
        // `begin` … `commit` and scripts keep one transaction open across statements.
        config.allowsUnsafeTransactions = true
        config.prepareDatabase { db in
            // WAL needs a file; in-memory databases keep their default journal.
            if !db.configuration.readonly, (try? String.fetchOne(db, sql: "PRAGMA journal_mode")) != "memory" {
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            // Case-insensitive LIKE is SQLite's default; `contains` relies on it.
            try db.execute(sql: "PRAGMA case_sensitive_like = OFF")
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
                    try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                    try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
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
        try dbQueue.writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
        }
    }
}
