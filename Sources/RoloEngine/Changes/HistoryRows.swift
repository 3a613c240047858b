import RoloStore

/// field_history as every reader sees it.
///
/// A creation or a deletion is stored as one row per record: `field` is `*`, and the new value
/// of a creation, or the old value of a deletion, holds the record's fields as one JSON object,
/// in the order they were written (`ChangeRecorder.recordSnapshot`). One row instead of one per
/// field: a million imported contacts of eight columns write a million history rows, not nine
/// million (docs/performance.md, import). Readers spread such a row back into one row per
/// non-empty field here, so `history`, diffs and undo see creations and deletions as they see
/// updates; per-field rows written before this format read unchanged.
struct HistoryRows {
    /// The `field` of a whole-record row: every field of the record.
    static let wholeRecord = "*"

    let alias: String
    private let entries: SQLJSONEntries

    init(alias: String = "h") {
        self.alias = alias
        let isWhole = Sql.equals(Sql.column(alias, "field"), Sql.value(Self.wholeRecord))
        let document = Sql.coalesce([Sql.column(alias, "new_value"), Sql.column(alias, "old_value")])
        entries = Sql.jsonEntries(of: Sql.when([(isWhole, document)], else: Sql.null), as: alias + "_f")
    }

    /// A stored column of the row (`op`, `change_set_id`…).
    func column(_ name: String) -> SQLFragment { Sql.column(alias, name) }

    /// The field a row is about: a whole-record row's entry's key, otherwise the stored field.
    var field: SQLFragment { Sql.coalesce([entries.key, column("field")]) }

    /// The old value: a deletion's entry's value, otherwise the stored one (NULL for a creation).
    var oldValue: SQLFragment { value(ofWhole: .delete, stored: "old_value") }

    /// The new value: a creation's entry's value, otherwise the stored one (NULL for a deletion).
    var newValue: SQLFragment { value(ofWhole: .create, stored: "new_value") }

    private func value(ofWhole op: HistoryOp, stored: String) -> SQLFragment {
        Sql.when(
            [
                (Sql.isNull(entries.key), column(stored)),
                (Sql.equals(column("op"), Sql.value(op.rawValue)), entries.value),
            ], else: Sql.null)
    }

    /// The order rows were written in: by row, then by field within a whole-record row.
    var order: [SQLFragment] { [Sql.id(alias), entries.order] }

    /// Who made a change, from the users joined as `user` and `impersonator` (the change set's
    /// `user_id` and `impersonator_id`): `ivan`, or `admin as ivan` when an admin acted as ivan.
    static func who(user: String, impersonator: String) -> SQLFragment {
        Sql.when(
            [
                (
                    Sql.isNotNull(Sql.column(impersonator, "handle")),
                    Sql.join([Sql.column(impersonator, "handle"), Sql.value(" as "), Sql.column(user, "handle")])
                )
            ], else: Sql.column(user, "handle"))
    }

    /// Change sets (alias `changeSet`) a user made: as themselves, as someone else (an admin's
    /// `as`), or that an admin made as them.
    static func madeBy(_ user: Int64, changeSet: String) -> SQLFragment {
        Sql.any([
            Sql.equals(Sql.column(changeSet, "user_id"), Sql.value(user)), Sql.equals(Sql.column(changeSet, "impersonator_id"), Sql.value(user)),
        ])
    }

    /// `SELECT columns FROM field_history AS alias` with whole-record rows spread into their
    /// fields (empty fields left out, as they were never written per field); refer to the
    /// spread columns through `field`, `oldValue` and `newValue`.
    func select(_ columns: [SQLFragment]) -> Select {
        Select(columns, from: "field_history", as: alias).joining(entries.join).where(Sql.group(Sql.notTrue(entries.isNull)))
    }
}
