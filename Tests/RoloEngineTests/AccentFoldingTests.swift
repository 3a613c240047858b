import Foundation
import GRDB
import RoloStore
import RoloTestSupport
import Testing

@testable import RoloEngine

/// `contains`, `starts with` and `ends with` fold accents as well as case; `=` stays exact; text
/// is stored in NFC, so a decomposed value typed or imported equals the composed one stored.
@Suite("Accent-blind search and NFC storage")
struct AccentFoldingTests {
    static func count(_ engine: Engine, _ condition: String) throws -> Int {
        let result = run(engine, "count contacts where \(condition)")
        #expect(result.error == nil, "\(condition): \(result.error?.message ?? "")")
        return Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ",", with: "")) ?? -1
    }

    static func rawCount(_ engine: Engine, _ sql: String) throws -> Int {
        try engine.store.dbQueue.inDatabase { try Int.fetchOne($0, sql: sql) ?? -1 }
    }

    /// A literal table: what each text search finds among names a CRM really holds.
    @Test func searchFoldsAccentsAndCase() throws {
        let engine = try SampleDatabase.engine()
        for (first, last, company) in [
            ("Anders", "Ångström", "Société Générale"), ("Zoë", "Ørsted", "Łódź Tools"), ("José", "Müller", "Straße AG"),
        ] {
            let made = run(engine, "create contact first_name = \"\(first)\", last_name = \"\(last)\", company = \"\(company)\"")
            #expect(made.error == nil, "\(made.error?.message ?? "")")
        }
        let expected: [(String, Int)] = [
            ("last_name contains \"angstrom\"", 1), ("last_name contains \"ÅNGSTRÖM\"", 1), ("last_name starts with \"ang\"", 1),
            ("company contains \"societe\"", 1), ("company ends with \"GENERALE\"", 1), ("last_name contains \"orsted\"", 1),
            ("company contains \"lodz\"", 1), ("last_name = \"Muller\"", 0), ("last_name = \"Müller\"", 1),
            ("first_name = \"zoe\"", 0), ("company contains \"strasse\"", 1), ("first_name contains \"jose\"", 1),
            ("last_name contains \"müll\"", 1),
        ]
        for (condition, count) in expected {
            let found = try Self.count(engine, condition + " and created_at >= today")
            #expect(found == count, "\(condition)")
        }
        // A needle from a field is put in its match key too.
        #expect(run(engine, "create contact first_name = \"José\", last_name = \"JOSE\"").error == nil)
        #expect(try Self.count(engine, "last_name contains first_name and created_at >= today") == 1)
        #expect(try Self.count(engine, "first_name starts with last_name and created_at >= today") == 1)
        // count(P) + count(not P) + count(P unknown) = count(all), for an accented needle.
        let all = try Self.count(engine, "id > 0")
        let p = try Self.count(engine, "company contains \"société\"")
        let notP = try Self.count(engine, "not (company contains \"société\")")
        #expect(p + notP == all)
    }

    /// A decomposed `Zoe\u{308}` typed at the prompt or imported is stored, and compared, as the
    /// composed `Zoë` (checked on the raw bytes).
    @Test func textIsStoredInNFC() throws {
        let engine = try SampleDatabase.engine()
        let decomposed = "Zoe\u{308}"
        #expect(decomposed.unicodeScalars.count == 4)
        let made = run(engine, "create contact first_name = \"\(decomposed)\", last_name = \"Nfc\"")
        #expect(made.error == nil)
        let composedHex = Data("Zoë".utf8).map { String(format: "%02X", $0) }.joined()
        #expect(try Self.rawCount(engine, "SELECT count(*) FROM contacts WHERE last_name = 'Nfc' AND hex(first_name) = '\(composedHex)'") == 1)
        #expect(try Self.count(engine, "first_name = \"Zoë\" and last_name = \"Nfc\"") == 1)
        #expect(try Self.count(engine, "first_name = \"\(decomposed)\" and last_name = \"Nfc\"") == 1)
        let folder = try SampleDatabase.temporaryFolder()
        let path = folder + "/nfd.csv"
        try "first_name,last_name\n\(decomposed),Imported\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(run(engine, "import contacts from \"\(path)\"").error == nil)
        #expect(try Self.rawCount(engine, "SELECT count(*) FROM contacts WHERE last_name = 'Imported' AND hex(first_name) = '\(composedHex)'") == 1)
    }

    /// The fold itself on a table of pairs written out by hand.
    @Test func matchKeysOfKnownWords() {
        let table: [(String, String)] = [
            ("Ångström", "angstrom"), ("Société Générale", "societe generale"), ("ØRSTED", "orsted"), ("Łódź", "lodz"),
            ("Straße", "strasse"), ("Æsir", "aesir"), ("Crème Brûlée", "creme brulee"), ("plain ascii", "plain ascii"),
            ("ДИРЕКТОР", "директор"), ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"), ("Acme™ № 5", "acmetm no 5"), ("Ǆemal", "dzemal"),
        ]
        for (text, key) in table { #expect(TextFolding.matchKey(text) == key, "\(text)") }
    }
}
