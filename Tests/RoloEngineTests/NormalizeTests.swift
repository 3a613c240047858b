import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// `normalize` (issue 22, item 3): the normaliser's rules against literal expectations, and the
/// command against raw SQL over the sample company (which plants padded and mixed-case emails,
/// phones in several formats and company suffix variants).
@Suite("Normalize")
struct NormalizeTests {
    @Test func rulesAsWrittenOut() {
        #expect(Normalizer.email("  Ana.Ruiz@ACME.io ") == "ana.ruiz@acme.io")

        #expect(Normalizer.phone("+1 555 405 3153", region: nil) == "+15554053153")
        #expect(Normalizer.phone("'+1 555 405 3153", region: nil) == "+15554053153")
        #expect(Normalizer.phone("0044 20 7946 0958", region: nil) == "+442079460958")
        #expect(Normalizer.phone("555-393-5488", region: nil) == nil)
        #expect(Normalizer.phone("555-393-5488", region: "US") == "+15553935488")
        #expect(Normalizer.phone("(555) 846-2686", region: "US") == "+15558462686")
        #expect(Normalizer.phone("1 555 846 2686", region: "US") == "+15558462686")
        #expect(Normalizer.phone("030 1234567", region: "DE") == "+49301234567")
        #expect(Normalizer.phone("555 0100 x12", region: "US") == nil)
        #expect(Normalizer.phone("555", region: "US") == nil)
        #expect(Normalizer.phone("+1 555", region: nil) == nil)

        #expect(Normalizer.companyKey("Acme, Inc.") == "acme|inc")
        #expect(Normalizer.companyKey("ACME inc") == "acme|inc")
        #expect(Normalizer.companyKey("Acme Incorporated") == "acme|inc")
        #expect(Normalizer.companyKey("Acme") == "acme|")
        #expect(Normalizer.companyKey("Inc") == "inc|")
        let spellings = Normalizer.companySpellings(["Acme Inc": 5, "Acme, Inc.": 2, "ACME inc.": 1, "Acme": 4, "Globex AG": 1])
        #expect(spellings == ["Acme Inc": "Acme Inc", "Acme, Inc.": "Acme Inc", "ACME inc.": "Acme Inc", "Acme": "Acme", "Globex AG": "Globex AG"])

        #expect(Normalizer.words("  vp   of  sales ") == "VP of Sales")
        #expect(Normalizer.words("OF MICE AND MEN") == "Of Mice and Men")
        #expect(Normalizer.words("ANNE-MARIE O'BRIEN") == "Anne-Marie O'Brien")
        #expect(Normalizer.words("McDonald") == "McDonald")
        #expect(Normalizer.words("van der Berg") == "van der Berg")  // mixed case: kept as typed
        #expect(Normalizer.words("ana ruiz") == "Ana Ruiz")
        #expect(Normalizer.words("Head of  Sales") == "Head of Sales")
    }

    static func count(_ store: CRMStore, _ sql: String) throws -> Int {
        try store.dbQueue.read { db in try Int.fetchOne(db, sql: sql) } ?? -1
    }

    /// The emails normalised are exactly those raw SQL finds not trimmed and lower-case; after the
    /// run there are none; the dry-run printed what the run did; undo restores every table.
    @Test func emailsAgainstRawSQLWithDryRunAndUndo() throws {
        let engine = try SampleDatabase.engine()
        let untidy = "SELECT count(*) FROM contacts WHERE email <> lower(trim(email))"
        let expected = try Self.count(engine.store, untidy)
        let planted = try #require(try engine.store.dbQueue.read { db in try SampleCompany.plantedDirt(in: db) })
        #expect(expected >= planted.paddedEmails + planted.mixedCaseEmails && planted.paddedEmails > 0)
        let before = try snapshot(engine.store)
        let preview = run(engine, "normalize contacts email --dry-run")
        #expect(preview.output.hasPrefix("dry-run: \(expected) contacts would be normalized"))
        #expect(try snapshot(engine.store) == before)
        let real = run(engine, "normalize contacts email")
        #expect(real.output.hasPrefix("normalized \(expected) contacts (change "))
        let body = { (text: String) in text.split(separator: "\n").dropFirst().joined(separator: "\n") }
        #expect(body(preview.output) == body(real.output))
        #expect(try Self.count(engine.store, untidy) == 0)
        #expect(run(engine, "undo").error == nil)
        let after = try snapshot(engine.store)
        // Undo writes its own change set and history; the contacts table is as it was.
        let contacts = { (text: String) in text.components(separatedBy: "== ").first { $0.hasPrefix("contacts\n") } }
        #expect(contacts(after) == contacts(before))
        #expect(try Self.count(engine.store, untidy) == expected)
    }

    /// Phones: with a region every sample phone but the unreadable is E.164 afterwards (raw SQL:
    /// '+' and digits only); without one, national numbers are left and counted.
    @Test func phonesWithAndWithoutARegion() throws {
        let engine = try SampleDatabase.engine()
        let national = try Self.count(engine.store, "SELECT count(*) FROM contacts WHERE phone IS NOT NULL AND phone <> '' AND ltrim(phone, '''') NOT LIKE '+%'")
        #expect(national > 0)
        let without = run(engine, "normalize contacts phone")
        #expect(without.output.contains("\(national) phone values could not be read as one phone number"))
        #expect(try Self.count(engine.store, "SELECT count(*) FROM contacts WHERE phone LIKE '+%' AND phone GLOB '*[^0-9+]*'") == 0)
        _ = run(engine, "set region US")
        let with = run(engine, "normalize contacts phone")
        #expect(with.error == nil)
        // Only the planted unusable phones ("n/a", "555-01") cannot be read, and they are left.
        let planted = try #require(try engine.store.dbQueue.read { db in try SampleCompany.plantedDirt(in: db) })
        #expect(planted.unusablePhones > 0)
        #expect(with.output.contains("\(planted.unusablePhones) phone values could not be read as one phone number"))
        #expect(try Self.count(engine.store, "SELECT count(*) FROM contacts WHERE phone IS NOT NULL AND phone <> '' AND (phone NOT LIKE '+%' OR phone GLOB '*[^0-9+]*')") == planted.unusablePhones)
    }

    /// Companies: afterwards each company key (computed in SQL here, not by the normaliser) has one
    /// spelling among the contacts.
    @Test func companiesEndWithOneSpellingPerCompany() throws {
        let engine = try SampleDatabase.engine()
        let key = "lower(trim(replace(replace(replace(company, ',', ''), '.', ''), '  ', ' ')))"
        let spread = "SELECT count(*) FROM (SELECT \(key) AS k FROM contacts WHERE company IS NOT NULL GROUP BY k HAVING count(DISTINCT company) > 1)"
        #expect(try Self.count(engine.store, spread) > 0)
        #expect(run(engine, "normalize contacts company").error == nil)
        #expect(try Self.count(engine.store, spread) == 0)
    }

    @Test func rightsAndBadInputWriteNothing() throws {
        let alice = try SampleDatabase.engine(user: "alice")
        let before = try snapshot(alice.store)
        #expect(run(alice, "normalize contacts email").error?.code == .permissionDenied)
        #expect(run(alice, "normalize contacts emial").error?.code == .unknownField)
        #expect(run(alice, "normalize contacts created_at").error?.code == .usage)
        #expect(run(alice, "set region XX").error?.code == .invalidValue)
        #expect(try snapshot(alice.store) == before)
        #expect(run(alice, "normalize contacts email where owner = me").error == nil)
    }
}
