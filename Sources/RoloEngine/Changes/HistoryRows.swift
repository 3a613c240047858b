import RoloStore

/// field_history as every reader sees it.
///
/// A creation is stored as one row per new record: `field` is `*` and `new_value` holds the
/// record's fields as one JSON object, in the order they were written (`ChangeRecorder.recordCreation`).
/// One row instead of one per field: a million imported contacts of eight columns write a
/// million history rows, not nine million (docs/performance.md, import). Readers spread such a row back into one row per non-empty field here,
/// so `history`, diffs and undo see creations as they see updates and deletes; a per-field
/// creation row written before this format reads unchanged.
struct HistoryRows {
    /// The `field` of a creation row: every field of the new record.
    static let wholeRecord = "*"

    let alias: String
    private let entries: SQLJSONEntries

    init(alias: String = "h") {
        self.alias = alias
        let isWhole = Sql.equals(Sql.column(alias, "field"), Sql.value(Self.wholeRecord))
        entries = Sql.jsonEntries(of: Sql.when([(isWhole, Sql.column(alias, "new_value"))], else: Sql.null), as: alias + "_f")
    }

    /// A stored column of the row (`op`, `old_value`, `change_set_id`…).
    func column(_ name: String) -> SQLFragment { Sql.column(alias, name) }

    /// The field a row is about: a creation row's entry's key, otherwise the stored field.
    var field: SQLFragment { Sql.coalesce([entries.key, column("field")]) }

    /// The new value: a creation row's entry's value, otherwise the stored one.
    var newValue: SQLFragment { Sql.when([(Sql.isNull(entries.key), column("new_value"))], else: entries.value) }

    /// The order rows were written in: by row, then by field within a creation.
    var order: [SQLFragment] { [Sql.id(alias), entries.order] }

    /// `SELECT columns FROM field_history AS alias` with creation rows spread into their fields
    /// (empty fields left out, as they were never written per field); refer to the expanded
    /// columns through `field` and `newValue`.
    func select(_ columns: [SQLFragment]) -> Select {
        Select(columns, from: "field_history", as: alias).joining(entries.join).where(Sql.group(Sql.notTrue(entries.isNull)))
    }
}
