import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// `audit` (issue 22, item 1) against the dirt the sample company planted (its counts in
/// rolo_meta) and against raw SQL over the tables — never against the audit's own code.
@Suite("Data audit")
struct DataAuditTests {
    static func count(_ store: CRMStore, _ sql: String) throws -> Int {
        try store.dbQueue.read { db in try Int.fetchOne(db, sql: sql) } ?? -1
    }

    static func report(_ engine: Engine, _ command: String) throws -> AuditReport {
        let result = run(engine, command)
        #expect(result.error == nil, "\(command): \(String(describing: result.error))")
        return try AuditReport.decode(result.output)
    }

    /// An email Rolo calls valid, written in SQL of its own (one @, a dot after it, no space).
    static let validEmail =
        "(email LIKE '%_@_%._%' AND email NOT LIKE '%@%@%' AND email NOT LIKE '% %' AND email NOT LIKE '%.' AND email NOT LIKE '%@.%')"
    /// A phone Rolo calls valid: 7–30 characters of digits and `+ ( ) . -` and spaces, from a
    /// digit, + or ( to a digit.
    static let validPhone =
        "(length(phone) BETWEEN 7 AND 30 AND phone NOT GLOB '*[^0-9 +().-]*' AND substr(phone, 1, 1) GLOB '[0-9+(]' AND substr(phone, -1, 1) GLOB '[0-9]')"

    @Test func contactsAgreeWithThePlantedDirtAndRawSQL() throws {
        let engine = try SampleDatabase.engine()
        let store = engine.store
        let planted = try #require(try store.dbQueue.read { try SampleCompany.plantedDirt(in: $0) })
        let report = try Self.report(engine, "audit contacts as json")
        let total = try Self.count(store, "SELECT count(*) FROM contacts")
        #expect(report.records == total && total == 3000)

        // Duplicates: every planted copy shares its original's email but for case.
        let sharedEmails = try Self.count(
            store, "SELECT count(*) - count(DISTINCT lower(trim(email))) FROM contacts WHERE \(Self.validEmail)")
        #expect(report.count("duplicates") == planted.duplicateContacts)
        #expect(report.count("duplicates") == sharedEmails)

        // Incorrect data.
        let invalidEmails = try Self.count(store, "SELECT count(*) FROM contacts WHERE trim(coalesce(email, '')) <> '' AND NOT \(Self.validEmail)")
        #expect(report.count("invalid_emails") == invalidEmails)
        #expect(invalidEmails == planted.invalidEmails + planted.paddedEmails)
        let badPhones = try Self.count(store, "SELECT count(*) FROM contacts WHERE trim(coalesce(phone, '')) <> '' AND NOT \(Self.validPhone)")
        #expect(report.count("unusable_phones") == badPhones && badPhones == planted.unusablePhones)
        let now = SampleDatabase.clock.now().description
        let future = try Self.count(store, "SELECT count(*) FROM contacts WHERE last_verified_at > '\(now)' OR created_at > '\(now)' OR updated_at < created_at")
        #expect(report.count("impossible_dates") == future && future == planted.impossibleDates)

        // Conflicts: the planted name typos are one email with two names.
        let twoNames = try Self.count(
            store,
            "SELECT count(*) FROM (SELECT lower(trim(email)) FROM contacts WHERE \(Self.validEmail) GROUP BY 1 HAVING count(DISTINCT lower(first_name) || ' ' || lower(last_name)) > 1)"
        )
        #expect(report.count("email_names") == twoNames && twoNames == planted.duplicatesNameTypo)

        // Missing data: per field, the filled records raw SQL counts.
        let completeness = try #require(report.sections.first { $0.step == 5 }?.completeness)
        for item in completeness {
            let filled = try Self.count(store, "SELECT count(*) FROM contacts WHERE trim(coalesce(\(item.field), '')) <> ''")
            #expect(item.filled == filled, "\(item.field)")
        }
        #expect(completeness.first { $0.field == "street" }?.filled == total - planted.missingAddresses)
        #expect(completeness.first { $0.field == "phone" }?.filled == total - planted.missingPhones)

        // Uniform entry.
        let untidyEmails = try Self.count(store, "SELECT count(*) FROM contacts WHERE email <> lower(trim(email))")
        #expect(report.count("email_format") == untidyEmails)
        #expect(untidyEmails == planted.mixedCaseEmails + planted.paddedEmails + planted.duplicatesEmailCase)
        #expect(report.count("street_format") == planted.untidyStreets)

        // Decay: neither updated nor verified in 12 months (the sample's today is 2026-11-22).
        let cutoff = "2025-11-22T10:00:00Z"
        let decayed = try Self.count(
            store,
            "SELECT count(*) FROM contacts WHERE trim(coalesce(title, '')) <> '' AND updated_at < '\(cutoff)' AND (last_verified_at IS NULL OR last_verified_at < '\(cutoff)')"
        )
        #expect(report.count("decayed_title") == decayed && decayed > 0)

        // Each condition finding's `find` lists exactly what it counted.
        for finding in report.sections.flatMap(\.findings) {
            guard let list = finding.list, list.hasPrefix("find contacts where "), !list.contains("id in") else { continue }
            let condition = list.dropFirst("find contacts where ".count).components(separatedBy: " order by ")[0]
            let counted = run(engine, "count contacts where \(condition)")
            #expect(counted.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(finding.count), "\(finding.key)")
        }
    }

