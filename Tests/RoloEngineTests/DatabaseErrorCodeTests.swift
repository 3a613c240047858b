import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// Database errors are told apart by their result code, not by SQLite's wording: the same
/// message under another code is read by the code, and Rolo's own functions fail with codes of
/// their own that reach the user as E308 through the real path.
@Suite("Database errors by code")
struct DatabaseErrorCodeTests {
    static let statement = try! Parser.parseStatement("count contacts")

    @Test func constraintsAreToldApartByTheirExtendedCode() {
        // A message that names no kind of constraint at all: only the code says which it is.
        let cases: [(ResultCode, DiagnosticCode, String)] = [
            (.SQLITE_CONSTRAINT_UNIQUE, .constraintViolated, "already has that"),
            (.SQLITE_CONSTRAINT_FOREIGNKEY, .constraintViolated, "other records still refer"),
            (.SQLITE_CONSTRAINT_NOTNULL, .requiredField, "cannot be empty"),
            (.SQLITE_CONSTRAINT_CHECK, .constraintViolated, "break a rule of the data"),
        ]
        for (code, expected, words) in cases {
            let error = DatabaseError(resultCode: code, message: "constraint failed: contacts.email")
            let diagnostic = DatabaseErrors.diagnostic(for: error, Self.statement)
            #expect(diagnostic.code == expected, "\(code)")
            #expect(diagnostic.message.contains(words), "\(code): \(diagnostic.message)")
        }
        // And SQLite's usual wording under the wrong code is not taken for that constraint.
        let misleading = DatabaseError(resultCode: .SQLITE_CONSTRAINT_CHECK, message: "UNIQUE constraint failed: contacts.email")
        #expect(!DatabaseErrors.diagnostic(for: misleading, Self.statement).message.contains("already has"))
    }

    @Test func rolosFunctionsFailWithTheirOwnCodes() throws {
        for (code, words) in [
            (ResultCode.roloMoneyOutOfRange, "an amount"), (.roloDateOutOfRange, "a date"), (.roloIntegerOverflow, "a number"),
        ] {
            let diagnostic = DatabaseErrors.diagnostic(for: DatabaseError(resultCode: code, message: "whatever"), Self.statement)
            #expect(diagnostic.code == .valueOutOfRange && diagnostic.message.hasPrefix(words), "\(code): \(diagnostic.message)")
        }
        // Through the real path: money and dates past their range are E308.
        let engine = try SampleDatabase.engine()
        let money = run(engine, "count deals where amount * 1000000000000 > $1")
        #expect(money.error?.code == .valueOutOfRange, "\(money.error?.message ?? money.output)")
        let date = run(engine, "count deals where close_date + 9000 years > 2026-01-01")
        #expect(date.error?.code == .valueOutOfRange, "\(date.error?.message ?? date.output)")
    }
}
