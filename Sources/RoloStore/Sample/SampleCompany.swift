import Foundation
import GRDB

/// The dirt planted in a sample company, counted as it is planted, so audit and dedupe
/// features can be tested against known figures. Each count is exclusive of the others.
public struct PlantedDirt: Sendable, Equatable, Codable {
    /// Extra contacts that duplicate an earlier (clean) contact, in all.
    public var duplicateContacts = 0
    /// Of those: the email in upper case; a one-letter typo in the last name; the phone in
    /// another format; the company name with another suffix punctuation.
    public var duplicatesEmailCase = 0
    public var duplicatesNameTypo = 0
    public var duplicatesPhoneFormat = 0
    public var duplicatesCompanyVariant = 0
    /// Emails that are not addresses at all ("ana.at.acme.io", "ana@", "ana@@acme.io").
    public var invalidEmails = 0
    /// Emails with capitals ("Ana.Ruiz@ACME.io"), not counting case-variant duplicates.
    public var mixedCaseEmails = 0
    /// Emails with spaces around them.
    public var paddedEmails = 0
    /// Phones not in the standard `+1 555 010 1234` form, not counting phone-variant duplicates.
    public var nonStandardPhones = 0
    /// Contacts whose company is written differently from their account's name.
    public var companyVariants = 0
    /// Contacts untouched for three years or more.
    public var staleContacts = 0
    public var missingTitles = 0
    public var missingPhones = 0
    /// Phones that cannot be numbers at all ("n/a", "ask reception", "555-01"), instead of none.
    public var unusablePhones = 0
    /// Contacts verified in the future: a `last_verified_at` after today.
    public var impossibleDates = 0
    /// Contacts with no postal address (no street, region or postcode; city and country kept).
    public var missingAddresses = 0
    /// Streets typed untidily: in capitals, or with doubled and trailing spaces.
    public var untidyStreets = 0
    /// Accounts without a website, and accounts whose website is written another way
    /// ("www.acme.com", "HTTP://WWW.ACME.COM") than `https://www.…`.
    public var missingWebsites = 0
    public var untidyWebsites = 0

    public init() {}

    nonisolated(unsafe) static let keys: [(String, WritableKeyPath<PlantedDirt, Int>)] = [
        ("duplicate_contacts", \.duplicateContacts), ("duplicates_email_case", \.duplicatesEmailCase),
        ("duplicates_name_typo", \.duplicatesNameTypo), ("duplicates_phone_format", \.duplicatesPhoneFormat),
        ("duplicates_company_variant", \.duplicatesCompanyVariant), ("invalid_emails", \.invalidEmails),
        ("mixed_case_emails", \.mixedCaseEmails), ("padded_emails", \.paddedEmails),
        ("non_standard_phones", \.nonStandardPhones), ("company_variants", \.companyVariants),
        ("stale_contacts", \.staleContacts), ("missing_titles", \.missingTitles), ("missing_phones", \.missingPhones),
        ("unusable_phones", \.unusablePhones), ("impossible_dates", \.impossibleDates),
        ("missing_addresses", \.missingAddresses), ("untidy_streets", \.untidyStreets),
        ("missing_websites", \.missingWebsites), ("untidy_websites", \.untidyWebsites),
    ]
}

/// Generates a realistic sample company: users in every built-in role and team, accounts,
/// contacts, campaigns, leads, deals, tickets, activities and tasks — with the dirt real CRMs have.
///
/// Deterministic: the same options give byte-identical rows (SplitMix64, fixed clock, no
/// dictionary iteration). Fast: one transaction, reused statements, indexes built after the load.
public enum SampleCompany {
    public struct Options: Sendable {
        public var contacts = 3000
        public var seed: UInt64 = 42
        public var clock: any CRMClock = FixedClock.reference
        public init(contacts: Int = 3000, seed: UInt64 = 42, clock: any CRMClock = FixedClock.reference) {
            self.contacts = contacts
            self.seed = seed
            self.clock = clock
        }
    }

    /// The 25 users of the default company: handle, name, team, role.
    static let staff: [(handle: String, name: String, team: String, role: String)] = [
        ("admin", "Alex Admin", "Leadership", "admin"),
        ("sam", "Sam Ortiz", "Sales East", "sales_manager"),
        ("alice", "Alice Moreno", "Sales East", "sales_rep"),
        ("bob", "Bob Lindgren", "Sales East", "sales_rep"),
        ("dave", "Dave Okoro", "Sales East", "sales_rep"),
        ("emma", "Emma Novak", "Sales East", "sales_rep"),
        ("tina", "Tina Hall", "Sales East", "sales_rep"),
        ("maria", "Maria Keller", "Sales West", "sales_manager"),
        ("carol", "Carol Byrne", "Sales West", "sales_rep"),
        ("frank", "Frank Adeyemi", "Sales West", "sales_rep"),
        ("grace", "Grace Liu", "Sales West", "sales_rep"),
        ("henry", "Henry Walsh", "Sales West", "sales_rep"),
        ("sofia", "Sofia Rinaldi", "Support", "support_rep"),
        ("ivan", "Ivan Petrov", "Support", "support_rep"),
        ("julia", "Julia Santos", "Support", "support_rep"),
        ("kevin", "Kevin Brooks", "Support", "support_rep"),
        ("uma", "Uma Reddy", "Support", "support_rep"),
        ("mark", "Mark Jensen", "Marketing", "marketing_manager"),
        ("lily", "Lily Chen", "Marketing", "marketing_rep"),
        ("noah", "Noah Fischer", "Marketing", "marketing_rep"),
        ("olivia", "Olivia Grant", "Analytics", "data_analyst"),
        ("paul", "Paul Meyer", "Analytics", "data_analyst"),
        ("quinn", "Quinn Harper", "Leadership", "cfo"),
        ("rachel", "Rachel Stone", "Leadership", "executive"),
        ("steve", "Steve Ward", "Leadership", "executive"),
    ]

    static let teams: [(name: String, manager: String?, description: String)] = [
        ("Leadership", "admin", "Executives, finance and CRM administration"),
        ("Sales East", "sam", "Field sales, eastern regions"),
        ("Sales West", "maria", "Field sales, western regions"),
        ("Support", "sofia", "Customer support"),
        ("Marketing", "mark", "Campaigns and lead generation"),
        ("Analytics", "olivia", "Reporting and data quality"),
    ]

