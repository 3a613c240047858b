/// Statements Rolo sends to a PostgreSQL server outside a query's builder: managing databases
/// and logins, and asking the server about itself. Values go as bound parameters ($1, …); only
/// DDL, which PostgreSQL cannot bind, spells a name or a literal, always through `identifier`
/// and `literal`, which quote them.
public enum PostgresSQL {
    /// A name in double quotes, quotes inside doubled: any text is one identifier.
    public static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A string literal for DDL (standard_conforming_strings, on since PostgreSQL 9.1: a
    /// backslash is an ordinary character), quotes inside doubled.
    public static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    public static func createDatabase(_ name: String) -> String {
        "CREATE DATABASE \(identifier(name)) TEMPLATE template0 ENCODING 'UTF8'"
    }

    public static func dropDatabase(_ name: String) -> String {
        "DROP DATABASE IF EXISTS \(identifier(name)) WITH (FORCE)"
    }

    public static func createSchema(_ name: String) -> String { "CREATE SCHEMA IF NOT EXISTS \(identifier(name))" }

    /// A schema that must not exist yet (an error, 42P06, if it does).
    public static func createNewSchema(_ name: String) -> String { "CREATE SCHEMA \(identifier(name))" }

    public static func createLogin(_ name: String, password: String?) -> String {
        "CREATE ROLE \(identifier(name)) LOGIN" + (password.map { " PASSWORD \(literal($0))" } ?? "")
    }

    public static func dropLogin(_ name: String) -> String { "DROP ROLE IF EXISTS \(identifier(name))" }

    public static let begin = "BEGIN"
    public static let commit = "COMMIT"
    public static let rollback = "ROLLBACK"

    /// `COPY table (columns) FROM STDIN`, text format; `table` already quoted.
    public static func copyIn(_ table: String, columns: [String]) -> String {
        "COPY \(table) (" + columns.map(identifier).joined(separator: ", ") + ") FROM STDIN"
    }

    /// Moves the `id` identity of `table` (already quoted) past its largest value, so that the
    /// next record gets the next number after records copied with theirs.
    public static func moveIdentityPastLargest(_ table: String) -> String {
        "SELECT setval(pg_get_serial_sequence(\(literal(table)), 'id'), coalesce(max(\"id\"), 0) + 1, false) FROM \(table)"
    }

    /// The process serving this connection.
    public static let backendProcess = "SELECT pg_backend_pid()"

    /// Ends the connection served by the process $1 (as a lost connection looks to its client).
    public static let endBackend = "SELECT pg_terminate_backend($1::integer)"

    /// The value $1 back, as text and as the type it was read as ($2 names nothing: a plain echo).
    public static let echo = "SELECT $1::text"
    public static let echoInteger = "SELECT $1::bigint"
    public static let echoBytes = "SELECT encode($1::bytea, 'hex')"
}
