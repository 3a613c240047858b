import Crypto
import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// `import ENTITY from FILE`: rows validated as create and update validate them, one change set,
/// all or nothing (or the good rows with --skip-bad), the dry-run's summary the real run's.
@Suite("Import")
struct ImportTests {
    static func write(_ text: String, name: String = "in.csv") throws -> String {
        let folder = try SampleDatabase.temporaryFolder()
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every contact's fields but updated_at (undo, of an update as of an import, stamps it anew).
    static func contacts(_ store: CRMStore) throws -> String {
        let columns = CRMSchema.contacts.fields.map(\.name).filter { $0 != "updated_at" }.joined(separator: ", ")
        return try store.dbQueue.inDatabase { db in
            try Row.fetchAll(db, sql: "SELECT \(columns) FROM contacts ORDER BY id").map(\.description).joined(separator: "\n")
        }
    }

    static func scalar<T: DatabaseValueConvertible>(_ engine: Engine, _ sql: String) throws -> T? {
        try engine.store.dbQueue.inDatabase { try T.fetchOne($0, sql: sql) }
    }

    /// The summary lines: what the dry-run says it would do is what the real run then reports.
    @Test func dryRunSummaryIsTheRealRunsSummary() throws {
        let engine = try SampleDatabase.engine()
        let existing: String = try #require(try Self.scalar(engine, "SELECT email FROM contacts WHERE id = 10"))
        let path = try Self.write(
            """
            First Name,Last Name,E-mail,Job Title
            Ana,Ruiz,ana@new.io,CTO
            Ben,Okafor,not-an-email,
            ,Stone,\(existing),Chief Everything
            Dora,Lind,dora@new.io,
            """)
        let before = try snapshot(engine.store)
        let preview = run(engine, "import contacts from \"\(path)\" key email --skip-bad \"\(path).rejects.csv\" --dry-run")
        #expect(preview.error == nil, "\(preview.error?.message ?? "")")
        #expect(try snapshot(engine.store) == before)
        #expect(!FileManager.default.fileExists(atPath: path + ".rejects.csv"))
        let real = run(engine, "import contacts from \"\(path)\" key email --skip-bad \"\(path).rejects.csv\"")
        #expect(real.error == nil, "\(real.error?.message ?? "")")
        let summary = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("create") || $0.hasPrefix("would create") } }
        #expect(summary(preview.output) == ["would create 2, update 1 (last_name 1, title 1), skip 0, reject 1 of 4 rows in \(path)"])
        #expect(summary(real.output) == ["create 2, update 1 (last_name 1, title 1), skip 0, reject 1 of 4 rows in \(path)"])
        #expect(real.output.hasPrefix("imported 3 contacts (change "))
        let rejects = try String(contentsOfFile: path + ".rejects.csv", encoding: .utf8)
        #expect(
            rejects == """
                First Name,Last Name,E-mail,Job Title,error
                Ben,Okafor,not-an-email,,"column ""E-mail"": ""not-an-email"" is not an email address"

                """)
        // The row's first name was empty: the matched record keeps its own.
        #expect(try Self.scalar(engine, "SELECT first_name FROM contacts WHERE id = 10") as String? != nil)
        #expect(try Self.scalar(engine, "SELECT title FROM contacts WHERE id = 10") == "Chief Everything")
    }

    /// One bad row among 10,000 (line 7) stops the import: one line naming file, row, column and
    /// value, and nothing is written.
    @Test func badRowAtLine7Of10000ImportsNothing() throws {
        let engine = try SampleDatabase.engine()
        var text = "first_name,last_name,email\n"
        for i in 1...10_000 { text += "F\(i),L\(i),\(i == 6 ? "broken@" : "p\(i)@bulk.io")\n" }
        let path = try Self.write(text)
        let before = try snapshot(engine.store)
        let result = run(engine, "import contacts from \"\(path)\"")
        #expect(result.error?.code == .invalidValue)
        #expect(result.error?.message == "\(path):7: column \"email\": \"broken@\" is not an email address; nothing was imported")
        #expect(try snapshot(engine.store) == before)
        // The same file without the bad row imports all of it.
        let good = try Self.write(text.replacingOccurrences(of: "broken@", with: "fixed@bulk.io"))
        let imported = run(engine, "import contacts from \"\(good)\" --quiet")
        #expect(imported.error == nil)
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE email LIKE '%@bulk.io'") == 10_000)
        // One creation row per record, holding the record's fields as written (HistoryRows).
        let history: Int? = try Self.scalar(
            engine,
            """
            SELECT count(*) FROM field_history h JOIN contacts c ON c.id = h.record_id
            WHERE h.op = 'create' AND h.entity = 'contacts' AND h.field = '*'
              AND json_extract(h.new_value, '$.email') = c.email AND json_extract(h.new_value, '$.last_name') = c.last_name
            """)
        #expect(history == 10_000)
    }

    /// An upsert writes only the fields that differ: 3 of the file's 5, one history row each, old → new.
    @Test func upsertTouchesThreeOfFiveFields() throws {
        let engine = try SampleDatabase.engine()
        let row = try #require(
            try engine.store.dbQueue.inDatabase { db in
                try Row.fetchOne(db, sql: "SELECT first_name, last_name, email, city FROM contacts WHERE id = 7")
            })
        let first: String = row["first_name"], last: String = row["last_name"], email: String = row["email"]
        let path = try Self.write(
            "first_name,last_name,email,title,phone\n\(first),\(last)-Smith,\(email.uppercased()),Head of Ops,+49 30 1234\n")
        let result = run(engine, "import contacts from \"\(path)\" key email")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let fields: [String] = try engine.store.dbQueue.inDatabase { db in
            try String.fetchAll(
                db, sql: "SELECT field FROM field_history WHERE record_id = 7 AND entity = 'contacts' AND op = 'update' ORDER BY field")
        }
        // The key matched case-insensitively and stays as the record has it.
        #expect(fields == ["last_name", "phone", "title"])
        #expect(try Self.scalar(engine, "SELECT email FROM contacts WHERE id = 7") == email)
        let phone: String? = try Self.scalar(engine, "SELECT phone FROM contacts WHERE id = 7")
        #expect(phone == "+49 30 1234")
        #expect(try Self.scalar(engine, "SELECT city FROM contacts WHERE id = 7") == (row["city"] as String?))
        #expect(result.output.contains("update 1 ("))
    }

    /// Undo removes the created records and puts the updated fields back.
    @Test func anImportUndone() throws {
        let engine = try SampleDatabase.engine()
        let email: String = try #require(try Self.scalar(engine, "SELECT email FROM contacts WHERE id = 12"))
        let path = try Self.write("last_name,email,title,account\nNew,new1@x.io,A,Globex\nOther,\(email),Changed,\n")
        let before = try Self.contacts(engine.store)
        let accounts: Int? = try Self.scalar(engine, "SELECT count(*) FROM accounts")
        let result = run(engine, "import contacts from \"\(path)\" key email create missing accounts")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(try Self.contacts(engine.store) != before)
        #expect(run(engine, "changes").output.contains("import contacts from"))
        let undo = run(engine, "undo")
        #expect(undo.error == nil, "\(undo.error?.message ?? "")")
        #expect(try Self.contacts(engine.store) == before)
        #expect(try Self.scalar(engine, "SELECT count(*) FROM accounts") == accounts)
    }

    /// Validation rules hold for imports as for every change, row by row: a row whose record would
    /// break a rule is a bad row named by its line (all or nothing by default), set aside with its
    /// reason under --skip-bad, while the other rows import; a matched record updated into breaking
    /// a rule is caught the same way.
    @Test func validationRulesHoldForImportsRowByRow() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, #"rule contacts require phone "every contact needs a phone""#).error == nil)
        let before = try Self.contacts(engine.store)
        let bad = try Self.write("last_name,email,phone\nRuiz,ruiz@x.io,+1 555 000 1111\nLi,li@x.io,\n")
        let refused = run(engine, "import contacts from \"\(bad)\"")
        #expect(refused.error?.code == .ruleBroken)
        #expect(refused.error?.message.contains("in.csv:3: column \"phone\": breaks rule 1: every contact needs a phone") == true)
        #expect(try Self.contacts(engine.store) == before)

        let rejects = try SampleDatabase.temporaryFolder() + "/rejects.csv"
        let skipped = run(engine, "import contacts from \"\(bad)\" --skip-bad \"\(rejects)\"")
        #expect(skipped.error == nil, "\(skipped.error?.message ?? "")")
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE email = 'ruiz@x.io'") == 1)
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE email = 'li@x.io'") == 0)
        let written = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(written.contains("Li,li@x.io,,"))
        #expect(written.contains("breaks rule 1: every contact needs a phone"))

        // An update through the key that would clear nothing but break a rule on a matched record:
        // a record whose phone is set stays good; one imported without a phone by email is refused.
        let phoneless: String? = try Self.scalar(engine, "SELECT email FROM contacts WHERE phone IS NULL AND email LIKE '%@%.%' LIMIT 1")
        let email = try #require(phoneless)
        let update = try Self.write("email,title\n\(email),Refreshed\n", name: "update.csv")
        let refusedUpdate = run(engine, "import contacts from \"\(update)\" key email")
        #expect(refusedUpdate.error?.code == .ruleBroken)
        #expect(refusedUpdate.error?.message.contains("update.csv:2") == true)
        // A matched record the import leaves alone (skipped, or its cells equal to what it has)
        // is not changed, so a rule it already breaks does not refuse its row.
        #expect(run(engine, "import contacts from \"\(update)\" key email on duplicate skip").error == nil)
        let title: String? = try Self.scalar(engine, "SELECT title FROM contacts WHERE email = '\(email)'")
        let same = try Self.write("email,title\n\(email),\(title ?? "")\n", name: "same.csv")
        let unchanged = run(engine, "import contacts from \"\(same)\" key email")
        #expect(unchanged.error == nil, "\(unchanged.error?.message ?? "")")
    }

    /// An import called off after its rows were read (here at the confirmation prompt) keeps
    /// nothing, not even the rejects file --skip-bad names.
    @Test func aCancelledImportLeavesNoRejectsFile() throws {
        let engine = try SampleDatabase.engine()
        engine.session.settings.confirmThreshold = 1
        var asked: [String] = []
        engine.session.confirm = { question in
            asked.append(question)
            return false
        }
        let path = try Self.write("last_name,email\nNew,new1@x.io\nNewer,new2@x.io\nBad,not-an-email\n")
        let rejects = try SampleDatabase.temporaryFolder() + "/rejects.csv"
        let before = try snapshot(engine.store)
        let result = run(engine, "import contacts from \"\(path)\" --skip-bad \"\(rejects)\"")
        #expect(result.error == nil)
        #expect(asked == ["import 2 contacts?"])
        #expect(result.output.contains("cancelled; nothing changed"))
        #expect(!FileManager.default.fileExists(atPath: rejects))
        #expect(try snapshot(engine.store) == before)
    }

    /// `create missing accounts` under a rule on accounts: a row whose new account would break
    /// the rule is a bad row like any other (before, the whole import was refused naming only
    /// the account), and no such account is created.
    @Test func aMissingAccountThatWouldBreakARuleIsABadRow() throws {
        let engine = try SampleDatabase.engine()
        #expect(run(engine, #"rule accounts require city "an account needs a city""#).error == nil)
        let existing: String = try #require(try Self.scalar(engine, "SELECT name FROM accounts WHERE city IS NOT NULL ORDER BY id"))
        let path = try Self.write(
            "last_name,email,account\nOld,old1@x.io,\(existing)\nNew,new1@x.io,Brand New Co\nAgain,new2@x.io,brand new co\n")
        let accounts: Int? = try Self.scalar(engine, "SELECT count(*) FROM accounts")
        let refused = run(engine, "import contacts from \"\(path)\" create missing accounts")
        #expect(
            refused.error?.message
                == "\(path):3: column \"account\": \"Brand New Co\" would be a new account breaking rule 1: an account needs a city; nothing was imported"
        )
        #expect(try Self.scalar(engine, "SELECT count(*) FROM accounts") == accounts)
        let rejects = try SampleDatabase.temporaryFolder() + "/rejects.csv"
        let skipped = run(engine, "import contacts from \"\(path)\" create missing accounts --skip-bad \"\(rejects)\"")
        #expect(skipped.error == nil, "\(skipped.error?.message ?? "")")
        #expect(try Self.scalar(engine, "SELECT count(*) FROM accounts") == accounts)
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE email IN ('old1@x.io', 'new1@x.io', 'new2@x.io')") == 1)
        let written = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(written.split(separator: "\n").count == 3)
        #expect(written.contains("\"\"brand new co\"\" would be a new account breaking rule 1"))
    }

    /// `create missing` gives a new record a name and an owner only: an entity that needs more
    /// (a campaign's channel and status) is refused before anything is read, saying what it needs.
    @Test func missingRecordsNeedingMoreThanANameAreRefused() throws {
        let engine = try SampleDatabase.engine()
        let email: String = try #require(try Self.scalar(engine, "SELECT email FROM contacts WHERE id = 12"))
        let path = try Self.write("campaign,contact\nBrand New Campaign,\(email)\n")
        let before = try snapshot(engine.store)
        let result = run(engine, "import campaign_members from \"\(path)\" create missing campaigns")
        #expect(result.error?.code == .invalidValue)
        #expect(
            result.error?.message == "missing campaigns cannot be created from a name alone: a new campaign needs channel and status")
        #expect(try snapshot(engine.store) == before)
    }

    /// The sample company's own export, imported with --raw into a company without contacts,
    /// exports the same file — but for the rows `create` would refuse too: the sample's planted
    /// invalid emails ("liam.jordan.at.starklabs.com", " ana@…" with a space), which --skip-bad sets
    /// aside with their reason. Without --raw the spaces around cells go, and the emails that were
    /// wrong only by them are imported.
    @Test func roundTripOfTheSampleCompanysExport() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        let fields =
            "first_name, last_name, email, phone, title, job_function, company, account, city, country, last_verified_at, owner, created_at, updated_at"
        #expect(run(engine, "export contacts \(fields) order by id to \"\(folder)/out.csv\"").error == nil)
        let invalid = try engine.store.dbQueue.inDatabase { db in
            try String.fetchAll(db, sql: "SELECT email FROM contacts WHERE email IS NOT NULL ORDER BY id")
        }.filter { !AssignmentBinder.isValidEmail($0) }
        #expect(invalid.count > 5)
        try engine.store.dbQueue.inDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "DELETE FROM contacts")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let trimmedInvalid = invalid.filter { !AssignmentBinder.isValidEmail($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(trimmedInvalid.count < invalid.count)
        let trimming = run(engine, "import contacts from \"\(folder)/out.csv\" --skip-bad \"\(folder)/rejects.csv\" --quiet --dry-run")
        #expect(trimming.output.contains("reject \(trimmedInvalid.count) of 3000 rows"), "\(trimming.output)")
        let imported = run(engine, "import contacts from \"\(folder)/out.csv\" --skip-bad \"\(folder)/rejects.csv\" --quiet --raw")
        #expect(imported.error == nil, "\(imported.error?.message ?? "")")
        #expect(imported.output.contains("create \(3000 - invalid.count), update 0, skip 0, reject \(invalid.count) of 3000 rows"))
        #expect(run(engine, "export contacts \(fields) order by id to \"\(folder)/again.csv\"").error == nil)
        let first = try String(contentsOfFile: folder + "/out.csv", encoding: .utf8).split(separator: "\n")
        let again = try String(contentsOfFile: folder + "/again.csv", encoding: .utf8).split(separator: "\n")
        let rejected = try String(contentsOfFile: folder + "/rejects.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        // Each rejected row is an original row plus its reason, and names one of the invalid emails.
        #expect(rejected.count == invalid.count)
        for (row, email) in zip(rejected, invalid) {
            #expect(row.contains(email) && row.hasSuffix("is not an email address\""))
        }
        #expect(first.filter { line in !invalid.contains { line.contains("," + $0 + ",") } } == again)
        // Neutralised cells (phones starting with +) came back without their apostrophe.
        #expect(first.contains { $0.contains(",'+") })
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE phone LIKE '''%'") == 0)
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE phone LIKE '+%'") ?? 0 > 100)
    }

    /// The audit entry names the file, its counts and its SHA-256.
    @Test func auditedWithFileCountsAndDigest() throws {
        let engine = try SampleDatabase.engine()
        let text = "last_name,email\nA,a@digest.io\nB,b@digest.io\n"
        let path = try Self.write(text)
        #expect(run(engine, "import contacts from \"\(path)\"").error == nil)
        let message: String? = try Self.scalar(engine, "SELECT message FROM audit_log WHERE command LIKE 'import%' ORDER BY id DESC")
        let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(message == "\(path): 2 rows, created 2, updated 0, skipped 0, rejected 0; sha256 \(digest)")
    }

    /// Rights: the import right, create for new rows, assign for other owners, update within its
    /// scope for matched rows, set_audit_fields for created_at/updated_at.
    @Test func permissions() throws {
        // A sales rep has no import right.
        let bob = try SampleDatabase.engine(user: "bob")
        let path = try Self.write("last_name,email\nA,a@rights.io\n")
        #expect(run(bob, "import contacts from \"\(path)\"").error?.code == .permissionDenied)
        // An analyst neither.
        #expect(try run(SampleDatabase.engine(user: "olivia"), "import contacts from \"\(path)\"").error?.code == .permissionDenied)
        // A sales manager imports contacts; an owner outside the team is a bad row.
        let sam = try SampleDatabase.engine(user: "sam")
        #expect(run(sam, "import contacts from \"\(path)\"").error == nil)
        let team: Int64? = try Self.scalar(sam, "SELECT team_id FROM users WHERE handle = 'sam'")
        let outsider: String = try #require(
            try Self.scalar(sam, "SELECT handle FROM users WHERE team_id IS NOT \(team ?? 0) AND active = 1"))
        let insider: String = try #require(
            try Self.scalar(sam, "SELECT handle FROM users WHERE team_id = \(team ?? 0) AND handle != 'sam'"))
        let owners = try Self.write("last_name,email,owner\nB,b@rights.io,\(insider)\nC,c@rights.io,\(outsider)\n")
        let refused = run(sam, "import contacts from \"\(owners)\"")
        #expect(refused.error?.code == .invalidValue)
        #expect(refused.error?.message.contains(":3: column \"owner\"") == true)
        // A row matching a contact outside the team is a bad row, naming the row and the owner;
        // with --skip-bad the rest is imported.
        let unique = "c.email IS NOT NULL AND (SELECT count(*) FROM contacts d WHERE d.email = c.email COLLATE NOCASE) = 1"
        let foreign: Row = try #require(
            try sam.store.dbQueue.inDatabase { db in
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT c.id, c.email, u.handle FROM contacts c JOIN users u ON u.id = c.owner_id WHERE u.team_id IS NOT \(team ?? 0) AND \(unique) ORDER BY c.id"
                )
            })
        let own: String = try #require(
            try Self.scalar(
                sam,
                "SELECT c.email FROM contacts c JOIN users u ON u.id = c.owner_id WHERE u.team_id = \(team ?? 0) AND \(unique) ORDER BY c.id"
            ))
        let foreignEmail: String = foreign["email"], foreignOwner: String = foreign["handle"], foreignID: Int64 = foreign["id"]
        let update = try Self.write("email,title\n\(own),Changed\n\(foreignEmail),Changed\n")
        let before = try snapshot(sam.store)
        let outside = run(sam, "import contacts from \"\(update)\" key email")
        #expect(outside.error?.code == .permissionDenied)
        #expect(
            outside.error?.message
                == "\(update):3: column \"email\": \"\(foreignEmail)\" matches contact \(foreignID), which belongs to \(foreignOwner), outside sam's team scope for updates; nothing was imported"
        )
        #expect(try snapshot(sam.store) == before)
        let skipped = run(sam, "import contacts from \"\(update)\" key email --skip-bad \"\(update).rejects.csv\"")
        #expect(skipped.error == nil, "\(skipped.error?.message ?? "")")
        // The rejected row is not counted as matched and unchanged.
        #expect(skipped.output.contains("create 0, update 1 (title 1), skip 0, reject 1 of 2 rows"))
        #expect(try Self.scalar(sam, "SELECT title FROM contacts WHERE email = '\(own)'") == "Changed")
        #expect(try Self.scalar(sam, "SELECT title FROM contacts WHERE id = \(foreignID)") != "Changed")
        let rejects = try String(contentsOfFile: update + ".rejects.csv", encoding: .utf8)
        #expect(rejects.split(separator: "\n").count == 2 && rejects.contains(foreignEmail))
        // created_at is kept for an admin, ignored (and said so) for a manager.
        let dated = try Self.write("last_name,email,created_at\nD,d@rights.io,2019-03-04T05:06:07Z\n")
        let manager = run(sam, "import contacts from \"\(dated)\"")
        #expect(manager.output.contains("ignored columns: \"created_at\""))
        #expect(try Self.scalar(sam, "SELECT created_at FROM contacts WHERE email = 'd@rights.io'") != "2019-03-04T05:06:07Z")
        let admin = try SampleDatabase.engine()
        let kept = try Self.write("last_name,email,Created Date\nE,e@rights.io,04.03.2019 05:06\n")
        #expect(run(admin, "import contacts from \"\(kept)\"").error == nil)
        #expect(try Self.scalar(admin, "SELECT created_at FROM contacts WHERE email = 'e@rights.io'") == "2019-03-04T05:06:00Z")
    }

    /// Rows repeating an earlier row's key, and a key that is not unique enough.
    @Test func duplicatesInTheFile() throws {
        let engine = try SampleDatabase.engine()
        let path = try Self.write("last_name,email\nA,dup@x.io\nB,other@x.io\nC,DUP@x.io\n")
        let result = run(engine, "import contacts from \"\(path)\" key email")
        #expect(result.error?.code == .duplicateRow)
        #expect(result.error?.message == "\(path):4: column \"email\": \"DUP@x.io\" repeats row 2's email; nothing was imported")
        let error = run(engine, "import contacts from \"\(path)\" key email on duplicate error --skip-bad \"\(path).bad.csv\"")
        #expect(error.error == nil)
        #expect(error.output.contains("create 2, update 0, skip 0, reject 1 of 3 rows"))
    }

    @Test func separatorsBOMAndEmbeddedNewlines() throws {
        let engine = try SampleDatabase.engine()
        let semi = try Self.write("\u{FEFF}Nachname;E-Mail;Position\n\"Müller; Sohn\";m@semi.io;\"Leiter\nEinkauf\"\n", name: "semi.csv")
        let result = run(engine, "import contacts from \"\(semi)\" map \"Nachname\" = last_name")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(try Self.scalar(engine, "SELECT title FROM contacts WHERE email = 'm@semi.io'") == "Leiter\nEinkauf")
        #expect(try Self.scalar(engine, "SELECT last_name FROM contacts WHERE email = 'm@semi.io'") == "Müller; Sohn")
        let tabs = try Self.write("last_name\temail\nT\tt@tab.io\n", name: "tabs.tsv")
        #expect(run(engine, "import contacts from \"\(tabs)\"").error == nil)
        // A comma given for a semicolon file: one column named by the whole header line.
        let wrong = run(engine, "import contacts from \"\(semi)\" separator comma")
        #expect(wrong.error?.code == .unmappedColumn)
        #expect(wrong.error?.help?.contains("separator \";\"") == true)
    }

    @Test func badFiles() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        #expect(run(engine, "import contacts from \"\(folder)/none.csv\"").error?.code == .fileUnreadable)
        let cases: [(String, DiagnosticCode, String)] = [
            ("", .importFileMalformed, "is empty"),
            ("last_name,email\n", .importFileMalformed, "has a header but no rows"),
            ("last_name,emial\nA,a@x.io\n", .unmappedColumn, "column \"emial\" matches no field"),
            ("last_name,email\nA,a@x.io,extra\n", .importFileMalformed, ":2: the row has 3 columns; the header has 2"),
            ("last_name,email\n\"A,a@x.io\n", .importFileMalformed, ":2: a quoted field is never closed"),
            ("email\na@x.io\n", .requiredField, "needs last_name, and the file has no column for it"),
        ]
        for (text, code, message) in cases {
            let path = try Self.write(text)
            let result = run(engine, "import contacts from \"\(path)\"")
            #expect(result.error?.code == code, "\(text): \(result.error?.message ?? "no error")")
            #expect(result.error?.message.contains(message) == true, "\(text): \(result.error?.message ?? "no error")")
        }
    }

    /// An empty cell of a field with a default takes the default, as a missing column does; enum
    /// cells match whatever their case and spaces.
    @Test func emptyCellTakesTheDefault() throws {
        let engine = try SampleDatabase.engine()
        let path = try Self.write("last_name,email,status,source\nA,a@lead.io,,Cold Call\nB,b@lead.io,Qualified,web\n")
        let result = run(engine, "import leads from \"\(path)\"")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(try Self.scalar(engine, "SELECT status || ' ' || source FROM leads WHERE email = 'a@lead.io'") == "new cold_call")
        #expect(try Self.scalar(engine, "SELECT status FROM leads WHERE email = 'b@lead.io'") == "qualified")
        let bad = try Self.write("last_name,email,status\nC,c@lead.io,hot\n")
        #expect(run(engine, "import leads from \"\(bad)\"").error?.message.contains("is not one of new, contacted") == true)
    }

    @Test func cellValues() {
        #expect(CellConverter.cents("1234.56") == 123_456)
        #expect(CellConverter.cents("$1,234.56") == 123_456)
        #expect(CellConverter.cents("1.234,56 €") == 123_456)
        #expect(CellConverter.cents("-12.5") == -1250)
        #expect(CellConverter.cents("1,234") == 123_400)
        #expect(CellConverter.cents("12.345") == 1_234_500)
        #expect(CellConverter.cents("12.3.4") == nil)
        #expect(CellConverter.cents("abc") == nil)
        #expect(CellConverter.integer("1,234") == 1234)
        #expect(CellConverter.integer("1,23") == nil)
        func moment(_ text: String, _ order: CellConverter.DateOrder? = nil) -> String? {
            CellConverter.moment(text, order: order).map { CellConverter.timestamp($0.0, $0.1) }
        }
        #expect(moment("2026-11-22") == "2026-11-22T00:00:00Z")
        #expect(moment("2026-11-22T10:00:00Z") == "2026-11-22T10:00:00Z")
        #expect(moment("2026-11-22T01:30:00+02:00") == "2026-11-21T23:30:00Z")
        #expect(moment("2026-11-22 10:00") == "2026-11-22T10:00:00Z")
        #expect(moment("22.11.2026") == "2026-11-22T00:00:00Z")
        #expect(moment("11/22/2026") == "2026-11-22T00:00:00Z")
        #expect(moment("22/11/2026") == "2026-11-22T00:00:00Z")
        #expect(moment("03/04/2026") == nil)
        #expect(moment("03/04/2026", .dmy) == "2026-04-03T00:00:00Z")
        #expect(moment("03/04/2026", .mdy) == "2026-03-04T00:00:00Z")
        #expect(moment("2026-02-30") == nil)
        #expect(CellConverter.unneutralized("'+1 555") == "+1 555")
        #expect(CellConverter.unneutralized("''+1") == "''+1")
        #expect(CellConverter.unneutralized("'hello") == "'hello")
        #expect(HeaderMatching.normalized(" E-Mail Address ") == "e_mail_address")
        #expect(HeaderMatching.field(for: "Company Name", in: CRMSchema.contacts)?.name == "company")
        #expect(HeaderMatching.field(for: "Company Name", in: CRMSchema.accounts)?.name == "name")
        #expect(HeaderMatching.field(for: "Mobile", in: CRMSchema.contacts)?.name == "phone")
        #expect(HeaderMatching.field(for: "Job Title", in: CRMSchema.contacts)?.name == "title")
        #expect(HeaderMatching.field(for: "Account", in: CRMSchema.contacts)?.name == "account_id")
    }
}

@Suite("Import progress")
struct ImportProgressTests {
    /// Nothing for the first second, then at most ten redraws a second, erased at the end.
    @Test func drawsOnlyAfterASecondAndErases() {
        var drawn: [String] = []
        let start = Date(timeIntervalSince1970: 1000)
        let meter = ProgressMeter(draw: { drawn.append($0) }, start: start)
        meter.update(rows: 100_000, fraction: 0.1, now: start.addingTimeInterval(0.5))
        #expect(drawn.isEmpty)
        meter.update(rows: 200_000, fraction: 0.2, now: start.addingTimeInterval(2))
        meter.update(rows: 201_000, fraction: 0.2, now: start.addingTimeInterval(2.05))
        #expect(drawn.count == 1)
        #expect(drawn[0].hasSuffix("[####----------------]  20%  200,000 rows  100,000 rows/s  ETA 8 s"))
        meter.phase("1,000,000 rows read; matching and writing…", now: start.addingTimeInterval(3))
        #expect(drawn.last == "\r\u{1B}[K1,000,000 rows read; matching and writing…")
        // The writing stage: its own label, rate and time left, counted from its start.
        meter.stage("writing", now: start.addingTimeInterval(4))
        meter.update(rows: 250_000, fraction: 0.25, now: start.addingTimeInterval(5))
        #expect(drawn.last == "\r\u{1B}[Kwriting [#####---------------]  25%  250,000 rows  250,000 rows/s  ETA 3 s")
        meter.finish()
        #expect(drawn.count == 4 && drawn[3] == "\r\u{1B}[K")
        // Work done within a second draws nothing at all.
        let quick = ProgressMeter(draw: { drawn.append($0) }, start: start)
        quick.phase("done reading", now: start.addingTimeInterval(0.5))
        quick.finish()
        #expect(drawn.count == 4)
    }
}

/// Writes go in chunks of `WriteProgress.chunkLines` lines: a file of several chunks, with bad
/// rows at a chunk's edges, imports as one.
@Suite("Import in chunks")
struct ImportChunkTests {
    @Test func aFileOfSeveralChunksImportsAsOne() throws {
        let engine = try SampleDatabase.engine()
        let chunk = WriteProgress.chunkLines
        let rows = chunk * 2 + 100
        // Line n (the header is line 1) is person n - 1; bad emails on the first and last line
        // of the second chunk.
        let badLines: Set<Int> = [chunk + 1, chunk + 2, 2 * chunk + 1]
        var text = "last_name,email,title\n"
        for line in 2...(rows + 1) {
            text += "P\(line),\(badLines.contains(line) ? "bad-\(line)" : "p\(line)@chunks.io"),T\n"
        }
        let path = try ImportTests.write(text)
        let rejects = try SampleDatabase.temporaryFolder() + "/rejects.csv"
        let first = run(engine, "import contacts from \"\(path)\" key email --skip-bad \"\(rejects)\" --quiet")
        #expect(first.error == nil, "\(first.error?.message ?? "")")
        let created = rows - badLines.count
        #expect(try ImportTests.scalar(engine, "SELECT count(*) FROM contacts WHERE email LIKE '%@chunks.io'") == created)
        // Numbered in file order, one creation row each.
        #expect(
            try ImportTests.scalar(
                engine,
                "SELECT count(*) FROM (SELECT id, row_number() OVER (ORDER BY id) AS k, CAST(substr(last_name, 2) AS INTEGER) AS line, row_number() OVER (ORDER BY CAST(substr(last_name, 2) AS INTEGER)) AS m FROM contacts WHERE email LIKE '%@chunks.io') WHERE k != m"
            ) == 0)
        let changeSet: Int64 = try #require(try ImportTests.scalar(engine, "SELECT max(id) FROM change_sets"))
        #expect(try ImportTests.scalar(engine, "SELECT count(*) FROM field_history WHERE change_set_id = \(changeSet)") == created)
        #expect(try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").count == badLines.count + 1)

        // Every other row changes its title, across all chunks; the bad rows are fixed and new.
        var changed = "last_name,email,title\n"
        for line in 2...(rows + 1) {
            changed += "P\(line),p\(line)@chunks.io,\(line % 2 == 0 ? "U" : "T")\n"
        }
        let path2 = try ImportTests.write(changed, name: "changed.csv")
        let second = run(engine, "import contacts from \"\(path2)\" key email --quiet")
        #expect(second.error == nil, "\(second.error?.message ?? "")")
        let updates = (2...(rows + 1)).filter { $0 % 2 == 0 && !badLines.contains($0) }.count
        #expect(second.output.contains("create \(badLines.count), update \(updates) (title \(updates), \(created - updates) unchanged)"))
        #expect(
            try ImportTests.scalar(engine, "SELECT count(*) FROM contacts WHERE email LIKE '%@chunks.io' AND title = 'U'") == updates + 1)
        #expect(try ImportTests.scalar(engine, "SELECT count(*) FROM contacts WHERE email LIKE '%@chunks.io'") == rows)
        #expect(run(engine, "undo --yes").error == nil)
        #expect(try ImportTests.scalar(engine, "SELECT count(*) FROM contacts WHERE email LIKE '%@chunks.io' AND title = 'U'") == 0)
        #expect(try ImportTests.scalar(engine, "SELECT count(*) FROM contacts WHERE email LIKE '%@chunks.io'") == created)
    }
}
