import GRDB

/// Turns the declared schema into SQLite DDL.
///
/// The one place that spells out CREATE TABLE; a second SQL dialect would add a sibling of this.
public enum SchemaSQL {
    /// `CREATE TABLE` for one entity, with CHECKs for enums and booleans and foreign keys.
    public static func createTable(_ entity: EntityDefinition) -> String {
        var lines: [String] = []
        let compositeKey = entity.tableConstraints.contains { $0.hasPrefix("PRIMARY KEY") }
        for field in entity.storedFields {
            var column = "\(quote(field.name)) "
            if field.name == "id" && !compositeKey {
                column += "INTEGER PRIMARY KEY"
                lines.append(column)
                continue
            }
            // field_history keeps values with their own storage type: no affinity.
            if entity.name == "field_history" && (field.name == "old_value" || field.name == "new_value") {
                lines.append(quote(field.name))
                continue
            }
            column += field.type.sqlType
            if field.required { column += " NOT NULL" }
            if field.unique { column += " UNIQUE COLLATE NOCASE" }
            if let value = field.sqlDefault { column += " DEFAULT \(value)" }
            switch field.type {
            case .enumeration(let values):
                column += " " + enumCheck(field.name, values)
            case .boolean:
                column += " CHECK (\(quote(field.name)) IN (0, 1))"
            case .money:
                column += " CHECK (typeof(\(quote(field.name))) IN ('integer', 'null'))"
            case .reference(let target):
                let onDelete = field.required ? "RESTRICT" : "SET NULL"
                column += " REFERENCES \(quote(target))(id) ON DELETE \(onDelete)"
            default:
                break
            }
            lines.append(column)
        }
        lines.append(contentsOf: entity.tableConstraints)
        return "CREATE TABLE \(quote(entity.name)) (\n  " + lines.joined(separator: ",\n  ") + "\n)"
    }

    /// The CHECK that keeps an enum column to its values: `"stage" = 'lead' OR "stage" = 'won' …`.
    ///
    /// Not `IN ('lead', 'won', …)`: SQLite evaluates an IN list of more than two constants in a
    /// CHECK by building a temporary b-tree of the list every time a row is written — measured
    /// at about 4 µs of every audit entry's insert (docs/performance.md). A NULL still passes.
    public static func enumCheck(_ column: String, _ values: [String]) -> String {
        let name = quote(column)
        return "CHECK (" + values.map { "\(name) = '\($0)'" }.joined(separator: " OR ") + ")"
    }

    /// The enum CHECK as schema version 1 wrote it, which the v2 migration replaces.
    static func enumCheckV1(_ column: String, _ values: [String]) -> String {
        "CHECK (\(quote(column)) IN (" + values.map { "'\($0)'" }.joined(separator: ", ") + "))"
    }

    /// `a IS NOT NULL OR b IS NOT NULL`: at least one of two references is set.
    public static func eitherSet(_ a: String, _ b: String) -> String { "\(a) IS NOT NULL OR \(b) IS NOT NULL" }

    /// The column type a field's values are stored with.
    public static func columnType(_ type: FieldType) -> String {
        switch type {
        case .integer, .money, .boolean, .reference, .duration: return "INTEGER"
        case .text, .email, .date, .timestamp, .enumeration: return "TEXT"
        }
    }

    /// A column's DEFAULT, a number (`0`) or a text (an enum's value, `'new'`), as DDL writes it.
    public static func defaultValue(_ number: Int) -> String { String(number) }
    public static func defaultValue(_ text: String) -> String { "'" + text + "'" }

    /// A table CHECK constraint.
    public static func check(_ condition: String) -> String { "CHECK (\(condition))" }

    /// A table UNIQUE constraint over columns.
    public static func unique(_ columns: [String]) -> String { "UNIQUE (" + columns.joined(separator: ", ") + ")" }

    /// Titles declared in the schema (`EntityDefinition.titleSQL`, `$.` standing for the alias).
    public enum Title {
        /// `first_name last_name`, without a leading space when there is no first name.
        public static let fullName = "trim(coalesce($.first_name, '') || ' ' || $.last_name)"
        /// A role's rule: `sales_rep: allow read deals`.
        public static let rule =
            "(SELECT r.name FROM roles r WHERE r.id = $.role_id) || ': ' || $.effect || ' ' || $.action || ' ' || $.entity"
        /// A grant: `sales_rep for bob`.
        public static let grant =
            "(SELECT r.name FROM roles r WHERE r.id = $.role_id) || ' for ' || (SELECT u.handle FROM users u WHERE u.id = $.user_id)"
        /// One column's value: a team's `name`, a ticket's `subject`.
        public static func column(_ name: String) -> String { "$." + name }
        /// A record known only by number: `member 12`.
        public static func numbered(_ word: String) -> String { "'\(word) ' || $.id" }
    }

