import Foundation
import GRDB

/// Whether a database is a sandbox: `rolo_meta` key `sandbox` = `yes`, written by `rolo demo` when
/// it makes the file (and so held by every checkpoint of it, which keeps a reset sandbox a
/// sandbox). `rolo init` databases have no such row.
public enum SandboxMark {
    static let metaKey = "sandbox"
    static let yes = "yes"

    public static func isSandbox(_ db: Database) throws -> Bool {
        let query = Select(Select.columns(["value"]), from: "rolo_meta").where(Sql.equals(Sql.name("key"), Sql.value(metaKey)))
        return try String.fetchOne(db, query.sql) == yes
    }

    /// Marks the database as a sandbox (the caller holds the write lock).
    public static func mark(_ db: Database) throws {
        try db.execute(Insert(into: "rolo_meta", [("key", metaKey.databaseValue), ("value", yes.databaseValue)]).replacing().sql)
    }
}

/// What a checkpoint file says about itself: written into the copy, in a table the sandbox does
/// not have (`SnapshotSQL.labelTable`), before the copy takes its name.
public struct CheckpointLabel: Sendable, Equatable {
    public let name: String
    /// When it was taken, by the session's clock (`YYYY-MM-DDTHH:MM:SSZ`).
    public let takenAt: String
    /// The handle of the user who took it (`rolo demo` for the fresh state).
    public let takenBy: String

    public init(name: String, takenAt: String, takenBy: String) {
        self.name = name
        self.takenAt = takenAt
        self.takenBy = takenBy
    }
}

/// One row of `sqlite_master`: a table, index, view or trigger and its definition.
public struct SchemaObject: Sendable, Equatable {
    public let type: String
    public let name: String
    public let table: String
    public let sql: String?
}

/// A table's row count before and after a restore.
public struct RestoredTable: Sendable, Equatable {
    public let name: String
    public let before: Int
    public let after: Int

    public init(name: String, before: Int, after: Int) {
        self.name = name
        self.before = before
        self.after = after
    }
}

