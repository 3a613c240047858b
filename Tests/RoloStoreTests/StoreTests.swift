import Foundation
import GRDB
import Testing

@testable import RoloStore

@Suite("Opening databases")
struct StoreOpeningTests {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "rolo-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func createsAndReopensARoloDatabase() throws {
        let path = try folder() + "/crm.db"
        _ = try CRMStore.open(path: path, mode: .createIfMissing)
        let store = try CRMStore.open(path: path)
        let roles = try store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM roles") }
        #expect(roles == 9)
        let journal = try store.dbQueue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        let foreignKeys = try store.dbQueue.read { try Int.fetchOne($0, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == 1)
    }

    @Test func missingFolderIsRefused() {
        #expect(throws: StoreError.folderMissing(path: "/no/such/folder/crm.db", folder: "/no/such/folder")) {
            try CRMStore.open(path: "/no/such/folder/crm.db", mode: .createIfMissing)
        }
    }

    @Test func missingFileIsRefusedWithoutCreate() throws {
        let path = try folder() + "/absent.db"
        #expect(throws: StoreError.fileMissing(path: path)) { try CRMStore.open(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func foreignFilesAreLeftUntouched() throws {
        let base = try folder()
        let text = base + "/notes.txt"
        try Data("hello, not a database".utf8).write(to: URL(fileURLWithPath: text))
        let other = base + "/other.db"
        let queue = try DatabaseQueue(path: other)
        try queue.write { try $0.execute(sql: "CREATE TABLE t(x); INSERT INTO t VALUES (1)") }
        try queue.close()
        for path in [text, other] {
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(throws: StoreError.self) { try CRMStore.open(path: path, mode: .createIfMissing) }
            let after = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(before == after)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test func newerSchemaIsRefused() throws {
        let path = try folder() + "/future.db"
        let store = try CRMStore.open(path: path, mode: .createIfMissing)
        try store.dbQueue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 99") }
        try store.checkpoint()
        try store.dbQueue.close()
        #expect(throws: StoreError.newerSchema(path: path, found: 99, supported: CRMSchema.version)) {
            try CRMStore.open(path: path)
        }
    }

    @Test func schemaHasConstraintsAndIndexes() throws {
        let store = try CRMStore.inMemory()
        try store.dbQueue.read { db in
            let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contacts'")
            #expect(indexes.contains("idx_contacts_email"))
            #expect(indexes.contains("idx_contacts_owner_id"))
        }
        #expect(throws: DatabaseError.self) {
            try store.dbQueue.write { db in
                try db.execute(sql: "INSERT INTO users (handle, name, created_at, updated_at) VALUES ('x', 'X', 'now', 'now')")
                try db.execute(
                    sql:
                        "INSERT INTO deals (name, amount, stage, owner_id, created_at, updated_at) VALUES ('d', 1, 'maybe', 1, 'now', 'now')"
                )
            }
        }
    }
}

@Suite("Dates")
struct CivilDateTests {
    @Test func roundTripsDays() {
        for days in stride(from: -800_000, to: 800_000, by: 997) {
            #expect(CivilDate(daysSinceEpoch: days).daysSinceEpoch == days)
        }
        #expect(CivilDate("2024-02-29")?.adding(months: 12).description == "2025-02-28")
        #expect(CivilDate("2026-02-30") == nil)
        #expect(CivilDate(year: 2026, month: 11, day: 23).weekday == 0)
        #expect(Timestamp("2026-11-22T10:00:00Z")?.description == "2026-11-22T10:00:00Z")
    }
}