    /// The CREATE TABLE text the database keeps for a table.
    static func storedDefinition(of table: String) -> SQLFragment {
        Select(Sql.name("sql"), from: "sqlite_master").where(Sql.equals(Sql.name("type"), Sql.value("table")))
            .where(Sql.equals(Sql.name("name"), Sql.value(table))).sql
    }

    /// Replaces tables' stored CREATE TABLE text in place, the procedure SQLite documents for
    /// constraint-only changes (https://sqlite.org/lang_altertable.html, "writable_schema"); then
    /// checks every table still reads.
    static func rewriteStoredDefinitions(_ db: Database, _ tables: [(table: String, sql: String)]) throws {
        let schemaVersion = try Int.fetchOne(db, Sql.setting("schema_version")) ?? 0
        try db.execute(Sql.set("writable_schema", "ON"))
        defer { try? db.execute(Sql.set("writable_schema", "OFF")) }
        for (table, sql) in tables {
            try db.execute(
                Update("sqlite_master", set: [("sql", Sql.value(sql))]).where(Sql.equals(Sql.name("type"), Sql.value("table")))
                    .where(Sql.equals(Sql.name("name"), Sql.value(table))).sql)
        }
        // A new schema cookie makes every connection, this one included, re-read the schema.
        try db.execute(Sql.set("schema_version", schemaVersion + 1))
        // The new text must parse and every table must still be readable.
        for (table, _) in tables {
            _ = try Row.fetchOne(db, Select(Sql.all, from: table).limited(Sql.literal(1)).sql)
        }
    }

    /// A temporary table of the connection, its columns without types (values keep the types they
    /// are bound with) after an integer key `key`: a staging table for set-based work (import).
    public static func createTemporaryTable(_ table: String, key: String, columns: [String]) -> SQLFragment {
        SQLFragment(
            "CREATE TEMP TABLE " + quote(table) + " ("
                + ([quote(key) + " INTEGER PRIMARY KEY"] + columns.map(quote)).joined(separator: ", ")
                + ")")
    }

    /// Drops a temporary table if it is there.
    public static func dropTemporaryTable(_ table: String) -> SQLFragment {
        SQLFragment("DROP TABLE IF EXISTS temp." + quote(table))
    }

    /// An index on a temporary table's column, case-insensitive for text when `noCase`.
    public static func createTemporaryIndex(_ table: String, column: String, noCase: Bool) -> SQLFragment {
        SQLFragment(
            "CREATE INDEX temp." + quote("idx_\(table)_\(column)") + " ON " + quote(table) + "(" + quote(column)
                + (noCase ? " COLLATE NOCASE" : "") + ")")
    }

    /// Drops an index if it is there (the generator builds indexes after loading).
    public static func dropIndex(_ name: String) -> String { "DROP INDEX IF EXISTS " + quote(name) }

    /// The name of an index, derived from its table and columns.
    public static func indexName(_ entity: EntityDefinition, _ index: IndexDefinition) -> String {
        "idx_\(entity.name)_" + index.columns.joined(separator: "_")
    }

    /// `CREATE INDEX` statements for one entity.
    public static func createIndexes(_ entity: EntityDefinition) -> [String] {
        entity.indexes.map { index in
            let name = indexName(entity, index)
            let columns = index.columns.map { quote($0) + (index.collateNoCase ? " COLLATE NOCASE" : "") }
            let unique = index.unique ? "UNIQUE " : ""
            let partial = index.sparse ? " WHERE " + index.columns.map { quote($0) + " IS NOT NULL" }.joined(separator: " AND ") : ""
            return "CREATE \(unique)INDEX \(quote(name)) ON \(quote(entity.name))(\(columns.joined(separator: ", ")))" + partial
        }
    }

    /// Quotes an identifier (`Sql.dialect`).
    public static func quote(_ identifier: String) -> String { Sql.quote(identifier) }
}
