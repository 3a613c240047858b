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

    /// The first column of the first row, as text.
    static func text(_ store: CRMStore, _ sql: String) throws -> String? {
        try store.dbQueue.read { try String.fetchOne($0, sql: sql) }
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

    @Test(arguments: [100, 600])
    func scalesWithContacts(contacts: Int) throws {
        let store = try CRMStore.inMemory()
        let dirt = try SampleCompany.generate(into: store, options: SampleCompany.Options(contacts: contacts))
        let counts = try store.dbQueue.read { db in
            try ["users", "accounts", "contacts", "leads", "deals", "activities", "tasks", "tickets"].map {
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? -1
            }
        }
        let n = contacts
        #expect(counts == [25, max(10, n / 10), n, n / 3, max(20, n * 4 / 15), n * 5 / 3, n / 2, max(10, n * 2 / 5)])
        // What `generate` says it planted against what the rows hold, counted by SQL over the raw tables.
        let measured = try Self.measuredDirt(store)
        #expect(measured == dirt, "recorded \(dirt)\nin the rows \(measured)")
        #expect(measured.duplicateContacts == n / 20)
        #expect(try Self.duplicatesDifferInOneThing(store) == measured.duplicateContacts)
        #expect(try Self.text(store, "SELECT count(*) FROM pragma_foreign_key_check") == "0")
        #expect(try Self.text(store, "SELECT value FROM rolo_meta WHERE key = 'sample.contacts'") == String(n))
        #expect(try Self.text(store, "SELECT value FROM rolo_meta WHERE key = 'sample.seed'") == "42")
        for (sql, expected) in [
            ("SELECT DISTINCT stage FROM deals", CRMSchema.dealStages),
            ("SELECT DISTINCT status FROM tickets", CRMSchema.ticketStatuses),
            ("SELECT DISTINCT status FROM leads", CRMSchema.leadStatuses),
            ("SELECT DISTINCT status FROM campaign_members", CRMSchema.memberStatuses),
        ] {
            let found = try store.dbQueue.read { try String.fetchAll($0, sql: sql) }
            #expect(Set(found) == Set(expected), "\(sql)")
        }
    }

    @Test func refusesAStoreThatAlreadyHasUsers() throws {
        let store = try CRMStore.inMemory()
        try SampleCompany.generate(into: store, options: SampleCompany.Options(contacts: 100))
        #expect(throws: StoreError.self) { try SampleCompany.generate(into: store, options: SampleCompany.Options(contacts: 100)) }
        let contacts = try store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM contacts") }
        #expect(contacts == 100)
    }

    @Test func datesComeFromTheClock() throws {
        let now = Timestamp(date: CivilDate(year: 2031, month: 3, day: 9), hour: 15)
        let store = try CRMStore.inMemory()
        try SampleCompany.generate(into: store, options: SampleCompany.Options(contacts: 600, clock: FixedClock(now)))
        let nowText = now.description, today = now.date.description
        let sixYearsAgo = now.adding(seconds: -(6 * 365 + 2) * 86_400).description
        for table in ["accounts", "contacts", "leads", "deals", "activities", "tasks", "tickets", "campaign_members"] {
            #expect(try Self.text(store, "SELECT max(updated_at) FROM \(table)") ?? "" <= nowText, "\(table)")
            #expect(try Self.text(store, "SELECT min(created_at) FROM \(table)") ?? "" >= sixYearsAgo, "\(table)")
            #expect(try Self.text(store, "SELECT count(*) FROM \(table) WHERE updated_at < created_at") == "0", "\(table)")
        }
        #expect(try Self.text(store, "SELECT max(occurred_at) FROM activities") ?? "" <= nowText)
        #expect(try Self.text(store, "SELECT max(customer_since) FROM accounts") ?? "" <= today)
        // Deals close both before and after today; only won and lost ones lie wholly in the past.
        #expect(try Self.text(store, "SELECT count(*) FROM deals WHERE close_date < '\(today)'") != "0")
        #expect(try Self.text(store, "SELECT count(*) FROM deals WHERE close_date > '\(today)'") != "0")
        #expect(try Self.text(store, "SELECT count(*) FROM deals WHERE stage IN ('won', 'lost') AND close_date > '\(today)'") == "0")
        // Only resolved and closed tickets have closed_at; only done tasks have completed_at.
        #expect(
            try Self.text(store, "SELECT count(*) FROM tickets WHERE (closed_at IS NOT NULL) != (status IN ('resolved', 'closed'))") == "0")
        #expect(try Self.text(store, "SELECT count(*) FROM tickets WHERE closed_at < opened_at") == "0")
        #expect(try Self.text(store, "SELECT count(*) FROM tasks WHERE (completed_at IS NOT NULL) != (status = 'done')") == "0")
        // Open tasks fall due around now.
        let soon = now.date.adding(days: 31).description, lately = now.date.adding(days: -11).description
        #expect(
            try Self.text(
                store,
                "SELECT count(*) FROM tasks WHERE status IN ('open', 'in_progress') AND (due_date < '\(lately)' OR due_date > '\(soon)')")
                == "0")
    }

    @Test func theDocsRunningExamplesExist() throws {
        let ana = try #require(
            try Self.store.dbQueue.read {
                try Row.fetchOne(
                    $0,
                    sql:
                        "SELECT c.first_name, c.last_name, c.email, a.name AS account FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.id = 42"
                )
            })
        #expect(ana["first_name"] as String? == "Ana")
        #expect(ana["last_name"] as String? == "Ruiz")
        #expect(ana["email"] as String? == "ana@acme.io")
        #expect(ana["account"] as String? == "Acme")
        #expect(try count("SELECT count(*) FROM deals WHERE id = 9") == 1)
        #expect(try Self.text(Self.store, "SELECT u.handle FROM deals d JOIN users u ON u.id = d.owner_id WHERE d.id = 42") == "sam")
        #expect(try count("SELECT count(*) FROM contacts WHERE company = 'Acme Inc'") >= 40)
        #expect(try count("SELECT count(*) FROM contacts WHERE company = 'Acme, Inc.'") > 0)
        for handle in ["admin", "alice", "bob", "carol", "sam"] {
            #expect(try count("SELECT count(*) FROM users WHERE handle = '\(handle)'") == 1, "\(handle)")
        }
    }

    @Test func ownersFitTheirRoles() throws {
        func roles(_ sql: String) throws -> Set<String> {
            try Self.store.dbQueue.read { try Set(String.fetchAll($0, sql: sql)) }
        }
        let join = "JOIN user_roles ur ON ur.user_id = x.owner_id JOIN roles r ON r.id = ur.role_id"
        #expect(try roles("SELECT DISTINCT r.name FROM accounts x \(join)") == ["sales_rep", "sales_manager"])
        #expect(try roles("SELECT DISTINCT r.name FROM deals x \(join)") == ["sales_rep", "sales_manager"])
        #expect(try roles("SELECT DISTINCT r.name FROM campaigns x \(join)") == ["marketing_rep", "marketing_manager"])
        #expect(
            try roles(
                "SELECT DISTINCT r.name FROM tickets x JOIN user_roles ur ON ur.user_id = x.assignee_id JOIN roles r ON r.id = ur.role_id")
                == ["support_rep"])
        #expect(
            try roles(
                "SELECT DISTINCT r.name FROM teams t JOIN user_roles ur ON ur.user_id = t.manager_id JOIN roles r ON r.id = ur.role_id WHERE t.name LIKE 'Sales%'"
            ) == ["sales_manager"])
        #expect(try count("SELECT count(*) FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.owner_id != a.owner_id") == 0)
    }

    @Test func everyRoleStageAndStatusIsPresent() throws {
        #expect(try count("SELECT count(*) FROM roles r WHERE NOT EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role_id = r.id)") == 0)
        #expect(
            try count(
                "SELECT count(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id WHERE u.handle = 'admin' AND r.name = 'admin'"
            ) == 1)
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

    // MARK: - Activities and tasks linked to deals, leads and tickets
    //
    // Checked with SQL over the raw tables only: which rows name what, whose they are, when they happened.

    /// `part` of `whole` as a fraction (0 when `whole` is 0).
    func share(_ part: String, of whole: String) throws -> Double {
        let w = try count(whole)
        return w > 0 ? Double(try count(part)) / Double(w) : 0
    }

    @Test func activitiesNameDealsLeadsAndTickets() throws {
        // 5,000 activities: a good share about a deal, some about a lead or a ticket, the rest plain.
        #expect(try count("SELECT count(*) FROM activities WHERE deal_id IS NOT NULL") > 1200)
        #expect(try count("SELECT count(*) FROM activities WHERE lead_id IS NOT NULL") > 300)
        #expect(try count("SELECT count(*) FROM activities WHERE ticket_id IS NOT NULL") > 500)
        #expect(try count("SELECT count(*) FROM activities WHERE coalesce(deal_id, lead_id, ticket_id) IS NULL") > 1000)
        // Many deals, leads and tickets have more than one activity; each names at most one of them.
        #expect(try count("SELECT count(DISTINCT deal_id) FROM activities") > 500)
        #expect(
            try count("SELECT count(*) FROM activities WHERE (deal_id IS NOT NULL) + (lead_id IS NOT NULL) + (ticket_id IS NOT NULL) > 1")
                == 0)
        // On a deal: the deal's account (and a contact of it); on a ticket: the ticket's contact and account;
        // on a lead: no contact or account, a lead has none yet.
        #expect(try count("SELECT count(*) FROM activities WHERE deal_id IS NOT NULL AND account_id IS NOT NULL") > 1200)
        #expect(
            try count("SELECT count(*) FROM activities a JOIN deals d ON d.id = a.deal_id WHERE a.account_id IS NOT d.account_id") == 0)
        #expect(
            try count(
                "SELECT count(*) FROM activities a JOIN deals d ON d.id = a.deal_id JOIN contacts c ON c.id = a.contact_id WHERE c.account_id IS NOT d.account_id"
            ) == 0)
        #expect(
            try count(
                "SELECT count(*) FROM activities a JOIN tickets t ON t.id = a.ticket_id WHERE a.contact_id IS NOT t.contact_id OR a.account_id IS NOT t.account_id"
            ) == 0)
        #expect(
            try count("SELECT count(*) FROM activities WHERE lead_id IS NOT NULL AND (contact_id IS NOT NULL OR account_id IS NOT NULL)")
                == 0)
        // Calls, emails and meetings about deals; calls and emails about tickets and leads.
        func kinds(_ link: String) throws -> Set<String> {
            try Self.store.dbQueue.read {
                try Set(String.fetchAll($0, sql: "SELECT DISTINCT kind FROM activities WHERE \(link) IS NOT NULL"))
            }
        }
        #expect(try kinds("deal_id").isSuperset(of: ["call", "email", "meeting"]))
        #expect(try kinds("ticket_id").isSuperset(of: ["call", "email"]))
        #expect(try kinds("lead_id").isSuperset(of: ["call", "email"]))
    }

    @Test func activitiesAreOftenLoggedBySomeoneElseThanTheRecordsOwner() throws {
        let onDeals = "FROM activities a JOIN deals d ON d.id = a.deal_id"
        let other = try share("SELECT count(*) \(onDeals) WHERE a.owner_id != d.owner_id", of: "SELECT count(*) \(onDeals)")
        #expect(other >= 0.25)
        #expect(other <= 0.6, "the deal's owner still logs most of its activities")
        // Support reps, managers and executives, reps of the other sales team: other teams than the deal owner's.
        #expect(
            try count(
                "SELECT count(*) \(onDeals) JOIN users au ON au.id = a.owner_id JOIN users du ON du.id = d.owner_id WHERE au.team_id != du.team_id"
            ) > 200)
        #expect(
            try count(
                "SELECT count(DISTINCT t.name) \(onDeals) JOIN users au ON au.id = a.owner_id JOIN teams t ON t.id = au.team_id")
                >= 4)
        let onLeads = "FROM activities a JOIN leads l ON l.id = a.lead_id"
        #expect(try share("SELECT count(*) \(onLeads) WHERE a.owner_id != l.owner_id", of: "SELECT count(*) \(onLeads)") >= 0.25)
        let onTickets = "FROM activities a JOIN tickets t ON t.id = a.ticket_id"
        #expect(try count("SELECT count(*) \(onTickets) WHERE a.owner_id != t.assignee_id") > 0)
        #expect(try share("SELECT count(*) \(onTickets) WHERE a.owner_id = t.assignee_id", of: "SELECT count(*) \(onTickets)") > 0.5)
    }

    @Test func tasksNameDealsLeadsAndTickets() throws {
        // 1,500 tasks: follow-ups on deals, leads and tickets, the rest on a contact.
        #expect(try count("SELECT count(*) FROM tasks WHERE deal_id IS NOT NULL") > 350)
        #expect(try count("SELECT count(*) FROM tasks WHERE lead_id IS NOT NULL") > 100)
        #expect(try count("SELECT count(*) FROM tasks WHERE ticket_id IS NOT NULL") > 150)
        #expect(try count("SELECT count(*) FROM tasks WHERE coalesce(deal_id, lead_id, ticket_id) IS NULL") > 300)
        #expect(
            try count("SELECT count(*) FROM tasks WHERE (deal_id IS NOT NULL) + (lead_id IS NOT NULL) + (ticket_id IS NOT NULL) > 1") == 0)
        #expect(try count("SELECT count(*) FROM tasks t JOIN deals d ON d.id = t.deal_id WHERE t.account_id IS NOT d.account_id") == 0)
        #expect(
            try count(
                "SELECT count(*) FROM tasks t JOIN deals d ON d.id = t.deal_id JOIN contacts c ON c.id = t.contact_id WHERE c.account_id IS NOT d.account_id"
            ) == 0)
        #expect(
            try count(
                "SELECT count(*) FROM tasks k JOIN tickets t ON t.id = k.ticket_id WHERE k.contact_id IS NOT t.contact_id OR k.account_id IS NOT t.account_id"
            ) == 0)
        #expect(
            try count("SELECT count(*) FROM tasks WHERE lead_id IS NOT NULL AND (contact_id IS NOT NULL OR account_id IS NOT NULL)") == 0)
        // Still-open follow-ups are on deals, leads and tickets that are still open.
        let open = "k.status IN ('open', 'in_progress')"
        #expect(try count("SELECT count(*) FROM tasks k JOIN deals d ON d.id = k.deal_id WHERE \(open)") > 100)
        #expect(try count("SELECT count(*) FROM tasks k JOIN deals d ON d.id = k.deal_id WHERE \(open) AND d.stage = 'lost'") == 0)
        #expect(
            try count(
                "SELECT count(*) FROM tasks k JOIN tickets t ON t.id = k.ticket_id WHERE \(open) AND t.status IN ('resolved', 'closed')")
                == 0)
        #expect(
            try count(
                "SELECT count(*) FROM tasks k JOIN leads l ON l.id = k.lead_id WHERE \(open) AND l.status IN ('unqualified', 'converted', 'junk')"
            ) == 0)
    }

    @Test func tasksAreOftenAssignedToSomeoneElseThanTheRecordsOwner() throws {
        let onDeals = "FROM tasks k JOIN deals d ON d.id = k.deal_id"
        let other = try share("SELECT count(*) \(onDeals) WHERE k.assignee_id != d.owner_id", of: "SELECT count(*) \(onDeals)")
        #expect(other >= 0.25)
        #expect(other <= 0.6)
        #expect(
            try count(
                "SELECT count(*) \(onDeals) JOIN users ku ON ku.id = k.assignee_id JOIN users du ON du.id = d.owner_id WHERE ku.team_id != du.team_id"
            ) > 50)
        // A manager delegates: the task is theirs, the work is the deal owner's.
        #expect(try count("SELECT count(*) \(onDeals) WHERE k.owner_id != k.assignee_id") > 30)
        let onLeads = "FROM tasks k JOIN leads l ON l.id = k.lead_id"
        #expect(try share("SELECT count(*) \(onLeads) WHERE k.assignee_id != l.owner_id", of: "SELECT count(*) \(onLeads)") >= 0.25)
        let onTickets = "FROM tasks k JOIN tickets t ON t.id = k.ticket_id"
        #expect(try count("SELECT count(*) \(onTickets) WHERE k.assignee_id != t.assignee_id") > 0)
    }

    @Test func linkedActivitiesAndTasksHappenWhileTheirRecordIsAlive() throws {
        let now = FixedClock.reference.now().description
        #expect(try count("SELECT count(*) FROM activities WHERE coalesce(deal_id, lead_id, ticket_id) IS NOT NULL") > 2000)
        #expect(try count("SELECT count(*) FROM tasks WHERE coalesce(deal_id, lead_id, ticket_id) IS NOT NULL") > 600)
        // Activities: after the deal was created (and by its close for won and lost deals), after the lead came
        // in, after the ticket was opened (and by its close); never after now.
        #expect(try count("SELECT count(*) FROM activities WHERE occurred_at > '\(now)' OR created_at > '\(now)'") == 0)
        #expect(try count("SELECT count(*) FROM activities a JOIN deals d ON d.id = a.deal_id WHERE a.occurred_at < d.created_at") == 0)
        #expect(
            try count(
                "SELECT count(*) FROM activities a JOIN deals d ON d.id = a.deal_id WHERE d.stage IN ('won', 'lost') AND substr(a.occurred_at, 1, 10) > d.close_date"
            ) == 0)
        #expect(try count("SELECT count(*) FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.occurred_at < l.created_at") == 0)
        #expect(try count("SELECT count(*) FROM activities a JOIN tickets t ON t.id = a.ticket_id WHERE a.occurred_at < t.opened_at") == 0)
        #expect(
            try count("SELECT count(*) FROM activities a JOIN tickets t ON t.id = a.ticket_id WHERE a.occurred_at > t.closed_at") == 0)
        // Tasks: created after their record was, completed after they were created, never after now.
        #expect(try count("SELECT count(*) FROM tasks WHERE completed_at < created_at OR completed_at > '\(now)'") == 0)
        #expect(try count("SELECT count(*) FROM tasks k JOIN deals d ON d.id = k.deal_id WHERE k.created_at < d.created_at") == 0)
        #expect(try count("SELECT count(*) FROM tasks k JOIN leads l ON l.id = k.lead_id WHERE k.created_at < l.created_at") == 0)
        #expect(try count("SELECT count(*) FROM tasks k JOIN tickets t ON t.id = k.ticket_id WHERE k.created_at < t.opened_at") == 0)
        #expect(
            try count("SELECT count(*) FROM tasks k JOIN tickets t ON t.id = k.ticket_id WHERE k.completed_at > t.closed_at") == 0)
    }

    // MARK: - Campaigns
    //
    // Checked with SQL over the raw tables only: a campaign's channel against its name, its status
    // against its dates and the clock, members' answers against their invitation and the event.

    /// The channel a campaign's name says it runs on, by the words in the name; nil if none says.
    static func channel(named name: String) -> String? {
        let words: [(String, String)] = [
            ("webinar", "webinar"), ("masterclass", "webinar"), ("newsletter", "email"), ("promo", "email"),
            ("summit", "event"), ("roadshow", "event"), ("trade show", "event"), ("breakfast", "event"),
            ("launch", "event"), ("linkedin", "social"), ("search ads", "paid_search"), ("whitepaper", "content"),
        ]
        let lowered = name.lowercased()
        return words.first { lowered.contains($0.0) }?.1
    }

    @Test func campaignChannelsFitTheirNames() throws {
        let rows = try Self.store.dbQueue.read { try Row.fetchAll($0, sql: "SELECT name, channel FROM campaigns ORDER BY id") }
        #expect(rows.count == 12)
        for row in rows {
            let name: String = row["name"], channel: String = row["channel"]
            #expect(Self.channel(named: name) != nil, "no rule for the campaign name '\(name)'")
            #expect(channel == Self.channel(named: name), "\(name) runs on \(channel)")
        }
        #expect(Set(rows.map { $0["channel"] as String }) == Set(CRMSchema.campaignChannels), "every channel is used")
    }

    /// The sample company generated on the default clock, and a smaller one on another clock and seed.
    static let campaignStores: [(String, CRMStore, Timestamp)] = {
        let later = Timestamp(date: CivilDate(year: 2031, month: 3, day: 9), hour: 15)
        do {
            let other = try CRMStore.inMemory()
            try SampleCompany.generate(into: other, options: SampleCompany.Options(contacts: 600, seed: 7, clock: FixedClock(later)))
            return [("default", store, FixedClock.reference.now()), ("600 contacts, seed 7, 2031", other, later)]
        } catch {
            fatalError("could not generate the sample company: \(error)")
        }
    }()

    /// Counts of rows breaking each rule about campaigns and their members (all 0 when plausible).
    static func campaignViolations(_ store: CRMStore, now: Timestamp) throws -> [String: Int] {
        let today = now.date.description, nowText = now.description
        let members = "FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id"
        let events = "c.channel IN ('event', 'webinar')"
        let checks: [(String, String)] = [
            ("a campaign ends before it starts", "SELECT count(*) FROM campaigns WHERE end_date < start_date"),
            (
                "a status that does not fit the dates",
                """
                SELECT count(*) FROM campaigns WHERE status != CASE WHEN start_date > '\(today)' THEN 'planned'
                    WHEN end_date < '\(today)' THEN 'completed' ELSE 'active' END
                """
            ),
            ("a campaign created after it started", "SELECT count(*) FROM campaigns WHERE substr(created_at, 1, 10) > start_date"),
            (
                "an answer without a time",
                "SELECT count(*) FROM campaign_members WHERE status IN ('rsvp', 'attended', 'responded') AND responded_at IS NULL"
            ),
            (
                "a time without an answer",
                "SELECT count(*) FROM campaign_members WHERE status IN ('invited', 'bounced') AND responded_at IS NOT NULL"
            ),
            ("an invitation before the campaign was created", "SELECT count(*) \(members) WHERE m.created_at < c.created_at"),
            (
                "an invitation or answer after now",
                "SELECT count(*) FROM campaign_members WHERE created_at > '\(nowText)' OR responded_at > '\(nowText)'"
            ),
            ("an answer before the invitation", "SELECT count(*) FROM campaign_members WHERE responded_at < created_at"),
            ("an invitation after the event", "SELECT count(*) \(members) WHERE \(events) AND substr(m.created_at, 1, 10) > c.start_date"),
            ("an answer after the event", "SELECT count(*) \(members) WHERE \(events) AND substr(m.responded_at, 1, 10) > c.start_date"),
            (
                "a send outside the campaign's run",
                "SELECT count(*) \(members) WHERE NOT \(events) AND substr(m.created_at, 1, 10) NOT BETWEEN c.start_date AND c.end_date"
            ),
            (
                "an answer after the campaign ended",
                "SELECT count(*) \(members) WHERE NOT \(events) AND substr(m.responded_at, 1, 10) > c.end_date"
            ),
            ("an RSVP or attendance at no event", "SELECT count(*) \(members) WHERE m.status IN ('rsvp', 'attended') AND NOT \(events)"),
            ("attendance at an event not over yet", "SELECT count(*) \(members) WHERE m.status = 'attended' AND c.end_date >= '\(today)'"),
            (
                "a lead invited before it existed",
                "SELECT count(*) FROM campaign_members m JOIN leads l ON l.id = m.lead_id WHERE l.created_at > m.created_at"
            ),
            (
                "a contact invited before it existed",
                "SELECT count(*) FROM campaign_members m JOIN contacts k ON k.id = m.contact_id WHERE k.created_at > m.created_at"
            ),
            (
                "a lead's campaign without its membership",
                "SELECT count(*) FROM leads l WHERE campaign_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM campaign_members m WHERE m.lead_id = l.id AND m.campaign_id = l.campaign_id)"
            ),
            (
                "a lead whose source is not its campaign's channel",
                """
                SELECT count(*) FROM leads l JOIN campaigns c ON c.id = l.campaign_id WHERE l.source NOT IN (CASE c.channel
                    WHEN 'webinar' THEN 'webinar' WHEN 'event' THEN 'event' WHEN 'email' THEN 'web' WHEN 'content' THEN 'web'
                    ELSE 'advertising' END, CASE WHEN c.name LIKE '%trade show%' THEN 'trade_show' END)
                """
            ),
        ]
        return try store.dbQueue.read { db in
            var found: [String: Int] = [:]
            for (rule, sql) in checks { found[rule] = try Int.fetchOne(db, sql: sql) ?? -1 }
            return found
        }
    }

    @Test func campaignMembersAnswerBetweenTheirInvitationAndTheEvent() throws {
        for (label, store, now) in Self.campaignStores {
            let violations = try Self.campaignViolations(store, now: now)
            for (rule, rows) in violations.sorted(by: { $0.key < $1.key }) {
                #expect(rows == 0, "\(label): \(rows) rows with \(rule)")
            }
            // Answers are there to check: most campaigns have some, past events have attendance.
            let answered = try Self.text(store, "SELECT count(DISTINCT campaign_id) FROM campaign_members WHERE responded_at IS NOT NULL")
            #expect(Int(answered ?? "") ?? 0 >= 10, "\(label)")
            let today = now.date.description
            #expect(
                try Self.text(
                    store,
                    """
                    SELECT count(*) FROM campaigns c WHERE c.channel IN ('event', 'webinar') AND c.end_date < '\(today)'
                        AND NOT EXISTS (SELECT 1 FROM campaign_members m WHERE m.campaign_id = c.id AND m.status = 'attended')
                    """) == "0", "\(label): a past event without attendance")
        }
    }

    @Test func upcomingEventsHaveRSVPsButNoAttendanceYet() throws {
        for (label, store, now) in Self.campaignStores {
            let today = now.date.description
            let rows = try store.dbQueue.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT c.name, c.status,
                               (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.id AND m.status = 'invited') AS invited,
                               (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.id AND m.status = 'rsvp') AS rsvp,
                               (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.id AND m.status = 'attended') AS attended
                        FROM campaigns c WHERE c.channel IN ('event', 'webinar') AND c.start_date > ?
                        """, arguments: [today])
            }
            #expect(rows.count >= 2, "\(label): upcoming events")
            for row in rows {
                let name: String = row["name"]
                #expect(row["status"] as String == "planned", "\(label): \(name)")
                #expect(row["invited"] as Int > 0, "\(label): \(name)")
                #expect(row["rsvp"] as Int > 0, "\(label): \(name)")
                #expect(row["attended"] as Int == 0, "\(label): \(name)")
            }
        }
    }

    /// The dirt in the rows, found by SQL over the raw contacts and accounts alone, never from what the
    /// generator recorded.
    ///
    /// A duplicate is a contact whose email, ignoring case, an earlier contact already has (the generator
    /// copies a clean contact and changes one thing: the email's case, the last name, the phone's format or
    /// the company); its original is the earliest such contact. Everything else is counted on the originals.
    /// `firsts`: the earliest contact per email ignoring case and spaces; `pairs`: every contact with the
    /// id of its original (NULL for an original).
    static let originalsSQL = """
        firsts AS MATERIALIZED (SELECT lower(trim(email)) AS k, min(id) AS first_id FROM contacts GROUP BY 1),
        pairs AS (SELECT c.*, nullif(f.first_id, c.id) AS original_id FROM contacts c LEFT JOIN firsts f ON f.k = lower(trim(c.email)))
        """

    static func measuredDirt(_ store: CRMStore, now: Timestamp = FixedClock.reference.now()) throws -> PlantedDirt {
        let threeYearsAgo = now.adding(seconds: -(3 * 365 * 86_400)).description
        return try store.dbQueue.read { db in
            let pairs = """
                WITH \(originalsSQL),
                dups AS (SELECT p.*, o.email AS o_email, o.last_name AS o_last_name, o.phone AS o_phone, o.company AS o_company
                    FROM pairs p JOIN contacts o ON o.id = p.original_id),
                originals AS (SELECT * FROM pairs WHERE original_id IS NULL)
                """
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: pairs + " " + sql) ?? -1 }
            var dirt = PlantedDirt()
            dirt.duplicateContacts = try count("SELECT count(*) FROM dups")
            dirt.duplicatesEmailCase = try count("SELECT count(*) FROM dups WHERE email IS NOT o_email")
            dirt.duplicatesNameTypo = try count("SELECT count(*) FROM dups WHERE email IS o_email AND last_name IS NOT o_last_name")
            dirt.duplicatesPhoneFormat = try count("SELECT count(*) FROM dups WHERE email IS o_email AND phone IS NOT o_phone")
            dirt.duplicatesCompanyVariant = try count("SELECT count(*) FROM dups WHERE email IS o_email AND company IS NOT o_company")
            dirt.invalidEmails = try count("SELECT count(*) FROM originals WHERE email NOT LIKE '%_@_%._%' OR email LIKE '%@%@%'")
            // Capitals or spaces in an email come only from planted dirt.
            dirt.mixedCaseEmails = try count("SELECT count(*) FROM originals WHERE email != lower(email) AND email = trim(email)")
            dirt.paddedEmails = try count("SELECT count(*) FROM originals WHERE email != trim(email)")
            // Fewer than seven digits and separators, or a letter: not a phone at all.
            let unusable =
                "(length(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', '')) < 7 OR phone GLOB '*[a-z]*')"
            dirt.nonStandardPhones = try count("SELECT count(*) FROM originals WHERE phone NOT LIKE '+1 555 ___ ____' AND NOT \(unusable)")
            dirt.unusablePhones = try count("SELECT count(*) FROM originals WHERE \(unusable)")
            dirt.missingPhones = try count("SELECT count(*) FROM originals WHERE phone IS NULL")
            dirt.impossibleDates = try count("SELECT count(*) FROM contacts WHERE last_verified_at > '\(now.description)'")
            dirt.missingAddresses = try count("SELECT count(*) FROM contacts WHERE street IS NULL AND region IS NULL AND postcode IS NULL")
            dirt.untidyStreets = try count(
                "SELECT count(*) FROM contacts WHERE street != trim(street) OR street LIKE '%  %' OR (street = upper(street) AND street != lower(street))")
            dirt.missingWebsites = try count("SELECT count(*) FROM accounts WHERE website IS NULL")
            dirt.untidyWebsites = try count("SELECT count(*) FROM accounts WHERE website NOT GLOB 'https://www.*'")
            dirt.missingTitles = try count("SELECT count(*) FROM originals WHERE title IS NULL")
            dirt.companyVariants = try count(
                "SELECT count(*) FROM originals c JOIN accounts a ON a.id = c.account_id WHERE c.company != (CASE a.id WHEN 1 THEN 'Acme Inc' ELSE a.name END)"
            )
            dirt.staleContacts = try count("SELECT count(*) FROM originals WHERE updated_at < '\(threeYearsAgo)'")
            return dirt
        }
    }

    /// Duplicates that copy their original but for exactly one of email (case only), last name, phone and
    /// company, and come after every original contact.
    static func duplicatesDifferInOneThing(_ store: CRMStore) throws -> Int {
        try store.dbQueue.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    WITH \(originalsSQL)
                    SELECT count(*) FROM pairs c JOIN contacts o ON o.id = c.original_id
                    WHERE c.first_name = o.first_name AND c.title IS o.title AND c.account_id = o.account_id
                      AND (c.email != o.email AND upper(o.email) = c.email) + (c.last_name != o.last_name)
                        + (c.phone IS NOT o.phone) + (c.company != o.company) = 1
                      AND c.id > (SELECT max(id) FROM pairs WHERE original_id IS NULL)
                    """) ?? -1
        }
    }

    @Test func plantedDirtMatchesTheData() throws {
        let recorded = try #require(try Self.store.dbQueue.read { try SampleCompany.plantedDirt(in: $0) })
        let measured = try Self.measuredDirt(Self.store)
        #expect(measured == recorded, "recorded \(recorded)\nin the rows \(measured)")
        #expect(measured.duplicateContacts == 150)
        #expect(try Self.duplicatesDifferInOneThing(Self.store) == 150)
        // Each kind of duplicate is planted: one in four of each.
        for kind in [
            measured.duplicatesEmailCase, measured.duplicatesNameTypo, measured.duplicatesPhoneFormat, measured.duplicatesCompanyVariant,
        ] {
            #expect(kind >= 30)
        }
        #expect(measured.invalidEmails > 10 && measured.mixedCaseEmails > 60 && measured.staleContacts > 150)
        #expect(measured.paddedEmails > 0 && measured.missingTitles > 0 && measured.missingPhones > 0)
        #expect(measured.nonStandardPhones > 0 && measured.companyVariants > 0)
        #expect(try count("SELECT count(*) FROM contacts WHERE company IN ('Acme Inc', 'Acme, Inc.', 'ACME inc.', 'Acme Inc.')") >= 40)
    }
}
