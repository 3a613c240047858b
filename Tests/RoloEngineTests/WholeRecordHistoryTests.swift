import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// A creation or a deletion is stored as one history row per record (`field` `*`, the fields as
/// one JSON object) and read back as one row per field: `history`, hidden fields, undo and its
/// conflicts must see it as they saw the per-field rows.
@Suite("Whole-record history")
struct WholeRecordHistoryTests {
    /// A contact's row as stored, or nil.
    static func contact(_ engine: Engine, _ id: Int64) throws -> Row? {
        try engine.store.dbQueue.inDatabase { try Row.fetchOne($0, sql: "SELECT * FROM contacts WHERE id = ?", arguments: [id]) }
    }

    /// `undo` succeeds and the contact is again as it was.
    static func expectUndoRestores(
        _ engine: Engine, _ id: Int64, _ before: Row?, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        let undo = run(engine, "undo")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")", sourceLocation: sourceLocation)
        #expect(try contact(engine, id) == before, sourceLocation: sourceLocation)
    }

    /// A change set written by hand as earlier versions wrote one (its history added by the caller).
    static func legacyChangeSet(_ db: Database, command: String) throws -> (change: Int64, admin: Int64) {
        let admin = try #require(try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE handle = 'admin'"))
        try db.execute(
            sql: "INSERT INTO change_sets (user_id, command, records, created_at) VALUES (?, ?, 1, '2026-11-22T10:00:00Z')",
            arguments: [admin, command])
        return (db.lastInsertedRowID, admin)
    }

    static func created(_ engine: Engine, _ command: String) throws -> Int64 {
        let result = run(engine, command)
        try #require(result.error == nil, "\(command): \(result.error?.message ?? "")")
        return try #require(try engine.store.dbQueue.inDatabase { try Int64.fetchOne($0, sql: "SELECT max(id) FROM contacts") })
    }

    /// The fields `history` lists for a record's creation are exactly its non-empty columns, by
    /// an SQL query over the contacts table; and the creation is one stored row, not one per field.
    @Test func historyListsEveryNonEmptyFieldOfACreatedRecord() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        let path = folder + "/new.csv"
        try "first_name,last_name,email,title,city\nAna,Ruiz,ana@x.io,,Lyon\nBen,Lee,,CTO,\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let result = run(engine, "import contacts from \"\(path)\" --quiet")
        try #require(result.error == nil, "\(result.error?.message ?? "")")
        let changeSet = try #require(
            try engine.store.dbQueue.inDatabase { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") })
        let stored = try engine.store.dbQueue.inDatabase {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM field_history WHERE change_set_id = ?", arguments: [changeSet])
        }
        #expect(stored == 2)
        let ids = try engine.store.dbQueue.inDatabase {
            try Int64.fetchAll($0, sql: "SELECT record_id FROM field_history WHERE change_set_id = ? ORDER BY id", arguments: [changeSet])
        }
        for id in ids {
            let nonEmpty: Set<String> = try engine.store.dbQueue.inDatabase { db in
                let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM contacts WHERE id = ?", arguments: [id]))
                return Set(row.filter { name, value in name != "id" && !value.isNull }.map(\.0))
            }
            let history = run(engine, "history contact \(id) --format csv")
            try #require(history.error == nil)
            let lines = history.output.split(separator: "\n").dropFirst()
            let fields = Set(lines.map { String($0.split(separator: ",", omittingEmptySubsequences: false)[4]) })
            #expect(fields == nonEmpty, "contact \(id)")
            #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[3] == "create" })
        }
    }

    /// A field the reader may not see stays out of a creation's history, as it does of an update's.
    @Test func aCreationsHistoryHidesFieldsTheReaderMayNotRead() throws {
        let path = try SampleDatabase.freshCopy()
        let store = try CRMStore.open(path: path)
        let admin = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        let id = try Self.created(
            admin, "create contact first_name=\"Zed\" last_name=\"Quist\" email=\"zed.quist@hidden.example\" phone=\"+1 555 0199\"")
        let quinn = try Engine(store: store, clock: SampleDatabase.clock, user: "quinn")
        let history = run(quinn, "history contact \(id)")
        try #require(history.error == nil, "\(history.error?.message ?? "")")
        #expect(history.output.contains("Quist"))
        #expect(!history.output.contains("zed.quist@hidden.example"))
        #expect(!history.output.contains("555 0199"))
        #expect(history.output.contains("(changes to email, phone hidden)"))
    }

    /// Undo deletes a record it created, so any later change to that record is a conflict, even
    /// to a field the creation left empty (before, only fields the creation wrote counted, and
    /// undo deleted the record with the later change in it).
    @Test func undoingACreationConflictsWithAnyLaterChangeToTheRecord() throws {
        let engine = try SampleDatabase.engine()
        let id = try Self.created(engine, "create contact first_name=\"Una\" last_name=\"Doe\"")
        let creation = try #require(
            try engine.store.dbQueue.inDatabase { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") })
        let update = run(engine, "update contact \(id) set title = \"CFO\"")
        try #require(update.error == nil, "\(update.error?.message ?? "")")
        let undo = run(engine, "undo change \(creation)")
        #expect(undo.error?.code == .undoConflict)
        #expect(undo.error?.message.contains("contact \(id) title was changed again in change \(creation + 1)") == true)
        #expect(
            try engine.store.dbQueue.inDatabase { try Int.fetchOne($0, sql: "SELECT count(*) FROM contacts WHERE id = ?", arguments: [id]) }
                == 1)
        let forced = run(engine, "undo change \(creation) --force")
        #expect(forced.error == nil, "\(forced.error?.message ?? "")")
        #expect(
            try engine.store.dbQueue.inDatabase { try Int.fetchOne($0, sql: "SELECT count(*) FROM contacts WHERE id = ?", arguments: [id]) }
                == 0)
    }

    /// A deleted record's number given to a new record: undoing the delete would need that number
    /// back, so it conflicts (named as such) instead of failing on the unique number.
    @Test func undoingADeleteWhoseNumberWasReusedConflicts() throws {
        let engine = try SampleDatabase.engine()
        let id = try Self.created(engine, "create contact first_name=\"Old\" last_name=\"One\"")
        #expect(run(engine, "delete contact \(id) --yes").error == nil)
        let deletion = try #require(
            try engine.store.dbQueue.inDatabase { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") })
        let reused = try Self.created(engine, "create contact first_name=\"New\" last_name=\"Two\"")
        try #require(reused == id, "SQLite gives the highest number again once it is free")
        let undo = run(engine, "undo change \(deletion)")
        #expect(undo.error?.code == .undoConflict)
        #expect(
            undo.error?.message
                == "cannot undo change \(deletion): contact \(id)'s number was given to a new record in change \(deletion + 1) by admin")
        let lastName = {
            try engine.store.dbQueue.inDatabase {
                try String.fetchOne($0, sql: "SELECT last_name FROM contacts WHERE id = ?", arguments: [id])
            }
        }
        #expect(try lastName() == "Two")
        // --force overwrites later values, never a later record: still refused, in words.
        let forced = run(engine, "undo change \(deletion) --force")
        #expect(forced.error?.code == .undoConflict)
        #expect(forced.error?.message.contains("contact \(id)'s number now belongs to a record a later change created") == true)
        #expect(try lastName() == "Two")
    }

    /// A deleted record's history lists each non-empty field with the value it had (read by SQL
    /// before the delete), hides what the reader may not read, and undo brings every column back.
    @Test func aDeletionsHistoryHoldsEveryFieldAndUndoRestoresThem() throws {
        let path = try SampleDatabase.freshCopy()
        let store = try CRMStore.open(path: path)
        let admin = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        let id = try #require(
            try store.dbQueue.inDatabase {
                try Int64.fetchOne(
                    $0, sql: "SELECT id FROM contacts WHERE email IS NOT NULL AND phone IS NOT NULL AND title IS NOT NULL ORDER BY id DESC")
            })
        let before = try #require(
            try store.dbQueue.inDatabase { try Row.fetchOne($0, sql: "SELECT * FROM contacts WHERE id = ?", arguments: [id]) })
        let deleted = run(admin, "delete contact \(id) --yes")
        try #require(deleted.error == nil, "\(deleted.error?.message ?? "")")
        let change = try #require(try store.dbQueue.inDatabase { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") })
        #expect(
            try store.dbQueue.inDatabase {
                try Int.fetchOne(
                    $0, sql: "SELECT count(*) FROM field_history WHERE change_set_id = ? AND entity = 'contacts'", arguments: [change])
            } == 1)
        let history = run(admin, "history contact \(id) --format csv")
        try #require(history.error == nil, "\(history.error?.message ?? "")")
        var shown: [String: String] = [:]
        for line in history.output.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if cells[3] == "delete" { shown[cells[4]] = cells[5] }
        }
        let expected = Dictionary(
            uniqueKeysWithValues: before.filter { !$0.1.isNull }.map { name, value in
                (name, String(describing: value).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            })
        #expect(Set(shown.keys) == Set(expected.keys))
        #expect(shown["email"] == expected["email"] && shown["last_name"] == expected["last_name"])
        let quinn = try Engine(store: store, clock: SampleDatabase.clock, user: "quinn")
        let hidden = run(quinn, "history contact \(id)")
        try #require(hidden.error == nil, "\(hidden.error?.message ?? "")")
        #expect(!hidden.output.contains(expected["email"] ?? "?"))
        #expect(hidden.output.contains(expected["last_name"] ?? "?"))
        #expect(hidden.output.contains("(changes to email, phone hidden)"))
        let undo = run(admin, "undo")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")")
        let after = try store.dbQueue.inDatabase { try Row.fetchOne($0, sql: "SELECT * FROM contacts WHERE id = ?", arguments: [id]) }
        #expect(after == before)
    }

    /// A number freed by a delete and reused within the same change set (`begin … commit`): undo
    /// brings the first record back as it was, and the one that took its number goes — whether
    /// the new one is kept, deleted again, or changed (its change is not the old record's).
    @Test(arguments: ["kept", "deleted again", "updated"]) func undoWhenANumberWasReusedWithinTheChangeSet(then: String) throws {
        let engine = try SampleDatabase.engine()
        let id = try Self.created(engine, "create contact first_name=\"First\" last_name=\"Holder\" title=\"CFO\"")
        let row = { () throws -> Row? in
            try Self.contact(engine, id)
        }
        let before = try row()
        var commands = ["begin", "delete contact \(id) --yes", "create contact first_name=\"Second\" last_name=\"Taker\""]
        if then == "deleted again" { commands.append("delete contact \(id) --yes") }
        if then == "updated" { commands.append("update contact \(id) set title = \"Intern\"") }
        for command in commands + ["commit"] {
            let result = run(engine, command)
            try #require(result.error == nil, "\(command): \(result.error?.message ?? "")")
        }
        #expect(try row()?["last_name"] as String? == (then == "deleted again" ? nil : "Taker"))
        let change = try #require(try engine.store.dbQueue.inDatabase { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") })
        let undo = run(engine, "undo change \(change)")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")")
        #expect(try row() == before)
        #expect(
            try engine.store.dbQueue.inDatabase { try Int.fetchOne($0, sql: "SELECT count(*) FROM contacts WHERE last_name = 'Taker'") }
                == 0)
        // The first record back, and the second gone unless the change set deleted it already.
        #expect(undo.output.hasPrefix(then == "deleted again" ? "reverted 1 record " : "reverted 2 records "), "\(undo.output)")
    }

    /// The same with history as earlier versions wrote it, one row per non-empty field: the first
    /// record had no title, the one that took its number did, and was deleted too. The title is
    /// not the first record's.
    @Test func undoOfOlderPerFieldRowsWithANumberReused() throws {
        let engine = try SampleDatabase.engine()
        let id = try #require(
            try engine.store.dbQueue.inDatabase {
                try Int64.fetchOne(
                    $0,
                    sql:
                        "SELECT id FROM contacts WHERE title IS NULL AND id NOT IN (SELECT contact_id FROM campaign_members WHERE contact_id IS NOT NULL) ORDER BY id"
                )
            })
        let before = try Self.contact(engine, id)
        try engine.store.dbQueue.inDatabase { db in
            let (change, admin) = try Self.legacyChangeSet(db, command: "a script")
            let write = { (op: String, field: String, value: DatabaseValue) in
                try db.execute(
                    sql: """
                        INSERT INTO field_history (change_set_id, entity, record_id, op, field, old_value, new_value, user_id, changed_at)
                        VALUES (?, 'contacts', ?, ?, ?, ?, ?, ?, '2026-11-22T10:00:00Z')
                        """,
                    arguments: [change, id, op, field, op == "delete" ? value : .null, op == "create" ? value : .null, admin])
            }
            for (name, value) in before! where !value.isNull { try write("delete", name, value) }
            let second: [(String, DatabaseValue)] = [
                ("id", id.databaseValue), ("last_name", "Taker".databaseValue), ("title", "Intern".databaseValue),
                ("owner_id", admin.databaseValue), ("created_at", "2026-11-22T10:00:00Z".databaseValue),
            ]
            for (name, value) in second { try write("create", name, value) }
            for (name, value) in second { try write("delete", name, value) }
            try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [id])
        }
        try Self.expectUndoRestores(engine, id, before)
    }

    /// A deletion written by an earlier version, one history row per field, comes back the same way.
    @Test func undoOfAnOlderPerFieldDeletion() throws {
        let engine = try SampleDatabase.engine()
        let id: Int64 = 42
        let before = try Self.contact(engine, id)
        try engine.store.dbQueue.inDatabase { db in
            let (change, admin) = try Self.legacyChangeSet(db, command: "delete contact 42")
            for name in CRMSchema.contacts.fields.map(\.name) {
                try db.execute(
                    sql: """
                        INSERT INTO field_history (change_set_id, entity, record_id, op, field, old_value, new_value, user_id, changed_at)
                        SELECT ?, 'contacts', id, 'delete', ?, "\(name)", NULL, ?, '2026-11-22T10:00:00Z' FROM contacts WHERE id = ? AND "\(name)" IS NOT NULL
                        """, arguments: [change, name, admin, id])
            }
            try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [id])
        }
        try Self.expectUndoRestores(engine, id, before)
    }
}
