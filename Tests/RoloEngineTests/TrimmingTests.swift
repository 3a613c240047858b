import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// Import, create and update take the white space off the ends of text values (issue 22, item 0)
/// and say how many they trimmed; `--raw` keeps values as given. Oracles: the file's padded cells
/// counted by the test itself, the stored values read by raw SQL, and an import of the padded file
/// against an import of the same file written without the padding.
@Suite("Trimming spaces around values")
struct TrimmingTests {
    /// White space as the test sees it: the characters a spreadsheet export leaves around a cell.
    static let padding: Set<Character> = [" ", "\t", "\u{00A0}", "\u{3000}"]

    static func padded(_ cell: String) -> Bool {
        guard let first = cell.first, let last = cell.last else { return false }
        return padding.contains(first) || padding.contains(last)
    }

    static func rows(_ store: CRMStore, where condition: String) throws -> [String] {
        try store.dbQueue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT first_name, last_name, email, title, phone FROM contacts WHERE \(condition) ORDER BY email"
            ).map(\.description)
        }
    }

    static let cells: [[String]] = [
        [" Ana ", "Ruiz", " ana@trim.example", "VP Sales\u{00A0}", "+1 555 0100"],
        ["Bo", "Lee", "bo@trim.example", "CTO", "\t+1 555 0101"],
        ["Cy", "\u{3000}Park", "cy@trim.example ", "", "+1 555 0102"],
        ["Di", "Roe", "di@trim.example", "Head of Ops", "+1 555 0103"],
    ]

    static func csv(_ rows: [[String]]) -> String {
        (["first_name,last_name,email,title,phone"] + rows.map { $0.joined(separator: ",") }).joined(separator: "\n") + "\n"
    }

    @Test func importTrimsAndCountsTheCellsAndMatchesTheCleanFile() throws {
        let padded = Self.cells.flatMap { $0 }.filter(Self.padded).count
        #expect(padded == 6)
        let folder = try SampleDatabase.temporaryFolder()
        try Self.csv(Self.cells).write(toFile: folder + "/padded.csv", atomically: true, encoding: .utf8)
        let clean = Self.cells.map { $0.map { $0.trimmingCharacters(in: .whitespaces.union(["\u{3000}"])) } }
        try Self.csv(clean).write(toFile: folder + "/clean.csv", atomically: true, encoding: .utf8)

        let first = try SampleDatabase.engine()
        let result = run(first, "import contacts from \"\(folder)/padded.csv\"")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(result.output.contains("trimmed the spaces around \(padded) cells (--raw keeps them)"))
        let second = try SampleDatabase.engine()
        let reference = run(second, "import contacts from \"\(folder)/clean.csv\"")
        #expect(reference.error == nil)
        #expect(!reference.output.contains("trimmed"))
        let imported = try Self.rows(first.store, where: "email LIKE '%trim.example'")
        #expect(imported.count == 4)
        #expect(imported == (try Self.rows(second.store, where: "email LIKE '%trim.example'")))
        // No stored value of those rows starts or ends with white space (raw SQL, the test's own characters).
        let space = "' ' || char(9) || char(160) || char(12288)"
        let untrimmed = try first.store.dbQueue.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM contacts WHERE email LIKE '%trim.example%' AND (
                      first_name <> trim(first_name, \(space)) OR last_name <> trim(last_name, \(space))
                      OR email <> trim(email, \(space)) OR coalesce(title, '') <> trim(coalesce(title, ''), \(space))
                      OR phone <> trim(phone, \(space)))
                    """)
        }
        #expect(untrimmed == 0)
        // …and the same check finds the padding a --raw update keeps (it can fail).
        #expect(run(first, #"update contact 1 set email = " felix@trim.example" --raw"#).error != nil)
        _ = run(first, #"update contact 1 set title = "x " --raw"#)
        let kept = try first.store.dbQueue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM contacts WHERE id = 1 AND title <> trim(title, \(space))")
        }
        #expect(kept == 1)
    }

    @Test func rawImportKeepsTheCellsAndSoRefusesThePaddedEmail() throws {
        let folder = try SampleDatabase.temporaryFolder()
        try Self.csv(Self.cells).write(toFile: folder + "/padded.csv", atomically: true, encoding: .utf8)
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let result = run(engine, "import contacts from \"\(folder)/padded.csv\" --raw")
        #expect(result.error?.code == .invalidValue)
        #expect(try snapshot(engine.store) == before)
    }

    @Test func createAndUpdateTrimLiteralsAndParametersButRawKeepsThem() throws {
        let engine = try SampleDatabase.engine()
        let created = run(engine, #"create contact first_name="  Zed " last_name="Ng" email=" zed@trim.example ""#)
        #expect(created.error == nil, "\(created.error?.message ?? "")")
        #expect(created.output.contains("trimmed the spaces around 2 values (--raw keeps them)"))
        #expect(try Self.rows(engine.store, where: "email = 'zed@trim.example'") == [#"[first_name:"Zed" last_name:"Ng" email:"zed@trim.example" title:NULL phone:NULL]"#])

        engine.session.parameters = ["t": .text("\tDirector ")]
        let updated = run(engine, "update contact 1 set title = $t")
        #expect(updated.output.contains("trimmed the spaces around 1 value"))
        let raw = run(engine, #"update contact 2 set title = "  as typed  " --raw"#)
        #expect(raw.error == nil)
        #expect(!raw.output.contains("trimmed"))
        let titles = try engine.store.dbQueue.read { db in try String.fetchAll(db, sql: "SELECT title FROM contacts WHERE id IN (1, 2) ORDER BY id") }
        #expect(titles == ["Director", "  as typed  "])
    }

    /// A required value of spaces alone is no value: refused as missing, nothing written.
    @Test func aRequiredValueOfSpacesAloneIsRefused() throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let result = run(engine, #"create contact first_name="Zed" last_name="   ""#)
        #expect(result.error?.code == .requiredField)
        #expect(try snapshot(engine.store) == before)
    }
}
