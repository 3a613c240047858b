import GRDB

/// Statements about whole databases: a sandbox's checkpoints are copies taken with `VACUUM INTO`
/// (SQLite's consistent copy of a live database, never a file copy), read back by attaching them
/// under a schema name of their own and copying their tables over the main database's.
///
/// Paths are bound; table and schema names come from `sqlite_master` or from Rolo, and are quoted.
public enum SnapshotSQL {
    /// The schema name a checkpoint is attached under while it is restored.
    public static let checkpointSchema = "rolo_checkpoint_source"
    /// The table a checkpoint file holds about itself (its name, when and by whom it was taken);
    /// the sandbox has no such table, so a restore never copies it.
    public static let labelTable = "rolo_checkpoint"
    /// SQLite's table of `AUTOINCREMENT` counters, one row per table.
    public static let sequenceTable = "sqlite_sequence"

    /// A consistent copy of the main database into the file at `path`, which must not exist or be
    /// empty. Runs outside a transaction.
    public static func vacuumInto(_ path: String) -> SQLFragment { "VACUUM INTO " + Sql.value(path) }

    /// Opens the database at `path` on the same connection as `schema`. Outside a transaction.
    public static func attach(_ path: String, as schema: String) -> SQLFragment {
        "ATTACH DATABASE " + Sql.value(path) + " AS " + Sql.quote(schema)
    }

    public static func detach(_ schema: String) -> SQLFragment { SQLFragment("DETACH DATABASE " + Sql.quote(schema)) }

    /// Every table, index, view and trigger of `schema` (`main` or an attached name): type, name,
    /// table and definition, in a fixed order.
    public static func schemaObjects(in schema: String = "main") -> SQLFragment {
        SQLFragment("SELECT type, name, tbl_name, sql FROM " + Sql.quote(schema) + ".sqlite_master ORDER BY type, name")
    }

    /// The names of the tables of `schema`, SQLite's own (`sqlite_sequence`, `sqlite_stat1`) included.
    public static func tables(in schema: String = "main") -> SQLFragment {
        "SELECT name FROM " + Sql.quote(schema) + ".sqlite_master WHERE type = " + Sql.value("table") + " ORDER BY name"
    }

    /// `DELETE FROM schema.table [WHERE condition]`.
    public static func deleteRows(of table: String, in schema: String = "main", where condition: SQLFragment? = nil) -> SQLFragment {
        let delete = SQLFragment("DELETE FROM " + Sql.quote(schema) + "." + Sql.quote(table))
        guard let condition else { return delete }
        return delete + " WHERE " + condition
    }

    /// Every row of `source.table` into the empty `target.table` of the same definition:
    /// `INSERT INTO … SELECT * FROM …`, which SQLite copies record by record without decoding them
    /// (its transfer optimisation) while foreign keys are off.
    public static func copyRows(
        of table: String, from source: String, into target: String = "main", where condition: SQLFragment? = nil
    ) -> SQLFragment {
        var copy = SQLFragment(
            "INSERT INTO " + Sql.quote(target) + "." + Sql.quote(table) + " SELECT * FROM " + Sql.quote(source) + "."
                + Sql.quote(table))
        if let condition { copy = copy + " WHERE " + condition }
        return copy
    }

    /// Each column of `schema.table`: its name, declared type and place in the primary key.
    public static func columns(of table: String, in schema: String = "main") -> SQLFragment {
        "SELECT name, type, pk FROM pragma_table_info(" + Sql.value(table) + ", " + Sql.value(schema) + ")"
    }

    /// Whether a column's declared type (as `columns(of:)` reads it) gives its values one storage
    /// type: any but none and `BLOB`, whose values keep each their own.
    public static func hasTypeAffinity(_ declaredType: String) -> Bool {
        !declaredType.isEmpty && declaredType.uppercased() != "BLOB"
    }

    /// Whether a column's declared type is `INTEGER`, which makes a lone primary key the rowid's alias.
    public static func isIntegerType(_ declaredType: String) -> Bool { declaredType.uppercased() == "INTEGER" }

    /// Whether a table's definition makes it a `WITHOUT ROWID` table.
    public static func isWithoutRowid(_ definition: String?) -> Bool {
        definition?.uppercased().replacingOccurrences(of: "\n", with: " ").contains("WITHOUT ROWID") ?? false
    }

    /// The two TEMP tables of record numbers a restore of one table works with: the rows of the
    /// database to take out, and the checkpoint's rows to put in.
    public static let restoreOut = "rolo_restore_out"
    public static let restoreIn = "rolo_restore_in"

    public static func createRowList(_ name: String) -> SQLFragment {
        SQLFragment("CREATE TEMP TABLE IF NOT EXISTS " + Sql.quote(name) + " (\"id\" INTEGER PRIMARY KEY)")
    }

    public static func emptyRowList(_ name: String) -> SQLFragment { SQLFragment("DELETE FROM temp." + Sql.quote(name)) }

    public static func dropRowList(_ name: String) -> SQLFragment { SQLFragment("DROP TABLE IF EXISTS temp." + Sql.quote(name)) }

