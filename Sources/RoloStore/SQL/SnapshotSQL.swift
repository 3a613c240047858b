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
