import GRDB
import RoloStore
import RoloSyntax

/// `DataAudit`'s findings over groups of records (duplicates, conflicts) and over spellings
/// (uniform entry).
extension DataAudit {
    /// Groups listed by a `find … in (…)`: at most this many keys.
    static let listedKeys = 20

    struct KeyGroups {
        var duplicates: [AuditReport.Finding] = []
        var conflicts: [AuditReport.Finding] = []
        var notes: [String] = []
    }

    /// One record as the group findings compare it.
    struct Member {
        var id: Int64
        var key: String
        var name: String
        var company: String
    }

    // MARK: - 3 and 4. Duplicates, and one email (or website) with different names or companies

    /// `members`: the contacts or leads sharing an email, when already read (`members(_:in:_:)`).
    func keyGroups(_ valuableIDs: Set<Int64>, _ part: Part, _ companyKeys: CompanyKeys, members read: [Member]? = nil) throws -> KeyGroups {
        var result = KeyGroups()
        let keyField = name == "accounts" ? "name" : "email"
        guard has(keyField) else {
            result.notes = notLookedAt([keyField])
            return result
        }
        let members =
            try name == "accounts"
            ? accountMembers(companyKeys) : read ?? memberQuery(part).map { try Self.members($0, in: db, companyKeys) } ?? []
        var groups: [String: [Member]] = [:]
        for member in members { groups[member.key, default: []].append(member) }
        let shared = groups.values.filter { $0.count > 1 }.sorted { ($0.count, $1[0].id) > ($1.count, $0[0].id) }
        let extra = shared.reduce(0) { $0 + $1.count - 1 }
        let how = name == "accounts" ? "a name (legal suffix, case and punctuation aside)" : "a valid email (case aside)"
        result.duplicates.append(
            AuditReport.Finding(
                key: "duplicates", title: "duplicate \(name) in \(AuditReport.number(shared.count)) groups sharing \(how)", count: extra,
                valuable: shared.filter { $0.contains { valuableIDs.contains($0.id) } }.count,
                examples: try groupExamples(shared, valuableIDs), list: "dedupe \(name)",
                fix: "dedupe \(name) to \"merge-\(name).rolo\", review the plan, run it with --dry-run, then run it",
                rule: nil))
        guard name != "accounts" else {
            result.conflicts += try websiteConflicts(members, valuableIDs)
            return result
        }
        // One email on records with different names, or at different companies.
        let differentNames = shared.filter { Set($0.map(\.name)).count > 1 }
        result.conflicts.append(
            try groupFinding(
                "email_names", "emails on \(name) with different names", differentNames, valuableIDs,
                fix: "decide who the address belongs to; dedupe merges those that are one person"))
        if has("company") {
            let differentCompanies = shared.filter { Set($0.map(\.company).filter { !$0.isEmpty }).count > 1 }
            result.conflicts.append(
                try groupFinding(
                    "person_companies", "people (one email) at different companies", differentCompanies, valuableIDs,
                    fix: "update the company that is out of date; verify the record once it is checked"))
        }
        return result
    }

    /// How to read the contacts or leads with a valid email another record shares (as SQL's
    /// NOCASE compares them, counted by the pass), so a million contacts are not all read into
    /// memory; nil when there are none (or for accounts).
    struct MemberQuery: Sendable {
        var sql: SQLFragment
        var names: (first: Bool, last: Bool)
        var company: Bool
    }

    func memberQuery(_ part: Part) -> MemberQuery? {
        guard name != "accounts", has("email") else { return nil }
        let ids = zip(part.keyEntries, part.keyIDs).filter { part.emailKeys.entries[$0.0].count > 1 }.map(\.1)
        guard !ids.isEmpty else { return nil }
        let email = Sql.column("t0", "email")
        var columns = [Sql.id("t0"), email, Sql.column("t0", "first_name"), Sql.column("t0", "last_name")]
        if has("company") { columns.append(Sql.column("t0", "company")) }
        let query = Select(columns, from: name, as: "t0").where(filtered([Sql.in(Sql.id("t0"), ids.map { Sql.value($0) })])).ordered(by: Sql.id("t0"))
        return MemberQuery(sql: query.sql, names: (!hidden.contains("first_name"), !hidden.contains("last_name")), company: has("company"))
    }

    /// Those contacts or leads: the email's key, the name's, the company's.
    static func members(_ query: MemberQuery, in db: Database, _ companyKeys: CompanyKeys) throws -> [Member] {
        var members: [Member] = []
        let cursor = try Row.fetchCursor(db, query.sql)
        while let row = try cursor.next() {
            let first = query.names.first ? (try row.decode(String?.self, atIndex: 2) ?? "") : ""
            let last = query.names.last ? (try row.decode(String?.self, atIndex: 3) ?? "") : ""
            let company = query.company ? (try row.decode(String?.self, atIndex: 4) ?? "") : ""
            members.append(
                Member(
                    id: try row.decode(atIndex: 0), key: (try row.decode(String.self, atIndex: 1)).trimmingCharacters(in: .whitespaces).lowercased(),
                    name: DuplicateDetector.nameKey(first) + " " + DuplicateDetector.nameKey(last),
                    company: company.isEmpty ? "" : companyKeys.key(company)))
        }
        return members
    }