    public static func countRowList(_ name: String) -> SQLFragment { SQLFragment("SELECT count(*) FROM temp." + Sql.quote(name)) }

    /// Into `restoreOut`: the rows of `target.table` that `source.table` lacks or holds otherwise
    /// — a value that `IS NOT` the same under the binary collation, or, in a column of no declared
    /// type (which may hold any), another storage type (1 and 1.0 compare equal).
    /// At most `limit` of them: past it the table is replaced whole, and the rest of the scan is spared.
    public static func listRowsToTakeOut(
        of table: String, columns: [(name: String, typed: Bool)], from source: String, target: String = "main", limit: Int
    ) -> SQLFragment {
        var differs = ["c.rowid IS NULL"]
        for column in columns {
            let (m, c) = ("m." + Sql.quote(column.name), "c." + Sql.quote(column.name))
            // Byte for byte: a column declared `COLLATE NOCASE` would find "Acme" and "ACME" the same.
            differs.append(m + " IS NOT " + c + " COLLATE BINARY")
            if !column.typed { differs.append("typeof(" + m + ") <> typeof(" + c + ")") }
        }
        return SQLFragment(
            "INSERT INTO temp." + Sql.quote(restoreOut) + " (\"id\") SELECT m.rowid FROM " + Sql.quote(target) + "."
                + Sql.quote(table) + " AS m LEFT JOIN " + Sql.quote(source) + "." + Sql.quote(table)
                + " AS c ON c.rowid = m.rowid WHERE " + differs.joined(separator: " OR ")) + " LIMIT " + Sql.value(limit)
    }

    /// Into `restoreIn`: the rows of `restoreOut` that `source.table` holds (taken out because they
    /// differ, to be put back as they were). Reads only the listed rows.
    public static func listChangedRowsToPutBack(of table: String, from source: String) -> SQLFragment {
        SQLFragment(
            "INSERT INTO temp." + Sql.quote(restoreIn) + " (\"id\") SELECT o.\"id\" FROM temp." + Sql.quote(restoreOut)
                + " AS o WHERE EXISTS (SELECT 1 FROM " + Sql.quote(source) + "." + Sql.quote(table) + " AS c WHERE c.rowid = o.\"id\")")
    }

    /// Into `restoreIn`: the rows of `source.table` that `target.table` lacks (a scan of the source).
    public static func listMissingRowsToPutIn(of table: String, from source: String, target: String = "main") -> SQLFragment {
        SQLFragment(
            "INSERT INTO temp." + Sql.quote(restoreIn) + " (\"id\") SELECT c.rowid FROM " + Sql.quote(source) + "." + Sql.quote(table)
                + " AS c WHERE NOT EXISTS (SELECT 1 FROM " + Sql.quote(target) + "." + Sql.quote(table) + " AS m WHERE m.rowid = c.rowid)")
    }

    /// Takes the rows listed in `restoreOut` out of `target.table`.
    public static func takeOutListedRows(of table: String, target: String = "main") -> SQLFragment {
        SQLFragment(
            "DELETE FROM " + Sql.quote(target) + "." + Sql.quote(table) + " WHERE rowid IN (SELECT \"id\" FROM temp."
                + Sql.quote(restoreOut) + ")")
    }

    /// Copies the rows listed in `restoreIn` from `source.table` into `target.table`, with their
    /// record numbers: `columns` are the table's, and `rowid` is written too unless one of them
    /// is its alias (an `INTEGER PRIMARY KEY`).
    public static func putInListedRows(
        of table: String, columns: [String], rowidIsAColumn: Bool, from source: String, target: String = "main"
    ) -> SQLFragment {
        let names = (rowidIsAColumn ? [] : ["rowid"]) + columns.map { Sql.quote($0) }
        let list = names.joined(separator: ", ")
        return SQLFragment(
            "INSERT INTO " + Sql.quote(target) + "." + Sql.quote(table) + " (" + list + ") SELECT " + list + " FROM "
                + Sql.quote(source) + "." + Sql.quote(table) + " WHERE rowid IN (SELECT \"id\" FROM temp." + Sql.quote(restoreIn)
                + ") ORDER BY rowid")
    }

    /// How many rows `schema.table` holds.
    public static func countRows(of table: String, in schema: String = "main") -> SQLFragment {
        SQLFragment("SELECT count(*) FROM " + Sql.quote(schema) + "." + Sql.quote(table))
    }

    /// A checkpoint keeps the rollback journal (no `-wal` or `-shm` beside it), so it can be
    /// read with nothing written next to it.
    public static var rollbackJournal: SQLFragment { Sql.set("journal_mode", "DELETE") }

    /// The label table of a checkpoint file, made in the copy before it takes its name.
    public static let createLabel = SQLFragment(
        "CREATE TABLE " + Sql.quote(labelTable) + " (\"name\" TEXT NOT NULL, \"taken_at\" TEXT NOT NULL, \"taken_by\" TEXT NOT NULL)")
}
