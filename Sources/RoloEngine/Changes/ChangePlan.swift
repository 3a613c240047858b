import GRDB
import RoloStore
import RoloSyntax

/// What a change did — or, in a dry-run, would do — as the change path recorded it once: its
/// field-history rows (old → new per field; a created or deleted record one row with all its
/// fields). Per record: the entity, the number, whether it was created, updated or deleted, and
/// each field's old and new value; records of other entities the change reached (links cleared by
/// a delete, records re-pointed by a merge) are records of their own.
///
/// It is a view of the history of one statement (rows above `floor` in its change set, so a
/// script's earlier statements are not in it), read a record at a time, so a million-row change
/// costs nothing until asked. The per-record diff a change prints reads it; plan files and merge
/// plans are to read it too. Dry-run is the same path rolled back: its plan is read before the
/// rollback.
struct ChangePlan {
    struct FieldChange {
        let field: String
        let old: DatabaseValue
        let new: DatabaseValue
    }

    struct Record {
        let entity: EntityDefinition
        let id: Int64
        /// A record changed and then deleted in one change set (an undo, a script) is deleted.
        let op: HistoryOp
        /// In the order written; a creation's or deletion's fields one by one.
        let fields: [FieldChange]
    }

    let db: Database
    let changeSetID: Int64
    /// History rows of this statement have ids above this.
    let floor: Int64

    /// This statement's history rows: `columns` (or `1`) of field_history.
    func history(_ columns: [String]) -> Select {
        Select(columns.isEmpty ? [Sql.true] : Select.columns(columns), from: "field_history")
            .where(Sql.equals(Sql.name("change_set_id"), Sql.value(changeSetID)))
            .where(Sql.compare(Sql.name("id"), .greater, Sql.value(floor)))
    }

    /// The first `limit` records touched, in the order they were changed — those of `primary`
    /// (the command's own entity) first — read from the head of the history (an index range
    /// scan, not a grouping of all of it); whether more follow; and how many records of other
    /// entities it reached.
    func firstRecords(limit: Int, primary: String?) throws -> (keys: [(entity: String, id: Int64)], hasMore: Bool, others: Int) {
        var keys: [(entity: String, id: Int64)] = []
        var seen = Set<String>()
        var hasMore = false
        for pass in primary == nil ? [nil] : [true, false] as [Bool?] {
            var query = history(["entity", "record_id"])
            if let pass, let primary {
                query = query.where(Sql.compare(Sql.name("entity"), pass ? .equal : .notEqual, Sql.value(primary)))
            }
            let cursor = try Row.fetchCursor(db, query.ordered(by: Sql.name("id")).sql)
            while let row = try cursor.next() {
                let entity: String = try row.decode(atIndex: 0)
                let id: Int64 = try row.decode(atIndex: 1)
                guard seen.insert("\(entity):\(id)").inserted else { continue }
                if keys.count == limit {
                    hasMore = true
                    break
                }
                keys.append((entity, id))
            }
            if hasMore { break }
        }
        var others = 0
        if let primary {
            let elsewhere = Sql.compare(Sql.name("entity"), .notEqual, Sql.value(primary))
            if try Bool.fetchOne(db, history([]).where(elsewhere).limited(1).sql) == true {
                others = try Int.fetchOne(db, history(["entity", "record_id"]).where(elsewhere).distinctRows().counted) ?? 0
            }
        }
        return (keys, hasMore, others)
    }

    /// Every record touched, in the order first changed, one at a time.
    func eachRecord(_ body: (Record) throws -> Void) throws {
        var keys = history(["entity", "record_id"]).grouped(by: Select.columns(["entity", "record_id"]))
        keys.columns.append(Sql.named(Sql.aggregate(.min, Sql.name("id")), "first"))
        let cursor = try Row.fetchCursor(db, keys.ordered(by: Sql.name("first")).sql)
        while let row = try cursor.next() {
            if let record = try record(try row.decode(String.self, atIndex: 0), try row.decode(Int64.self, atIndex: 1)) { try body(record) }
        }
    }

    /// One record's changes in this statement; nil for an entity Rolo does not know.
    func record(_ entityName: String, _ id: Int64) throws -> Record? {
        guard let entity = CRMSchema.entity(named: entityName) else { return nil }
        let rows = HistoryRows()
        let changes = try Row.fetchAll(
            db,
            rows.select([
                rows.column("op"), Sql.named(rows.field, "field"), Sql.named(rows.oldValue, "old_value"),
                Sql.named(rows.newValue, "new_value"),
            ])
            // Found by the record's index: the change set's (the planner's pick) made each record
            // a scan of the whole change set (12 records of a million-record change took 3.9 s).
            .where(Sql.equals(Sql.unindexed(rows.column("change_set_id")), Sql.value(changeSetID)))
            .where(Sql.compare(Sql.unindexed(Sql.id(rows.alias)), .greater, Sql.value(floor)))
            .where(Sql.equals(rows.column("entity"), Sql.value(entityName))).where(Sql.equals(rows.column("record_id"), Sql.value(id)))
            .ordered(by: rows.order).sql)
        let ops = try changes.map { try $0.decode(HistoryOp.self, forColumn: "op") }
        let op: HistoryOp = ops.contains(.delete) ? .delete : ops.first ?? .update
        let fields = try changes.map { row in
            FieldChange(
                field: try row.decode(forColumn: "field"), old: try row.decode(DatabaseValue.self, forColumn: "old_value"),
                new: try row.decode(DatabaseValue.self, forColumn: "new_value"))
        }
        return Record(entity: entity, id: id, op: op, fields: fields)
    }
}