    /// Accounts by their name's company key; `company` holds the website's key.
    func accountMembers(_ companyKeys: CompanyKeys) throws -> [Member] {
        let query = Select([Sql.id("t0"), Sql.column("t0", "name"), Sql.column("t0", "website")], from: name, as: "t0").where(filtered([]))
        var members: [Member] = []
        let cursor = try Row.fetchCursor(db, query.sql)
        while let row = try cursor.next() {
            let name: String = try row.decode(String?.self, atIndex: 1) ?? ""
            let website = hidden.contains("website") ? "" : (try row.decode(String?.self, atIndex: 2) ?? "")
            members.append(
                Member(
                    id: try row.decode(atIndex: 0), key: companyKeys.key(name), name: companyKeys.key(name),
                    company: website.isEmpty ? "" : DuplicateDetector.websiteKey(website)))
        }
        return members
    }

    /// One website on accounts whose names are different companies.
    func websiteConflicts(_ members: [Member], _ valuableIDs: Set<Int64>) throws -> [AuditReport.Finding] {
        guard has("website") else { return [] }
        var byWebsite: [String: [Member]] = [:]
        for member in members where !member.company.isEmpty { byWebsite[member.company, default: []].append(member) }
        let conflicting = byWebsite.values.filter { Set($0.map(\.name)).count > 1 }.sorted { $0[0].id < $1[0].id }
        return [
            try groupFinding(
                "website_names", "websites shared by accounts with different names", conflicting, valuableIDs,
                fix: "correct the website that belongs to another company")
        ]
    }

    /// A finding counting groups, with a `find` of the first groups' keys.
    func groupFinding(
        _ key: String, _ title: String, _ groups: [[Member]], _ valuableIDs: Set<Int64>, fix: String
    ) throws -> AuditReport.Finding {
        var list: String? = nil
        if !groups.isEmpty {
            let ids = groups.prefix(Self.listedKeys).flatMap { $0.map(\.id) }
            list = "find \(name) where id in (\(ids.map(String.init).joined(separator: ", ")))"
                + (groups.count > Self.listedKeys ? "  (the first \(Self.listedKeys) groups of \(groups.count))" : "")
        }
        return AuditReport.Finding(
            key: key, title: title, count: groups.count, valuable: groups.filter { $0.contains { valuableIDs.contains($0.id) } }.count,
            examples: try groupExamples(groups, valuableIDs), list: list, fix: fix)
    }

    /// "Ana Ruiz (contact 42) = Ana Ruiz (contact 2990)" for a few groups, valuable ones first.
    func groupExamples(_ groups: [[Member]], _ valuableIDs: Set<Int64>) throws -> [String] {
        let ranked = groups.filter { $0.contains { valuableIDs.contains($0.id) } } + groups.filter { !$0.contains { valuableIDs.contains($0.id) } }
        return try ranked.prefix(Self.examplesShown).map { group in
            try titles(Array(group.map(\.id).sorted().prefix(3))).joined(separator: " = ") + (group.count > 3 ? " = …" : "")
        }
    }

    // MARK: - 4. A contact's company against its account

    func accountConflicts(_ scan: Scan, _ valuableIDs: Set<Int64>) throws -> (findings: [AuditReport.Finding], notes: [String]) {
        guard name == "contacts", has("company"), has("account_id") else { return ([], []) }
        let accounts = CRMSchema.accounts
        let decision = engine.access.decide(.read, on: accounts.name)
        guard decision.deniedBy == nil, decision.scope != nil, !engine.access.readVisibility(accounts).hiddenFields.contains("name") else {
            return ([], ["(companies not compared with their accounts: \(engine.access.actor.handle) may not read accounts' names)"])
        }
        var accountName: [Int64: String] = [:]
        let names = Select([Sql.id("t0"), Sql.column("t0", "name")], from: accounts.name, as: "t0")
            .where(engine.access.readFilter(accounts))
        for row in try Row.fetchAll(db, names.sql) { accountName[try row.decode(atIndex: 0)] = try row.decode(String?.self, atIndex: 1) }
        var count = 0
        var pairs: [(company: String, account: Int64, count: Int, first: Int64, valuable: Int)] = []
        // A company's name without its legal suffix, as `normalize` compares them ("Acme" and
        // "ACME, Inc." are one company), each text's key worked out once.
        func companyName(_ text: String) -> Substring {
            scan.companyKeys.key(text).split(separator: "|", omittingEmptySubsequences: false).first ?? ""
        }
        for (pair, spelling) in scan.pairs {
            guard let official = accountName[pair.account], companyName(official) != companyName(pair.company) else { continue }
            count += spelling.count
            pairs.append((pair.company, pair.account, spelling.count, spelling.first, spelling.valuable))
        }
        pairs.sort { ($0.count, $1.first) > ($1.count, $0.first) }
        let listed = pairs.prefix(Self.listedKeys).map { "(company = \(Self.quoted($0.company)) and account = \($0.account))" }
        let finding =
            AuditReport.Finding(
                key: "company_account", title: "\(name) whose company is not their account's", count: count,
                valuable: pairs.reduce(0) { $0 + $1.valuable },
                examples: try examples(ids: pairs.map(\.first), valuableIDs: valuableIDs),
                list: listed.isEmpty
                    ? nil
                    : "find \(name) where " + listed.joined(separator: " or ")
                        + (pairs.count > Self.listedKeys ? "  (the first \(Self.listedKeys) spellings of \(pairs.count))" : ""),
                fix: "update the company text, or link the right account: update contact N set account = \"…\"")
        return ([finding], [])
    }

    /// A Rolo string literal.
    static func quoted(_ text: String) -> String {
        "\"" + TerminalText.safe(text).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