    /// Fills an empty, migrated store with the sample company.
    @discardableResult
    public static func generate(into store: CRMStore, options: Options) throws -> PlantedDirt {
        try store.dbQueue.writeWithoutTransaction { db in
            // A fresh file being filled: no journal while loading (a failed load deletes the file),
            // then back to the write-ahead log.
            let journal = try String.fetchOne(db, Sql.setting("journal_mode")) ?? "wal"
            // Foreign keys are checked by the tests (PRAGMA foreign_key_check), not row by row here.
            for (name, value) in [("journal_mode", "OFF"), ("synchronous", "OFF"), ("foreign_keys", "OFF")] {
                try db.execute(Sql.set(name, value))
            }
            // Index builds sort millions of keys: a helper thread for the sorter.
            try db.execute(Sql.set("threads", 2))
            defer {
                for (name, value) in [
                    ("journal_mode", journal == "memory" ? "memory" : "wal"), ("synchronous", "NORMAL"), ("foreign_keys", "ON"),
                ] {
                    try? db.execute(Sql.set(name, value))
                }
                try? db.execute(Sql.set("threads", 0))
            }
            try db.inTransaction {
                if try Int.fetchOne(db, Select(Sql.countAll, from: "users").sql) ?? 0 > 0 {
                    throw StoreError.sqlite("the database already holds users; the sample company goes into an empty one")
                }
                var generator = Generator(db: db, options: options)
                try generator.run()
                return .commit
            }
            return try plantedDirt(in: db) ?? PlantedDirt()
        }
    }

    /// The dirt recorded in `rolo_meta` when the company was generated, if it was.
    public static func plantedDirt(in db: Database) throws -> PlantedDirt? {
        let rows = try Row.fetchAll(
            db, Select(Select.columns(["key", "value"]), from: "rolo_meta").where(Sql.like(Sql.name("key"), "sample.%")).sql)
        guard !rows.isEmpty else { return nil }
        var values: [String: Int] = [:]
        for row in rows {
            let key: String = row["key"]
            values[String(key.dropFirst("sample.".count))] = Int(row["value"] as String)
        }
        var dirt = PlantedDirt()
        for (key, path) in PlantedDirt.keys { dirt[keyPath: path] = values[key] ?? 0 }
        return dirt
    }
}

/// One run of the generator.
struct Generator {
    let db: Database
    let options: SampleCompany.Options
    var rng: SplitMix64
    let now: Timestamp
    var dirt = PlantedDirt()

    var userIDs: [String: Int64] = [:]
    var salesReps: [Int64] = []
    var supportReps: [Int64] = []
    var marketers: [Int64] = []
    var accountOwners: [Int64] = []
    var accountNames: [String] = []
    var accountDomains: [String] = []
    var contactAccounts: [Int64] = []
    var contactOwners: [Int64] = []
    /// Each contact's creation (seconds since the epoch), by contact id − 1: a contact is invited to a
    /// campaign only once it exists.
    var contactCreated: [Int] = []
    /// The campaigns as written, by campaign id − 1, and how many members each has so far.
    var campaignPlans: [CampaignPlan] = []
    var campaignMembers: [Int] = []
    /// What campaign members do and when, drawn from a stream of its own: the company's stream draws
    /// just what it drew before campaigns had dates (see `skip`), so every table after them stays the
    /// same for a seed.
    var memberRng: SplitMix64
    /// Postal addresses, websites and the dirt planted in them (schema version 8), from a stream of
    /// their own, so every value drawn before them stays the same for a seed.
    var addressRng: SplitMix64
    /// Each account's contacts (indexes into `contactAccounts`), by account id − 1.
    var accountContacts: [[Int32]] = []
    /// Each user's team (an index into `SampleCompany.teams`) and role, by user id − 1; each team's
    /// members and manager: who else works on a record.
    var userTeams: [Int] = []
    var userRoles: [String] = []
    var teamMembers: [[Int64]] = SampleCompany.teams.map { _ in [] }
    var teamManagers: [Int64?] = []
    var executives: [Int64] = []
    /// The deals, leads and tickets as written (record id − 1), for the activities and tasks about them.
    var dealLinks: [DealLink] = []
    var leadLinks: [LeadLink] = []
    var ticketLinks: [TicketLink] = []
    /// Indexes into those: deals still in the pipeline; leads someone has worked (not `new`); leads
    /// still in the funnel (new, contacted, qualified); tickets not yet resolved or closed.
    var openDeals: [Int] = []
    var workedLeads: [Int] = []
    var liveLeads: [Int] = []
    var openTickets: [Int] = []

    struct DealLink {
        var account: Int64, contact: Int64, owner: Int64
        var created: Timestamp
        /// When a won or lost deal closed; nil while it is open.
        var closed: Timestamp?
    }
    /// A campaign: how it reaches people, and when.
    struct CampaignPlan {
        enum Kind {
            /// Events and webinars: invitations before the day, RSVPs, attendance once it is over.
            case event
            /// Email: sends during the run, responses (opens, clicks, replies) before it ends.
            case send
            /// Social, paid search and content: people respond to an ad or a download, and come in as leads.
            case inbound
        }
        var kind: Kind
        /// When marketing set it up; the first day at 09:00; the last day at 18:00.
        var created: Timestamp, start: Timestamp, end: Timestamp
        /// Its last day is before today: an event's attendance is known.
        var over: Bool
        /// The `source` of the leads it brings in.
        var leadSource: String
    }

    struct LeadLink {
        var owner: Int64
        var created: Timestamp
    }
    struct TicketLink {
        var account: Int64, contact: Int64, assignee: Int64
        var opened: Timestamp
        var closed: Timestamp?
    }

    init(db: Database, options: SampleCompany.Options) {
        self.db = db
        self.options = options
        self.rng = SplitMix64(seed: options.seed)
        self.memberRng = SplitMix64(seed: options.seed ^ 0x6361_6D70_6169_676E)
        self.addressRng = SplitMix64(seed: options.seed ^ 0x6164_6472_6573_7365)
        self.now = options.clock.now()
    }

    var n: Int { options.contacts }

