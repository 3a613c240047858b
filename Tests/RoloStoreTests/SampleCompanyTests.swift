import Foundation
import GRDB
import Testing

@testable import RoloStore

@Suite("Sample company")
struct SampleCompanyTests {
    static let store: CRMStore = {
        do {
            let store = try CRMStore.inMemory()
            try SampleCompany.generate(into: store, options: SampleCompany.Options())
            return store
        } catch {
            fatalError("could not generate the sample company: \(error)")
        }
    }()

    func count(_ sql: String) throws -> Int {
        try Self.store.dbQueue.read { try Int.fetchOne($0, sql: sql) ?? -1 }
    }

    func dump(_ store: CRMStore) throws -> String {
        try store.dbQueue.read { db in
            var text = ""
            for table in ["users", "accounts", "contacts", "leads", "deals", "tickets", "activities", "tasks", "campaign_members"] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY id") { text += row.description + "\n" }
            }
            return text
        }
    }

    @Test func sameSeedSameCompany() throws {
        let a = try CRMStore.inMemory(), b = try CRMStore.inMemory(), c = try CRMStore.inMemory()
        var options = SampleCompany.Options()
        options.contacts = 600
        try SampleCompany.generate(into: a, options: options)
        try SampleCompany.generate(into: b, options: options)
        options.seed = 7
        try SampleCompany.generate(into: c, options: options)
        let first = try dump(a)
        #expect(first == (try dump(b)))
        #expect(first != (try dump(c)))
    }

    @Test func defaultSizes() throws {
        #expect(try count("SELECT count(*) FROM users") == 25)
        #expect(try count("SELECT count(*) FROM teams") >= 4)
        #expect(try count("SELECT count(*) FROM accounts") == 300)
        #expect(try count("SELECT count(*) FROM contacts") == 3000)
        #expect(try count("SELECT count(*) FROM leads") == 1000)
        #expect(try count("SELECT count(*) FROM campaigns") == 12)
        #expect(try count("SELECT count(*) FROM deals") == 800)
        #expect(try count("SELECT count(*) FROM activities") == 5000)
        #expect(try count("SELECT count(*) FROM tasks") == 1500)
        #expect(try count("SELECT count(*) FROM tickets") == 1200)
    }

    @Test func scalesWithContacts() throws {
        let store = try CRMStore.inMemory()
        var options = SampleCompany.Options()
        options.contacts = 600
        try SampleCompany.generate(into: store, options: options)
        let accounts = try store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM accounts") }
        #expect(accounts == 60)
    }

    @Test func everyRoleStageAndStatusIsPresent() throws {
        #expect(try count("SELECT count(*) FROM roles r WHERE NOT EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role_id = r.id)") == 0)
        #expect(try count("SELECT count(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id WHERE u.handle = 'admin' AND r.name = 'admin'") == 1)
        let checks: [(String, [String])] = [
            ("SELECT DISTINCT stage FROM deals", CRMSchema.dealStages),
            ("SELECT DISTINCT status FROM tickets", CRMSchema.ticketStatuses),
            ("SELECT DISTINCT priority FROM tickets", CRMSchema.ticketPriorities),
            ("SELECT DISTINCT status FROM leads", CRMSchema.leadStatuses),
            ("SELECT DISTINCT status FROM campaign_members", CRMSchema.memberStatuses),
            ("SELECT DISTINCT status FROM tasks", CRMSchema.taskStatuses),
        ]
        for (sql, expected) in checks {
            let found = try Self.store.dbQueue.read { try String.fetchAll($0, sql: sql) }
            #expect(Set(found) == Set(expected), "\(sql)")
        }
        #expect(try count("SELECT count(*) FROM users WHERE handle = 'dana'") == 0)
        #expect(try count("SELECT count(*) FROM pragma_foreign_key_check") == 0)
    }

    @Test func plantedDirtMatchesTheData() throws {
        let dirt = try #require(try Self.store.dbQueue.read { try SampleCompany.plantedDirt(in: $0) })
        #expect(dirt.duplicateContacts == 150)
        #expect(dirt.duplicateContacts == dirt.duplicatesEmailCase + dirt.duplicatesNameTypo + dirt.duplicatesPhoneFormat + dirt.duplicatesCompanyVariant)
        // Emails: capitals or spaces come only from planted dirt.
        #expect(try count("SELECT count(*) FROM contacts WHERE email != lower(email) AND email = trim(email)") == dirt.mixedCaseEmails + dirt.duplicatesEmailCase)
        #expect(try count("SELECT count(*) FROM contacts WHERE email != trim(email)") == dirt.paddedEmails)
        #expect(try count("SELECT count(*) FROM contacts WHERE email NOT LIKE '%_@_%._%' OR email LIKE '%@%@%'") == dirt.invalidEmails)
        #expect(try count("SELECT count(*) FROM contacts WHERE title IS NULL") >= dirt.missingTitles)
        #expect(try count("SELECT count(*) FROM contacts WHERE phone IS NULL") >= dirt.missingPhones)
        #expect(try count("SELECT count(*) FROM contacts WHERE phone NOT LIKE '+1 555 ___ ____'") == dirt.nonStandardPhones + dirt.duplicatesPhoneFormat)
        #expect(try count("SELECT count(*) FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.company != (CASE a.id WHEN 1 THEN 'Acme Inc' ELSE a.name END)") == dirt.companyVariants + dirt.duplicatesCompanyVariant)
        #expect(try count("SELECT count(*) FROM contacts WHERE updated_at < '2023-11-23T10:00:00Z'") == dirt.staleContacts)
        #expect(dirt.invalidEmails > 10 && dirt.mixedCaseEmails > 60 && dirt.staleContacts > 150)
        #expect(try count("SELECT count(*) FROM contacts WHERE company IN ('Acme Inc', 'Acme, Inc.', 'ACME inc.', 'Acme Inc.')") >= 40)
    }
}