/// The files of checkpoints: labelling a fresh copy, reading one back, and restoring one's
/// tables over the open database.
public enum CheckpointFile {
    /// Labels the copy at `path` (a file `VACUUM INTO` just wrote, not yet under its name) and
    /// leaves it in rollback-journal mode, so it can be read without files beside it.
    public static func writeLabel(_ label: CheckpointLabel, path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(SnapshotSQL.rollbackJournal)
            try db.inTransaction {
                try db.execute(SnapshotSQL.createLabel)
                try db.execute(
                    Insert(
                        into: SnapshotSQL.labelTable,
                        [
                            ("name", label.name.databaseValue), ("taken_at", label.takenAt.databaseValue),
                            ("taken_by", label.takenBy.databaseValue),
                        ]
                    ).sql)
                return .commit
            }
        }
        try queue.close()
    }

    /// Opens a checkpoint for reading only; nothing is written in it or beside it.
    public static func open(path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.label = "rolo-checkpoint"
        return try DatabaseQueue(path: path, configuration: config)
    }

    /// What a checkpoint holds that decides whether it can be restored, and what restoring it means.
    public struct Contents: Sendable {
        public let label: CheckpointLabel?
        /// Its tables, indexes and their definitions, without the label table.
        public let schema: [SchemaObject]
        public let applicationID: Int32
        public let isSandbox: Bool
        public let spoolSecret: [UInt8]?
        /// Its users: number, handle and whether they are active.
        public let users: [(id: Int64, handle: String, active: Bool)]
        /// How many change sets it holds, and the highest number.
        public let changeSets: Int
        public let lastChangeSet: Int64?
    }

    /// Reads `path`'s label, schema and users (throws when it is not an SQLite database).
    public static func contents(of db: Database) throws -> Contents {
        let schema = try schemaObjects(db).filter { $0.name != SnapshotSQL.labelTable }
        let hasLabel = try schemaObjects(db).contains { $0.type == "table" && $0.name == SnapshotSQL.labelTable }
        var label: CheckpointLabel? = nil
        if hasLabel,
            let row = try Row.fetchOne(db, Select(Select.columns(["name", "taken_at", "taken_by"]), from: SnapshotSQL.labelTable).sql)
        {
            label = CheckpointLabel(
                name: try row.decode(forColumn: "name"), takenAt: try row.decode(forColumn: "taken_at"),
                takenBy: try row.decode(forColumn: "taken_by"))
        }
        let appID = try Int32.fetchOne(db, Sql.setting("application_id")) ?? 0
        let tables = Set(schema.filter { $0.type == "table" }.map(\.name))
        guard appID == CRMSchema.applicationID, tables.isSuperset(of: ["rolo_meta", "users", "change_sets"]) else {
            return Contents(
                label: label, schema: schema, applicationID: appID, isSandbox: false, spoolSecret: nil, users: [], changeSets: 0,
                lastChangeSet: nil)
        }
        var users: [(id: Int64, handle: String, active: Bool)] = []
        for row in try Row.fetchAll(db, Select(Select.columns(["id", "handle", "active"]), from: "users").ordered(by: Sql.name("id")).sql) {
            users.append((try row.decode(forColumn: "id"), try row.decode(forColumn: "handle"), try row.decode(Int.self, forColumn: "active") == 1))
        }
        let changeSets = try Row.fetchOne(db, Select(Sql.countAll, Sql.maximum(Sql.name("id")), from: "change_sets").sql)
        return Contents(
            label: label, schema: schema, applicationID: appID, isSandbox: try SandboxMark.isSandbox(db),
            spoolSecret: try AuditSpoolSecret.read(db), users: users, changeSets: try changeSets?.decode(atIndex: 0) ?? 0,
            lastChangeSet: try changeSets?.decode(atIndex: 1))
    }

    /// Every table, index, view and trigger of `schema` with its definition.
    public static func schemaObjects(_ db: Database, in schema: String = "main") throws -> [SchemaObject] {
        try Row.fetchAll(db, SnapshotSQL.schemaObjects(in: schema)).map { row in
            SchemaObject(
                type: try row.decode(forColumn: "type"), name: try row.decode(forColumn: "name"),
                table: try row.decode(forColumn: "tbl_name"), sql: try row.decode(forColumn: "sql"))
        }
    }

    /// Each table's row count, in `schema`.
    public static func rowCounts(_ db: Database, tables: [String], in schema: String = "main") throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in tables { counts[table] = try Int.fetchOne(db, SnapshotSQL.countRows(of: table, in: schema)) ?? 0 }
        return counts
    }

    /// Makes the rows of every table of the main database but `kept` those of the same table in
    /// the attached `source`, with their record numbers (rowids), types and values — SQLite's own
    /// tables included: `sqlite_sequence` keeps the rows of the kept tables, `sqlite_stat1` is
    /// restored like any table. The caller has checked the two schemas are the same, turned
    /// foreign keys off (so no `ON DELETE` action reaches a kept table) and holds the write lock.
    ///
    /// A table is compared first, row by row by rowid (a join of the two, reading only): an
    /// unchanged table is left alone, and one with a few changed rows has just those taken out and
    /// put back as the checkpoint holds them. A table whose rows to take out, or whose difference
    /// in number of rows, pass a quarter of the checkpoint's is emptied and refilled whole (`INSERT
    /// … SELECT *`, which SQLite copies record by record), as is a `WITHOUT ROWID` table; the
    /// comparison stops as soon as it knows. So a reset writes what changed since the
    /// checkpoint, not the whole database.
    /// - Returns: each table's row count before and after.
    public static func replaceTables(_ db: Database, from source: String, keeping kept: Set<String>) throws -> [RestoredTable] {
        let sourceTables = Set(try String.fetchAll(db, SnapshotSQL.tables(in: source)))
        let definitions = Dictionary(
            try schemaObjects(db).filter { $0.type == "table" }.map { ($0.name, $0.sql) }, uniquingKeysWith: { a, _ in a })
        for list in [SnapshotSQL.restoreOut, SnapshotSQL.restoreIn] { try db.execute(SnapshotSQL.createRowList(list)) }
        defer { for list in [SnapshotSQL.restoreOut, SnapshotSQL.restoreIn] { try? db.execute(SnapshotSQL.dropRowList(list)) } }
        var restored: [RestoredTable] = []
        for table in try String.fetchAll(db, SnapshotSQL.tables()) where !kept.contains(table) {
            let before = try Int.fetchOne(db, SnapshotSQL.countRows(of: table)) ?? 0
            if table == SnapshotSQL.sequenceTable || !sourceTables.contains(table) || SnapshotSQL.isWithoutRowid(definitions[table] ?? nil) {
                restored.append(try replaceWhole(db, table, from: source, present: sourceTables.contains(table), keeping: kept, before: before))
                continue
            }
            // Many rows more or fewer than the checkpoint's: replaced whole, without comparing.
            let then = try Int.fetchOne(db, SnapshotSQL.countRows(of: table, in: source)) ?? 0
            let quarter = then / 4
            if abs(before - then) > quarter {
                restored.append(try replaceWhole(db, table, from: source, present: true, keeping: kept, before: before))
                continue
            }
            let columns = try Row.fetchAll(db, SnapshotSQL.columns(of: table)).map { row in
                (name: try row.decode(String.self, forColumn: "name"), type: try row.decode(String.self, forColumn: "type"),
                 pk: try row.decode(Int.self, forColumn: "pk"))
            }
            for list in [SnapshotSQL.restoreOut, SnapshotSQL.restoreIn] { try db.execute(SnapshotSQL.emptyRowList(list)) }
            // The rows to take out, up to one more than a quarter of the checkpoint's: past that,
            // replaced whole.
            try db.execute(
                SnapshotSQL.listRowsToTakeOut(
                    of: table, columns: columns.map { (name: $0.name, typed: SnapshotSQL.hasTypeAffinity($0.type)) },
                    from: source, limit: quarter + 1))
            let out = try Int.fetchOne(db, SnapshotSQL.countRowList(SnapshotSQL.restoreOut)) ?? 0
            if out > quarter {
                restored.append(try replaceWhole(db, table, from: source, present: true, keeping: kept, before: before))
                continue
            }
            // To put in: the changed rows as the checkpoint holds them, and its rows the table lacks.
            // Every row of the table but those taken out is in the checkpoint as it is, so the
            // checkpoint holds `then - (before - out) - changed` rows more: only if there are any
            // is it scanned for them.
            try db.execute(SnapshotSQL.listChangedRowsToPutBack(of: table, from: source))
            let changed = try Int.fetchOne(db, SnapshotSQL.countRowList(SnapshotSQL.restoreIn)) ?? 0
            if then - (before - out) - changed > 0 { try db.execute(SnapshotSQL.listMissingRowsToPutIn(of: table, from: source)) }
            let into = try Int.fetchOne(db, SnapshotSQL.countRowList(SnapshotSQL.restoreIn)) ?? 0
            if out + into > 0 {
                // The rowid's alias, if the table has one: a lone INTEGER PRIMARY KEY column.
                let keys = columns.filter { $0.pk > 0 }
                let aliased = keys.count == 1 && SnapshotSQL.isIntegerType(keys[0].type)
                try db.execute(SnapshotSQL.takeOutListedRows(of: table))
                try db.execute(
                    SnapshotSQL.putInListedRows(of: table, columns: columns.map(\.name), rowidIsAColumn: aliased, from: source))
            }
            restored.append(RestoredTable(name: table, before: before, after: then))
        }
        return restored
    }

    /// Empties `table` and, if the source has it, fills it with the source's rows.
    private static func replaceWhole(
        _ db: Database, _ table: String, from source: String, present: Bool, keeping kept: Set<String>, before: Int
    ) throws -> RestoredTable {
        var condition: SQLFragment? = nil
        if table == SnapshotSQL.sequenceTable, !kept.isEmpty {
            condition = Sql.notIn(Sql.name("name"), kept.sorted().map { Sql.value($0) })
        }
        try db.execute(SnapshotSQL.deleteRows(of: table, where: condition))
        guard present else { return RestoredTable(name: table, before: before, after: 0) }
        try db.execute(SnapshotSQL.copyRows(of: table, from: source, where: condition))
        return RestoredTable(name: table, before: before, after: try Int.fetchOne(db, SnapshotSQL.countRows(of: table)) ?? 0)
    }
}
