import Foundation
import GRDB
import RoloStore
import Testing

@testable import RoloEngine

/// The email rule is written twice, in Swift (checked on every create, update and import row)
/// and in SQL (for checks over whole tables): the two must agree on every text.
@Suite("Email rule")
struct EmailRuleTests {
    @Test func swiftAndSQLAgree() throws {
        let store = try CRMStore.inMemory()
        var samples = [
            "ana@acme.io", "a@b.c", "a@b..c", "@b.c", "a@", "a@b", "a@.b", "a@b.", "a@b.c@d", "a b@c.d", " a@b.c", "a@b.c ",
            "é@ü.de", "a@b.c\t", "", "@", ".", "a.b@c", "a@@b.c", "Ryan.Burnett@Acme.IO", "liam.jordan.at.starklabs.com",
        ]
        // And random short texts over the characters that matter.
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", ".", "@", " ", "é", "\t"]
        for _ in 0..<2_000 {
            samples.append(String((0..<Int.random(in: 0...7, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
        }
        try store.dbQueue.inDatabase { db in
            for text in samples {
                let sql = AssignmentBinder.validEmailSQL(SQLFragment.value(text))
                let bySQL = try Bool.fetchOne(db, sql: "SELECT " + sql.sql, arguments: sql.statementArguments) ?? false
                #expect(AssignmentBinder.isValidEmail(text) == bySQL, "\"\(text)\"")
            }
        }
    }
}
