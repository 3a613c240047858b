/// What schema version 6 changed, frozen: `field_history.old_updated_at`, the record's
/// `updated_at` before an update row's change, so undo can put it back.
/// Never edit: a later change is a new migration.
enum FrozenSchemaV6 {
    static let addColumn = #"ALTER TABLE "field_history" ADD COLUMN "old_updated_at" TEXT"#

    /// The end of the table's stored text as SQLite's ADD COLUMN leaves it, and as `SchemaSQL`
    /// writes the same table: the text is put in the second form, so an upgraded file and a new
    /// one hold the same definition.
    static let addedText = "\n, \"old_updated_at\" TEXT)"
    static let canonicalText = ",\n  \"old_updated_at\" TEXT\n)"
}