    /// A timestamp uniformly within the last `days` days (before `now`).
    mutating func past(days: Int) -> Timestamp {
        now.adding(seconds: -(rng.below(days * 86_400) + 60))
    }

    /// A timestamp between `from` and now.
    mutating func after(_ from: Timestamp) -> Timestamp {
        let span = max(60, now.secondsSinceEpoch - from.secondsSinceEpoch)
        return from.adding(seconds: rng.below(span))
    }

    /// A timestamp in `from..<to` (`from` itself when the span is empty).
    mutating func between(_ from: Timestamp, _ to: Timestamp) -> Timestamp {
        rng.instant(from, to)
    }

    /// Draws from the company's stream and drops the numbers, where the generator once drew a value it
    /// now decides otherwise (campaign members' dates and answers): the tables generated after that
    /// (deals, tickets, activities, tasks) stay row for row what they were for a seed.
    mutating func skip(_ draws: Int = 1) {
        for _ in 0..<draws { _ = rng.next() }
    }

    /// When a task on a record open from `start` to `end` was created: within the last year if the
    /// record was open then, else while it was open.
    mutating func taskCreated(_ start: Timestamp, _ end: Timestamp) -> Timestamp {
        let yearAgo = now.adding(seconds: -365 * 86_400)
        return between(start < yearAgo && end > yearAgo ? yearAgo : start, end)
    }

    mutating func run() throws {
        let indexes = CRMSchema.entities.filter { $0.kind == .domain }.flatMap { entity in
            entity.indexes.map { (SchemaSQL.indexName(entity, $0), entity) }
        }
        for (name, _) in indexes { try db.execute(sql: SchemaSQL.dropIndex(name)) }
        var clock = Date()
        func lap(_ name: String) {
            if ProcessInfo.processInfo.environment["ROLO_GEN_TIMING"] != nil {
                FileHandle.standardError.write(Data("\(name): \(Int(Date().timeIntervalSince(clock) * 1000)) ms\n".utf8))
            }
            clock = Date()
        }
        try users()
        try accounts()
        lap("users, accounts")
        try contacts()
        lap("contacts")
        let campaignIDs = try campaigns()
        try leads(campaignIDs: campaignIDs)
        lap("campaigns, leads")
        try deals()
        try tickets()
        lap("deals, tickets")
        try activities()
        lap("activities")
        try tasks()
        lap("tasks")
        for entity in CRMSchema.entities where entity.kind == .domain {
            for statement in SchemaSQL.createIndexes(entity) { try db.execute(sql: statement) }
        }
        lap("indexes")
        try recordDirt()
        try db.execute(Sql.analyze)
        lap("analyze")
    }

    // MARK: - Users and teams

    mutating func users() throws {
        let created = now.adding(seconds: -6 * 365 * 86_400).description
        for team in SampleCompany.teams {
            try db.execute(
                Insert(
                    into: "teams",
                    [
                        ("name", team.name.databaseValue), ("description", team.description.databaseValue),
                        ("created_at", created.databaseValue),
                    ]
                ).sql)
        }
        let roleIDs = Dictionary(
            uniqueKeysWithValues: try Row.fetchAll(db, Select(Select.columns(["name", "id"]), from: "roles").sql).map {
                (($0["name"] as String), ($0["id"] as Int64))
            })
        var staff = SampleCompany.staff
        // Larger companies get more reps, named from the word lists.
        let extra = max(0, (n - 20_000) / 20_000)
        for i in 0..<extra {
            let first = SampleWords.firstNames[i % SampleWords.firstNames.count]
            let last = SampleWords.lastNames[(i * 7) % SampleWords.lastNames.count]
            let team = i % 2 == 0 ? "Sales East" : "Sales West"
            staff.append(("\(first.lowercased())\(i + 1)", "\(first) \(last)", team, "sales_rep"))
        }
        for person in staff {
            let teamID = try Int64.fetchOne(
                db, Select(Sql.name("id"), from: "teams").where(Sql.equals(Sql.name("name"), Sql.value(person.team))).sql)
            let email = person.handle + "@rolo-demo.example"
            try db.execute(
                Insert(
                    into: "users",
                    [
                        ("handle", person.handle.databaseValue), ("name", person.name.databaseValue), ("email", email.databaseValue),
                        ("team_id", teamID.databaseValue), ("active", 1.databaseValue), ("created_at", created.databaseValue),
                        ("updated_at", created.databaseValue),
                    ]
                ).sql)
            let id = db.lastInsertedRowID
            userIDs[person.handle] = id
            let team = SampleCompany.teams.firstIndex { $0.name == person.team } ?? 0
            userTeams.append(team)
            userRoles.append(person.role)
            teamMembers[team].append(id)
            if person.role == "executive" { executives.append(id) }
            try db.execute(
                Insert(
                    into: "user_roles",
                    [
                        ("user_id", id.databaseValue), ("role_id", roleIDs[person.role].databaseValue), ("granted_by", .null),
                        ("granted_at", created.databaseValue),
                    ]
                ).sql)
            switch person.role {
            case "sales_rep", "sales_manager": salesReps.append(id)
            case "support_rep": supportReps.append(id)
            case "marketing_rep", "marketing_manager": marketers.append(id)
            default: break
            }
        }
        for team in SampleCompany.teams {
            if let manager = team.manager {
                try db.execute(
                    Update("teams", set: [("manager_id", Sql.value(userIDs[manager].databaseValue))])
                        .where(Sql.equals(Sql.name("name"), Sql.value(team.name))).sql)
            }
            teamManagers.append(team.manager.flatMap { userIDs[$0] })
        }
    }

    // MARK: - Accounts and contacts

