import GRDB
import RoloStore
import RoloSyntax

/// Database errors in the user's terms, told apart by result code: busy and read-only files,
/// interruptions, constraints (by extended code), the limits of Rolo's own SQL functions (codes
/// of their own) and the few limits SQLite reports only in words (matched by message, for
/// SQLITE_ERROR alone). Never SQLite's own text for a user to decode. One of the engine's
/// services (docs/architecture.md): `execute` turns every database error a command throws into
/// one of these.
enum DatabaseErrors {
    /// Limits of Rolo's own SQL functions, told apart by their result codes (`ResultCode.rolo…`).
    static let functionLimits: [Int32: (code: DiagnosticCode, text: String, help: String)] = [
        ResultCode.roloMoneyOutOfRange.rawValue: (
            .valueOutOfRange, "an amount comes out past what Rolo holds; nothing was changed", "amounts go up to $92,233,720,368,547,758.07"
        ),
        ResultCode.roloDateOutOfRange.rawValue: (
            .valueOutOfRange, "a date comes out outside 0001-01-01 … 9999-12-31; nothing was changed", "dates run from 0001-01-01 to 9999-12-31"
        ),
        ResultCode.roloIntegerOverflow.rawValue: (
            .valueOutOfRange, "a number comes out past what Rolo holds; nothing was changed", "whole numbers go up to 9,223,372,036,854,775,807"
        ),
    ]

    /// Limits SQLite reports only as SQLITE_ERROR with a message (no code of their own): matched
    /// by that text, and only for that code.
    static let databaseLimits: [(messages: [String], code: DiagnosticCode, text: String, help: String)] = [
        (
            ["parser stack overflow"], .nestingTooDeep, "this command nests too deeply for the database",
            "nest fewer brackets, `not`s and functions"
        ),
        // SQLite's planner gives up on some very long conditions over related records (found by
        // the front-end fuzzer: about 2,000 `and`ed terms on deals' account and owner), or, on
        // some 1,500 of them, rewrites them into a tree deeper than it takes (its expression-depth
        // limit, 1,000: Rolo's own SQL stays far below it, nesting being limited to 20 levels and
        // chains written as balanced trees).
        (
            ["no query solution", "Expression tree is too large"], .queryTooLarge,
            "this condition is too large for the database to plan; nothing was changed",
            "split it into smaller commands, or drop repeated terms (a and a is a)"
        ),
        // A SQLite built with fewer bound values than Debian's (32,766 by default) and 10,000 tests
        // of several values each; lists of values are bound as one (`Sql.valueList`).
        (
            ["too many SQL variables"], .queryTooLarge, "this command holds more values than the database takes; nothing was changed",
            "split it into smaller commands; a long list of values for one field is best written as field in (…)"
        ),
        (
            ["integer overflow"], .valueOutOfRange, "a number comes out past what Rolo holds; nothing was changed",
            "whole numbers go up to 9,223,372,036,854,775,807"
        ),
    ]

    /// The limit a database error reports: one of Rolo's functions' by its code, or one SQLite
    /// reports only in words (SQLITE_ERROR) by its message.
    static func limit(of error: DatabaseError) -> (code: DiagnosticCode, text: String, help: String)? {
        if let limit = functionLimits[error.extendedResultCode.rawValue] { return limit }
        guard error.resultCode == .SQLITE_ERROR, let message = error.message else { return nil }
        return databaseLimits.first { limit in limit.messages.contains { message.contains($0) } }.map { ($0.code, $0.text, $0.help) }
    }

    /// A database error as the user should read it.
    static func diagnostic(for error: DatabaseError, _ statement: ParsedStatement) -> Diagnostic {
        switch error.resultCode {
        case .SQLITE_INTERRUPT:
            return Diagnostic(.interrupted, "interrupted; nothing of this command was kept", at: statement.range)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return Diagnostic(
                .databaseUnavailable, "another session is writing to this database and did not finish in time; nothing was changed",
                at: statement.range,
                help:
                    "try again, or wait longer with `set busy_timeout SECONDS`; a `begin` left open in another shell holds the file until commit or rollback"
            )
        case .SQLITE_READONLY:
            return Diagnostic(.databaseUnavailable, "the database cannot be written; nothing was changed", at: statement.range)
        case .SQLITE_CONSTRAINT:
            return constraintDiagnostic(error.extendedResultCode, error.message ?? "", statement)
        default:
            if let limit = Self.limit(of: error) {
                return Diagnostic(limit.code, limit.text, at: statement.range, help: limit.help)
            }
            return Diagnostic(
                .constraintViolated, "the database refused this: \(error.message ?? error.description)", at: statement.range)
        }
    }

    /// A constraint the database enforces, in the user's terms: the field that would be duplicated
    /// or the rule that would break (never SQLite's own text).
    static func constraintDiagnostic(_ code: ResultCode, _ message: String, _ statement: ParsedStatement) -> Diagnostic {
        // Which constraint failed is told by the extended code; SQLite names the columns or the
        // rule only in its message, after a fixed prefix (the dialect's).
        let failed = Sql.dialect.constraintMessages
        func after(_ prefix: String) -> Substring {
            message.range(of: prefix).map { message[$0.upperBound...] } ?? Substring(message)
        }
        switch code {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            let detail = after(failed.unique)
            let columns = detail.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).split(separator: ".").last.map(String.init) ?? ""
            }
            let table = detail.split(separator: ".").first.map(String.init) ?? "records"
            let singular = CRMSchema.entity(named: table)?.singular ?? "record"
            return Diagnostic(
                .constraintViolated, "another \(singular) already has that \(columns.joined(separator: " and ")); nothing was changed",
                at: statement.range, help: "\(columns.joined(separator: ", ")) must be unique among \(table); choose another value")
        case .SQLITE_CONSTRAINT_CHECK:
            let rule = String(after(failed.check + ": "))
            let help =
                rule.contains(SchemaSQL.eitherSet("lead_id", "contact_id"))
                ? "a campaign member is a lead or a contact: one of them must stay set"
                : "the value is not one this field allows"
            return Diagnostic(
                .constraintViolated, "that would break a rule of the data; nothing was changed", at: statement.range, help: help)
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return Diagnostic(
                .constraintViolated, "other records still refer to this one; nothing was changed", at: statement.range,
                help: "reassign or delete those records first")
        case .SQLITE_CONSTRAINT_NOTNULL:
            let field = message.split(separator: ".").last.map(String.init) ?? "a field"
            return Diagnostic(.requiredField, "\(field) cannot be empty; nothing was changed", at: statement.range)
        default:
            break
        }
        return Diagnostic(.constraintViolated, "that would break a rule of the data; nothing was changed", at: statement.range)
    }
}