    /// The records read in two halves at once (a file, no transaction open: a second connection
    /// reads one half in the same snapshot) or in one pass on the session's connection (inside
    /// its transaction, whose changes only that connection sees): the same report.
    @Test func halvesAndOnePassAgree() throws {
        let engine = try SampleDatabase.engine()
        let halves = try Self.report(engine, "audit contacts as json")
        let hadEmail = try Self.count(engine.store, "SELECT count(*) FROM contacts WHERE id = 1 AND trim(coalesce(email, '')) <> ''")
        #expect(run(engine, "begin").error == nil)
        let one = try Self.report(engine, "audit contacts as json")
        #expect(Self.formatsInOrder(one) == Self.formatsInOrder(halves))
        #expect(run(engine, "update contact 1 set email = null").error == nil)
        let changed = try Self.report(engine, "audit contacts as json")
        #expect(run(engine, "rollback").error == nil)
        func emails(_ report: AuditReport) -> Int? { report.sections.first { $0.step == 5 }?.completeness.first { $0.field == "email" }?.filled }
        #expect(hadEmail == 1 && emails(changed) == (emails(halves) ?? 0) - 1)
        #expect(Self.formatsInOrder(try Self.report(engine, "audit contacts as json")) == Self.formatsInOrder(halves))
    }

    /// Formats of equal counts in one order (their order among equals is not kept).
    static func formatsInOrder(_ report: AuditReport) -> AuditReport {
        var copy = report
        for section in copy.sections.indices {
            for finding in copy.sections[section].findings.indices {
                copy.sections[section].findings[finding].formats.sort { ($0.count, $0.format) < ($1.count, $1.format) }
            }
        }
        return copy
    }

    @Test func accountsAgreeWithThePlantedWebsites() throws {
        let engine = try SampleDatabase.engine()
        let planted = try #require(try engine.store.dbQueue.read { try SampleCompany.plantedDirt(in: $0) })
        let report = try Self.report(engine, "audit accounts as json")
        let accounts = try Self.count(engine.store, "SELECT count(*) FROM accounts")
        #expect(report.records == accounts)
        let website = report.sections.first { $0.step == 5 }?.completeness.first { $0.field == "website" }
        #expect(website?.filled == accounts - planted.missingWebsites)
        #expect(report.count("website_format") == planted.untidyWebsites)
        let notHTTPS = try Self.count(engine.store, "SELECT count(*) FROM accounts WHERE lower(website) NOT LIKE 'https://%'")
        #expect(report.count("website_format") == notHTTPS)
    }

    /// A sales rep's audit counts only her records; a support rep's `audit all` says leads were
    /// not audited and shows no lead count; neither can save one.
    @Test func readRightsBoundEveryCount() throws {
        let alice = try SampleDatabase.engine(user: "alice")
        let own = try Self.count(alice.store, "SELECT count(*) FROM leads WHERE owner_id = (SELECT id FROM users WHERE handle = 'alice')")
        let leads = try Self.count(alice.store, "SELECT count(*) FROM leads")
        #expect(own > 0 && own < leads)
        let text = run(alice, "audit leads").output
        #expect(text.hasPrefix("audit of leads: \(own) records alice may read"))
        #expect(text.contains("   \(own) leads\n   by owner: alice \(own)\n"))
        // JSON leaves the CRM: an export, which a sales rep may not make of leads.
        #expect(run(alice, "audit leads as json").error?.code == .permissionDenied)

        let sofia = try SampleDatabase.engine(user: "sofia")
        let all = run(sofia, "audit all")
        #expect(all.error == nil)
        #expect(all.output.contains("leads: sofia may not read leads; not audited"))
        #expect(!all.output.contains("audit of leads"))
        #expect(run(sofia, "audit leads").error?.code == .permissionDenied)

        // A field of another entity the audit compares with: the section says it was not compared.
        let admin = try SampleDatabase.engine()
        #expect(run(admin, "deny marketing_rep read accounts.name").error == nil)
        let lily = try Engine(store: admin.store, clock: SampleDatabase.clock, user: "lily")
        let conflicts = run(lily, "audit contacts").output
        #expect(conflicts.contains("(companies not compared with their accounts: lily may not read accounts' names)"))
        #expect(!conflicts.contains("whose company is not their account's"))

        let before = try snapshot(alice.store)
        #expect(run(alice, "audit contacts --save").error?.code == .permissionDenied)
        #expect(try snapshot(alice.store) == before)
    }

    @Test func saveKeepsASnapshotAndHistoryShowsTheTrend() throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        #expect(run(engine, "audit contacts --save --dry-run").error == nil)
        #expect(try snapshot(engine.store) == before)
        #expect(run(engine, "audit history contacts").output.contains("no saved audits of contacts yet"))

        let saved = run(engine, "audit contacts --save")
        #expect(saved.error == nil)
        #expect(saved.output.contains("saved 1 audit"))
        #expect(run(engine, "normalize contacts email --quiet").error == nil)
        #expect(run(engine, "audit contacts --save").error == nil)
        let rows = try engine.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT findings, json_extract(report, '$.entity') AS entity FROM audit_snapshots ORDER BY id")
        }
        #expect(rows.count == 2)
        let first: Int = rows[0]["findings"], second: Int = rows[1]["findings"]
        #expect(second < first)  // the emails were normalised in between
        let history = run(engine, "audit history contacts").output
        #expect(history.contains("(2 audits"))
        #expect(history.contains(AuditReport.number(first)) && history.contains(AuditReport.number(second)))
    }

    @Test func badInputChangesNothing() throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        #expect(run(engine, "audit deals").error?.code == .usage)
        #expect(run(engine, "audit contcts").error?.code == .unknownEntity)
        #expect(run(engine, "audit contacts older than 0 months").error?.code == .invalidValue)
        #expect(run(engine, "audit contacts as csv").error?.code == .invalidValue)
        #expect(run(engine, "audit contacts older 12").error != nil)
        #expect(try snapshot(engine.store) == before)
    }
}