    mutating func accounts() throws {
        let count = max(10, n / 10)
        let statement = try db.makeStatement(
            sql: Insert.prepared(
                into: "accounts",
                columns: [
                    "name", "industry", "website", "phone", "city", "country", "annual_revenue", "employees", "customer_since", "owner_id",
                    "created_at", "updated_at",
                ]
            ).sql)
        var used = Set<String>()
        for i in 0..<count {
            var name: String
            if i == 0 {
                name = "Acme"  // the language sketch's running example; its contacts type "Acme Inc"
            } else {
                let word = rng.pick(SampleWords.companyWords)
                let noun = rng.pick(SampleWords.companyNouns)
                let suffix = rng.pick(SampleWords.companySuffixes)
                name = "\(word) \(noun) \(suffix)"
                if used.contains(name) { name = "\(word) \(noun) \(i) \(suffix)" }
            }
            used.insert(name)
            let words = name.lowercased().split(separator: " ")
            let domainBase = (words.count > 1 ? words.dropLast() : words[...]).joined().filter { $0.isLetter || $0.isNumber }
            let domain = domainBase + (i % 5 == 0 ? ".io" : ".com")
            let place = rng.pick(SampleWords.places)
            let owner = rng.pick(salesReps)
            let created = past(days: 6 * 365)
            // A customer from shortly after the account was created, but never from the future.
            let since = min(created.date.adding(days: rng.below(90)), now.date)
            let revenue = Int64(rng.below(500) + 1) * 10_000_000 * Int64(rng.below(10) + 1)
            try statement.run(
                name, rng.pick(CRMSchema.industries), website(domain), phone(standard: true), place.city,
                place.country, revenue, rng.below(5000) + 5, since.description, owner, created.description,
                after(created).description)
            accountNames.append(name)
            accountDomains.append(domain)
            accountOwners.append(owner)
        }
    }

    mutating func phone(standard: Bool) -> String {
        let a = 100 + rng.below(900), b = 1000 + rng.below(9000)
        if standard { return "+1 555 \(a) \(b)" }
        switch rng.below(4) {
        case 0: return "(555) \(a)-\(b)"
        case 1: return "555.\(a).\(b)"
        case 2: return "555\(a)\(b)"
        default: return "555-\(a)-\(b)"
        }
    }

    /// The company as reps type it on a contact: the account's name, except Acme's "Acme Inc".
    func typedCompany(_ accountIndex: Int) -> String {
        accountIndex == 0 ? "Acme Inc" : accountNames[accountIndex]
    }

    /// The same company written another way: "Acme Inc" → "Acme, Inc." or "ACME inc.".
    func companyVariant(_ name: String, style: Int) -> String {
        var parts = name.split(separator: " ").map(String.init)
        guard parts.count >= 2, let suffix = parts.popLast() else { return name + "." }
        let base = parts.joined(separator: " ")
        switch style % 3 {
        case 0: return base + ", " + suffix + "."
        case 1: return base.uppercased() + " " + suffix.lowercased() + "."
        default: return base + " " + suffix + "."
        }
    }

    mutating func contacts() throws {
        let statement = try db.makeStatement(
            sql: Insert.prepared(
                into: "contacts",
                columns: [
                    "first_name", "last_name", "email", "phone", "title", "job_function", "company", "account_id", "city", "country",
                    "last_verified_at", "owner_id", "created_at", "updated_at", "street", "region", "postcode",
                ]
            ).sql)
        let duplicates = n / 20
        let originals = n - duplicates
        // Clean originals that duplicates copy: (first, last, email, phone, title, account index).
        var clean: [(String, String, String, String?, String?, Int)] = []
        clean.reserveCapacity(originals / 2)
        var usedEmails = Set<String>()
        accountContacts = Array(repeating: [], count: accountNames.count)
        contactCreated.reserveCapacity(n)
        for i in 0..<originals {
            // Acme gets a visible crowd of contacts; the rest spread with a long tail.
            var accountIndex: Int
            if i < 40 {
                accountIndex = 0
            } else {
                let r = rng.below(accountNames.count * 4)
                accountIndex = r < accountNames.count * 2 ? r % max(1, accountNames.count / 5) : r % accountNames.count
            }
            var first = rng.pick(SampleWords.firstNames)
            var last = rng.pick(SampleWords.lastNames)
            if i == 41 {
                // Contact 42 is the docs' running example: Ana Ruiz of Acme.
                (first, last, accountIndex) = ("Ana", "Ruiz", 0)
            }
            let domain = accountDomains[accountIndex]
            var local = SampleWords.emailPart(first) + "." + SampleWords.emailPart(last)
            if usedEmails.contains(local + "@" + domain) { local += String(i) }
            var email = local + "@" + domain
            usedEmails.insert(email)
            var emailIsClean = true
            let emailRoll = rng.below(100)
            if i == 41 {
                email = "ana@acme.io"  // the language sketch's running example
            } else if emailRoll < 1 {
                emailIsClean = false
                dirt.invalidEmails += 1
                switch rng.below(3) {
                case 0: email = local + ".at." + domain
                case 1: email = local + "@"
                default: email = local + "@@" + domain
                }
            } else if emailRoll < 5 {
                emailIsClean = false
                dirt.mixedCaseEmails += 1
                email =
                    local.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: ".")
                    + "@" + domain.uppercased()
            } else if emailRoll < 6 {
                emailIsClean = false
                dirt.paddedEmails += 1
                email = " " + email + " "
            }
            var phoneNumber: String? = phone(standard: true)
            let phoneRoll = rng.below(100)
            if phoneRoll < 10 {
                phoneNumber = nil
                dirt.missingPhones += 1
            } else if phoneRoll < 30 {
                phoneNumber = phone(standard: false)
                dirt.nonStandardPhones += 1
            }
            var title: String? = rng.pick(SampleWords.titles)
            if rng.below(100) < 8 {
                title = nil
                dirt.missingTitles += 1
            }
            var company = typedCompany(accountIndex)
            if accountIndex == 0 && i % 4 == 1 || rng.below(100) < 2 {
                company = companyVariant(company, style: i)
                dirt.companyVariants += 1
            }
            let created = past(days: 6 * 365)
            // Recently touched: within the last 2½ years (and after creation).
            let recent = now.adding(seconds: -(912 * 86_400))
            var updated = after(created.secondsSinceEpoch > recent.secondsSinceEpoch ? created : recent)
            let threeYearsAgo = now.adding(seconds: -(3 * 365 * 86_400))
            if rng.below(100) < 16, created.secondsSinceEpoch < threeYearsAgo.secondsSinceEpoch - 86_400 {
                // Untouched for three years or more.
                updated = created.adding(seconds: rng.below(threeYearsAgo.secondsSinceEpoch - created.secondsSinceEpoch))
                dirt.staleContacts += 1
            }
            var verified: String? = rng.below(100) < 40 ? after(created).description : nil
            let place = rng.pick(SampleWords.places)
            let owner = accountOwners[accountIndex]
            let address = address(in: place)
            let stale = updated.secondsSinceEpoch <= threeYearsAgo.secondsSinceEpoch
            let storedPhone = phoneNumber ?? unusablePhone()
            if verified == nil, !stale, let future = impossibleVerification() { verified = future }
            try statement.run(
                first, last, email, storedPhone, title, rng.pick(SampleWords.jobFunctions), company,
                Int64(accountIndex + 1), place.city, place.country, verified, owner, created.description,
                updated.description, address.street, address.region, address.postcode)
            accountContacts[accountIndex].append(Int32(contactAccounts.count))
            contactAccounts.append(Int64(accountIndex + 1))
            contactOwners.append(owner)
            contactCreated.append(created.secondsSinceEpoch)
            if emailIsClean, company == typedCompany(accountIndex), phoneNumber?.hasPrefix("+1 ") == true,
                updated.secondsSinceEpoch > now.secondsSinceEpoch - 3 * 365 * 86_400
            {
                clean.append((first, last, email, phoneNumber, title, accountIndex))
            }
        }
        // Duplicates: copies of clean contacts with one thing changed, as an import would make them.
        for d in 0..<duplicates {
            guard !clean.isEmpty else { break }
            var (first, last, email, phoneNumber, title, accountIndex) = clean[rng.below(clean.count)]
            var company = typedCompany(accountIndex)
            switch d % 4 {
            case 0:
                email = email.uppercased()
                dirt.duplicatesEmailCase += 1
            case 1:
                var letters = Array(last)
                if letters.count >= 3 {
                    letters.swapAt(1, 2)
                    if String(letters) == last { letters[1] = "x" }
                } else {
                    letters.append("e")
                }
                last = String(letters)
                dirt.duplicatesNameTypo += 1
            case 2:
                if let p = phoneNumber {
                    let digits = p.filter(\.isNumber).dropFirst()
                    phoneNumber = "(" + digits.prefix(3) + ") " + digits.dropFirst(3).prefix(3) + "-" + digits.dropFirst(6)
                }
                dirt.duplicatesPhoneFormat += 1
            default:
                company = companyVariant(company, style: d)
                dirt.duplicatesCompanyVariant += 1
            }
            dirt.duplicateContacts += 1
            let created = past(days: 400)
            let place = rng.pick(SampleWords.places)
            let owner = accountOwners[accountIndex]
            let address = address(in: place)
            try statement.run(
                first, last, email, phoneNumber, title, rng.pick(SampleWords.jobFunctions), company,
                Int64(accountIndex + 1), place.city, place.country, bulkNull, owner, created.description,
                after(created).description, address.street, address.region, address.postcode)
            accountContacts[accountIndex].append(Int32(contactAccounts.count))
            contactAccounts.append(Int64(accountIndex + 1))
            contactOwners.append(owner)
            contactCreated.append(created.secondsSinceEpoch)
        }
    }

    // MARK: - Marketing

    /// The campaigns of `SampleWords.campaigns`: each on the channel its name says, dated from today,
    /// its status following the dates (planned, active, completed).
    mutating func campaigns() throws -> [Int64] {
        var ids: [Int64] = []
        let today = now.date
        for (i, campaign) in SampleWords.campaigns.enumerated() {
            let kind: CampaignPlan.Kind
            let leadSource: String
            let setUp: Int
            switch campaign.channel {
            case "event", "webinar":
                kind = .event
                leadSource = campaign.channel == "webinar" ? "webinar" : campaign.name.contains("Trade Show") ? "trade_show" : "event"
                setUp = 75
            case "email": (kind, leadSource, setUp) = (.send, "web", 21)
            case "content": (kind, leadSource, setUp) = (.inbound, "web", 14)
            default: (kind, leadSource, setUp) = (.inbound, "advertising", 14)
            }
            let first = today.adding(days: campaign.starts)
            let last = first.adding(days: campaign.days - 1)
            let status = first > today ? "planned" : last < today ? "completed" : "active"
            let created = min(Timestamp(date: first.adding(days: -setUp), hour: 9), now)
            // Last changed when it went live, or when it was closed the day after it ended.
            let updated =
                status == "planned" ? created : min(now, Timestamp(date: status == "active" ? first : last.adding(days: 1), hour: 9))
            let owner = marketers[i % marketers.count]
            try db.execute(
                sql: Insert.prepared(
                    into: "campaigns",
                    columns: ["name", "channel", "status", "start_date", "end_date", "budget", "owner_id", "created_at", "updated_at"]
                ).sql,
                arguments: [
                    campaign.name, campaign.channel, status, first.description, last.description,
                    Int64(rng.below(50) + 5) * 100_000, owner, created.description, updated.description,
                ])
            ids.append(db.lastInsertedRowID)
            campaignPlans.append(
                CampaignPlan(
                    kind: kind, created: created, start: Timestamp(date: first, hour: 9),
                    end: Timestamp(date: last, hour: 18), over: last < today, leadSource: leadSource))
        }
        campaignMembers = Array(repeating: 0, count: campaignPlans.count)
        return ids
    }

    /// How members answer, in turn, so that even a small company has every answer: at an event that is
    /// over, 35% attended (after an RSVP), 15% RSVPed and did not come, 10% declined, 10% bounced; at
    /// one still to come, RSVPs and declines but no attendance; to an email, 30% responded.
    static let eventOverAnswers = [
        "attended", "invited", "rsvp", "bounced", "attended", "responded", "invited", "attended", "rsvp", "invited",
        "attended", "invited", "responded", "attended", "rsvp", "invited", "attended", "invited", "attended", "bounced",
    ]
    static let eventToComeAnswers = [
        "rsvp", "invited", "responded", "bounced", "invited", "rsvp", "invited", "rsvp", "invited", "responded",
        "rsvp", "invited", "invited", "rsvp", "bounced", "invited", "rsvp", "invited", "responded", "rsvp",
    ]
    static let sendAnswers = [
        "invited", "responded", "bounced", "invited", "invited", "responded", "invited", "invited", "responded", "invited",
    ]

    /// A member of campaign `index`: when they were invited (sent to, or responded to an ad), their
    /// status, when they answered and when the row last changed. Invitations go out after the
    /// campaign was set up — before an event, during an email's run — and answers come after the
    /// invitation and by the event (by the end of an email's run); nothing after now.
    mutating func member(of index: Int) -> (invited: Timestamp, status: String, answered: Timestamp?, updated: Timestamp) {
        let plan = campaignPlans[index]
        let turn = campaignMembers[index]
        campaignMembers[index] += 1
        switch plan.kind {
        case .event:
            let invited = memberRng.instant(plan.created, min(plan.start.adding(seconds: -86_400), now))
            let answers = plan.over ? Self.eventOverAnswers : Self.eventToComeAnswers
            let status = answers[turn % answers.count]
            guard status != "invited" && status != "bounced" else { return (invited, status, nil, invited) }
            let answered = memberRng.instant(invited, min(plan.start, now))
            // Attendance is recorded after the event.
            return (invited, status, answered, status == "attended" ? plan.end : answered)
        case .send:
            let sent = memberRng.instant(plan.start, min(plan.end, now))
            let status = Self.sendAnswers[turn % Self.sendAnswers.count]
            guard status == "responded" else { return (sent, status, nil, sent) }
            let answered = memberRng.instant(sent, min(plan.end, now))
            return (sent, status, answered, answered)
        case .inbound:
            let answered = memberRng.instant(plan.start, min(plan.end, now))
            return (answered, "responded", answered, answered)
        }
    }

    /// Leads, 85% of them brought in by a campaign: imported for an event or an email between the
    /// campaign's set-up and their invitation, or created when they answered an ad or a download.
    mutating func leads(campaignIDs: [Int64]) throws {
        let count = n / 3
        let lead = try db.makeStatement(
            sql: Insert.prepared(
                into: "leads",
                columns: [
                    "first_name", "last_name", "email", "phone", "company", "title", "source", "status", "score", "campaign_id", "owner_id",
                    "created_at", "updated_at",
                ]
            ).sql)
        let memberStatement = try db.makeStatement(
            sql: Insert.prepared(
                into: "campaign_members",
                columns: ["campaign_id", "lead_id", "contact_id", "status", "responded_at", "owner_id", "created_at", "updated_at"]
            ).sql)
        for i in 0..<count {
            let first = rng.pick(SampleWords.firstNames)
            let last = rng.pick(SampleWords.lastNames)
            let word = rng.pick(SampleWords.companyWords), noun = rng.pick(SampleWords.companyNouns)
            let company = word + " " + noun
            let email =
                SampleWords.emailPart(first) + "." + SampleWords.emailPart(last) + String(i) + "@"
                + SampleWords.emailPart(word) + SampleWords.emailPart(noun) + ".com"
            let campaignIndex: Int? = rng.below(100) < 85 ? i % campaignIDs.count : nil
            let source: String
            if let campaignIndex {
                skip()
                source = campaignPlans[campaignIndex].leadSource
            } else {
                source = rng.pick(CRMSchema.leadSources)
            }
            let status = CRMSchema.leadStatuses[i % 7 == 6 ? 0 : i % 6]
            let owner = status == "new" || status == "junk" ? rng.pick(marketers) : rng.pick(salesReps)
            var created: Timestamp
            var membership: (invited: Timestamp, status: String, answered: Timestamp?, updated: Timestamp)?
            if let campaignIndex {
                skip()
                let joined = member(of: campaignIndex)
                let plan = campaignPlans[campaignIndex]
                created = plan.kind == .inbound ? joined.invited : memberRng.instant(plan.created, joined.invited)
                membership = joined
            } else {
                created = past(days: 3 * 365)
            }
            try lead.run(
                first, last, email, rng.below(100) < 30 ? nil : phone(standard: true), company,
                rng.pick(SampleWords.titles), source, status, rng.below(101), campaignIndex.map { campaignIDs[$0] }, owner,
                created.description, after(created).description)
            let leadID = db.lastInsertedRowID
            leadLinks.append(LeadLink(owner: owner, created: created))
            if status != "new" { workedLeads.append(i) }
            if status == "new" || status == "contacted" || status == "qualified" { liveLeads.append(i) }
            if let campaignIndex, let membership {
                // The generator once drew an answer time here for three rounds in five.
                if (1...3).contains((i / campaignIDs.count) % 5) { skip() }
                try memberStatement.run(
                    campaignIDs[campaignIndex], leadID, bulkNull, membership.status, membership.answered?.description,
                    rng.pick(marketers), membership.invited.description, membership.updated.description)
            }
        }
        // Existing customers invited to events and emails too, once they are customers.
        let invitable = campaignPlans.indices.filter { campaignPlans[$0].kind != .inbound }
        let oldest = contactCreated.indices.min { contactCreated[$0] < contactCreated[$1] } ?? 0
        for i in 0..<(n / 20) {
            var contact = rng.below(contactAccounts.count)
            skip()
            let campaignIndex = invitable[i % invitable.count]
            let joined = member(of: campaignIndex)
            var tries = 0
            while contactCreated[contact] > joined.invited.secondsSinceEpoch {
                tries += 1
                if tries == 20 {
                    contact = oldest
                    break
                }
                contact = memberRng.below(contactAccounts.count)
            }
            try memberStatement.run(
                campaignIDs[campaignIndex], bulkNull, Int64(contact + 1), joined.status, joined.answered?.description,
                rng.pick(marketers), joined.invited.description, joined.updated.description)
        }
    }

    // MARK: - Sales and service

    mutating func deals() throws {
        let count = max(20, n * 4 / 15)
        let statement = try db.makeStatement(
            sql: Insert.prepared(
                into: "deals",
                columns: ["name", "account_id", "contact_id", "amount", "stage", "close_date", "owner_id", "created_at", "updated_at"]
            ).sql)
        for i in 0..<count {
            let contactIndex = rng.below(contactAccounts.count)
            let account = contactAccounts[contactIndex]
            let stage = CRMSchema.dealStages[i % CRMSchema.dealStages.count]
            let created = past(days: 4 * 365)
            let closeDate: CivilDate
            var closed: Timestamp?
            if stage == "won" || stage == "lost" {
                let at = after(created)
                closed = at
                closeDate = at.date
            } else {
                closeDate = now.date.adding(days: rng.below(180) - 20)
                openDeals.append(i)
            }
            let amount = Int64(rng.below(200) + 1) * 50_000 + Int64(rng.below(100)) * 100
            let name = accountNames[Int(account) - 1] + " — " + rng.pick(SampleWords.dealWords)
            try statement.run(
                name, account, Int64(contactIndex + 1), amount, stage, closeDate.description,
                contactOwners[contactIndex], created.description, after(created).description)
            dealLinks.append(
                DealLink(
                    account: account, contact: Int64(contactIndex + 1), owner: contactOwners[contactIndex], created: created,
                    closed: closed))
        }
    }

    mutating func tickets() throws {
        let count = max(10, n * 2 / 5)
        let statement = try db.makeStatement(
            sql: Insert.prepared(
                into: "tickets",
                columns: [
                    "subject", "description", "status", "priority", "category", "contact_id", "account_id", "assignee_id", "opened_at",
                    "closed_at", "owner_id", "created_at", "updated_at",
                ]
            ).sql)
        for i in 0..<count {
            let (subject, category) = rng.pick(SampleWords.ticketSubjects)
            let contactIndex = rng.below(contactAccounts.count)
            let status = CRMSchema.ticketStatuses[i % CRMSchema.ticketStatuses.count]
            let priority = CRMSchema.ticketPriorities[rng.below(10) < 6 ? 1 : rng.below(4)]
            // Open tickets are recent (some only hours old); closed ones spread over years.
            let opened = status == "resolved" || status == "closed" ? past(days: 3 * 365) : past(days: rng.below(4) == 0 ? 1 : 60)
            // Time to close by priority, as a support team works: urgent within a day, high within
            // three, normal within ten, low within a month (one draw, as before, so the rest of the
            // company is the same).
            let hours = ["urgent": 24, "high": 72, "normal": 240, "low": 720][priority] ?? 240
            let closed: Timestamp? =
                status == "resolved" || status == "closed"
                ? opened.adding(seconds: min(1800 + rng.below(hours * 3600), max(60, now.secondsSinceEpoch - opened.secondsSinceEpoch)))
                : nil
            let assignee = rng.pick(supportReps)
            try statement.run(
                subject, "Reported by the customer: " + subject.lowercased() + ".", status, priority, category,
                Int64(contactIndex + 1), contactAccounts[contactIndex], assignee, opened.description, closed?.description,
                assignee, opened.description, (closed?.description ?? after(opened).description))
            ticketLinks.append(
                TicketLink(
                    account: contactAccounts[contactIndex], contact: Int64(contactIndex + 1), assignee: assignee, opened: opened,
                    closed: closed))
            if closed == nil { openTickets.append(i) }
        }
    }

    /// Someone other than `owner` who works on the owner's deals: a support rep, a colleague of the
    /// same team, the team's manager, any sales rep (often of the other team), an executive.
    mutating func colleague(of owner: Int64) -> Int64 {
        let team = userTeams[Int(owner) - 1]
        var other: Int64
        switch rng.below(10) {
        case 0, 1, 2: other = rng.pick(supportReps)
        case 3, 4, 5: other = rng.pick(teamMembers[team])
        case 6, 7: other = teamManagers[team] ?? rng.pick(salesReps)
        case 8: other = rng.pick(salesReps)
        default: other = executives.isEmpty ? rng.pick(salesReps) : rng.pick(executives)
        }
        return other == owner ? rng.pick(supportReps) : other
    }

    /// Someone other than a lead's owner who works it: a sales rep on marketing's leads (the hand-off),
    /// marketing or the owner's manager on a rep's leads.
    mutating func leadHelper(of owner: Int64) -> Int64 {
        let role = userRoles[Int(owner) - 1]
        if role == "marketing_rep" || role == "marketing_manager" { return rng.pick(salesReps) }
        let other = rng.below(2) == 0 ? rng.pick(marketers) : teamManagers[userTeams[Int(owner) - 1]] ?? rng.pick(marketers)
        return other == owner ? rng.pick(marketers) : other
    }

    /// Activities: about a deal (36%: calls, emails and meetings on the deal's account and contact,
    /// between its creation and its close, about a third logged by someone other than its owner),
    /// about a lead (12%: outreach, no contact or account yet), about a ticket (16%: support calls and
    /// emails on the ticket's contact, while it is open), or on a contact alone (the rest).
    mutating func activities() throws {
        let count = n * 5 / 3
        let statement = try db.makeStatement(
            sql: Insert.prepared(
                into: "activities",
                columns: [
                    "kind", "subject", "body", "contact_id", "account_id", "lead_id", "deal_id", "ticket_id", "occurred_at", "owner_id",
                    "created_at", "updated_at",
                ]
            ).sql)
        for _ in 0..<count {
            let roll = rng.below(100)
            let kind: String, subject: String, occurred: Timestamp, owner: Int64
            var contact: Int64?, account: Int64?, lead: Int64?, deal: Int64?, ticket: Int64?
            if roll < 36, !dealLinks.isEmpty {
                let index = rng.below(dealLinks.count)
                let link = dealLinks[index]
                kind = SampleWords.dealActivityKinds[rng.below(SampleWords.dealActivityKinds.count)]
                subject = rng.pick(SampleWords.dealActivitySubjects[kind] ?? ["Note"])
                occurred = between(link.created, link.closed ?? now)
                owner = rng.below(100) < 36 ? colleague(of: link.owner) : link.owner
                // The deal's contact, or another person at the account (the meeting had several).
                let people = accountContacts[Int(link.account) - 1]
                contact = rng.below(10) < 6 || people.isEmpty ? link.contact : Int64(people[rng.below(people.count)]) + 1
                account = link.account
                deal = Int64(index + 1)
            } else if roll < 48, !workedLeads.isEmpty {
                let index = workedLeads[rng.below(workedLeads.count)]
                let link = leadLinks[index]
                kind = SampleWords.leadActivityKinds[rng.below(SampleWords.leadActivityKinds.count)]
                subject = rng.pick(SampleWords.leadActivitySubjects[kind] ?? ["Note"])
                occurred = between(link.created, now)
                owner = rng.below(100) < 36 ? leadHelper(of: link.owner) : link.owner
                lead = Int64(index + 1)
            } else if roll < 64, !ticketLinks.isEmpty {
                let index = rng.below(ticketLinks.count)
                let link = ticketLinks[index]
                kind = SampleWords.ticketActivityKinds[rng.below(SampleWords.ticketActivityKinds.count)]
                subject = rng.pick(SampleWords.ticketActivitySubjects[kind] ?? ["Note"])
                occurred = between(link.opened, link.closed ?? now)
                // Mostly the assignee; sometimes another support rep, or the account's sales rep.
                let who = rng.below(100)
                owner = who < 72 ? link.assignee : who < 86 ? rng.pick(supportReps) : accountOwners[Int(link.account) - 1]
                contact = link.contact
                account = link.account
                ticket = Int64(index + 1)
            } else {
                kind = rng.pick(CRMSchema.activityKinds)
                subject = rng.pick(SampleWords.activitySubjects[kind] ?? ["Note"])
                let contactIndex = rng.below(contactAccounts.count)
                occurred = past(days: 3 * 365)
                owner = contactOwners[contactIndex]
                contact = Int64(contactIndex + 1)
                account = contactAccounts[contactIndex]
            }
            let at = occurred.description
            try statement.run(kind, subject, bulkNull, contact, account, lead, deal, ticket, at, owner, at, at)
        }
    }

    /// Tasks: follow-ups on a deal (36%), a lead (10%), a ticket (16%) or a contact alone (the rest).
    /// Open tasks are on deals, leads and tickets still open. The owner asked for the task, the
    /// assignee does it: a manager delegates, a colleague or a support rep covers, marketing hands a
    /// lead to sales.
    mutating func tasks() throws {
        let count = n / 2
        let statement = try db.makeStatement(
            sql: Insert.prepared(
                into: "tasks",
                columns: [
                    "title", "status", "due_date", "assignee_id", "contact_id", "account_id", "lead_id", "deal_id", "ticket_id",
                    "completed_at", "owner_id", "created_at", "updated_at",
                ]
            ).sql)
        for i in 0..<count {
            let status = CRMSchema.taskStatuses[i % 10 < 5 ? 0 : i % 10 < 6 ? 1 : i % 10 < 9 ? 2 : 3]
            let isOpen = status == "open" || status == "in_progress"
            let roll = rng.below(100)
            let title: String, owner: Int64, assignee: Int64, created: Timestamp
            // Done and cancelled tasks are settled while their record is open.
            var end = now
            var contact: Int64?, account: Int64?, lead: Int64?, deal: Int64?, ticket: Int64?
            if roll < 36, !(isOpen ? openDeals.isEmpty : dealLinks.isEmpty) {
                let index = isOpen ? openDeals[rng.below(openDeals.count)] : rng.below(dealLinks.count)
                let link = dealLinks[index]
                end = link.closed ?? now
                title = rng.pick(SampleWords.dealTaskTitles)
                created = taskCreated(link.created, end)
                let who = rng.below(100)
                if who < 50 {
                    (owner, assignee) = (link.owner, link.owner)
                } else if who < 65 {
                    // The manager asks the deal's owner.
                    (owner, assignee) = (teamManagers[userTeams[Int(link.owner) - 1]] ?? link.owner, link.owner)
                } else {
                    assignee = colleague(of: link.owner)
                    owner = rng.below(2) == 0 ? link.owner : assignee
                }
                contact = link.contact
                account = link.account
                deal = Int64(index + 1)
            } else if roll < 46, !(isOpen ? liveLeads.isEmpty : workedLeads.isEmpty) {
                let index = isOpen ? liveLeads[rng.below(liveLeads.count)] : workedLeads[rng.below(workedLeads.count)]
                let link = leadLinks[index]
                title = rng.pick(SampleWords.leadTaskTitles)
                created = taskCreated(link.created, now)
                owner = link.owner
                assignee = rng.below(100) < 60 ? link.owner : leadHelper(of: link.owner)
                lead = Int64(index + 1)
            } else if roll < 62, !(isOpen ? openTickets.isEmpty : ticketLinks.isEmpty) {
                let index = isOpen ? openTickets[rng.below(openTickets.count)] : rng.below(ticketLinks.count)
                let link = ticketLinks[index]
                end = link.closed ?? now
                title = rng.pick(SampleWords.ticketTaskTitles)
                created = taskCreated(link.opened, end)
                owner = link.assignee
                let who = rng.below(100)
                assignee = who < 75 ? link.assignee : who < 90 ? rng.pick(supportReps) : accountOwners[Int(link.account) - 1]
                contact = link.contact
                account = link.account
                ticket = Int64(index + 1)
            } else {
                title = rng.pick(SampleWords.taskTitles)
                let contactIndex = rng.below(contactAccounts.count)
                (owner, assignee) = (contactOwners[contactIndex], contactOwners[contactIndex])
                created = past(days: 365)
                contact = Int64(contactIndex + 1)
                account = contactAccounts[contactIndex]
            }
            let due = isOpen ? now.date.adding(days: rng.below(40) - 10) : between(created, end).date
            let completed: Timestamp? = status == "done" ? between(created, end) : nil
            let updated = completed ?? after(created)
            try statement.run(
                title, status, due.description, assignee, contact, account, lead, deal, ticket, completed?.description, owner,
                created.description, updated.description)
        }
    }

    // MARK: - Bookkeeping

    func recordDirt() throws {
        var rows: [(String, String)] = [("seed", String(options.seed)), ("contacts", String(options.contacts))]
        for (key, path) in PlantedDirt.keys { rows.append((key, String(dirt[keyPath: path]))) }
        for (key, value) in rows {
            try db.execute(
                Insert(into: "rolo_meta", [("key", ("sample." + key).databaseValue), ("value", value.databaseValue)]).replacing().sql)
        }
    }
}

extension SplitMix64 {
    /// A timestamp in `from..<to` (`from` itself when the span is empty).
    mutating func instant(_ from: Timestamp, _ to: Timestamp) -> Timestamp {
        from.adding(seconds: below(max(1, to.secondsSinceEpoch - from.secondsSinceEpoch)))
    }
}
