import GRDB
import RoloStore
import RoloSyntax

/// The seven steps of `DataAudit`, in order.
extension DataAudit {
    func run() throws -> AuditReport {
        var report = AuditReport(
            entity: name, records: 0, date: engine.clock.now().description, user: engine.access.actor.handle, decayMonths: decayMonths,
            sections: [])
        // Steps 2, 3 and 7's condition findings, step 5's completeness and the spellings, in one
        // read of the records.
        let incorrect = incorrectFindings
        let decay = decayFindings
        let fields = completenessFields
        let findings = incorrect + decay
        let (part, second) = try readRecords(findings)
        defer {
            if let second {
                second.finish()
                try? db.execute(Sql.commit)
            }
        }
        let valuableIDs = Set(part.valuable)
        // The decay findings' examples are ordered in SQL (oldest first): the second connection
        // finds them, and reads the records sharing an email, while this one works out the rest.
        let ordered = try findings.indices.compactMap { index -> (index: Int, queries: [Select])? in
            guard let by = findings[index].orderBy, part.counts[index] > 0 else { return nil }
            return (index, exampleQueries(try bind(findings[index].condition), order: Sql.column("t0", by)))
        }
        let memberQuery = memberQuery(part)
        second?.ask(ordered.map(\.queries), valuable: part.valuable, members: memberQuery)
        func measured(_ index: Int, examples ids: [Int64]) throws -> AuditReport.Finding {
            let finding = findings[index]
            return AuditReport.Finding(
                key: finding.key, title: finding.title, count: part.counts[index], valuable: part.valuableCounts[index],
                examples: part.counts[index] == 0 ? [] : try titles(ids),
                list: "find \(name) where \(finding.condition)" + (finding.orderBy.map { " order by \($0)" } ?? ""), fix: finding.fix,
                rule: finding.rule)
        }
        let incorrectMeasured = try incorrect.indices.map { index in
            try measured(index, examples: Array((part.firstValuable[index] + part.firstOther[index]).prefix(Self.examplesShown)))
        }
        // The pass's count(*) is every record the user may read: steps 1 and 2 need it.
        let records = part.records
        report.records = records
        report.sections.append(try locate(records))
        report.sections.append(prioritise(valuableIDs.count, records))
        let completeness = fields.enumerated().map { index, field in AuditReport.Completeness(field: field, filled: part.filled[index]) }

        let scan = scan(part)
        // Steps 4's companies against their accounts and 6 first: the second connection reads
        // the records sharing an email meanwhile.
        let accountFindings = try accountConflicts(scan, valuableIDs)
        let uniform = try uniformFindings(scan, valuableIDs)
        let answer = second?.answer()
        var orderedIDs: [[Int64]]
        if let found = answer?.examples {
            orderedIDs = found
        } else {
            try rememberValuable(part.valuable)
            defer { dropValuable() }
            orderedIDs = try ordered.map { try Self.exampleIDs($0.queries, in: db) }
        }
        let groups = try keyGroups(valuableIDs, part, scan.companyKeys, members: answer?.members)

        var step3 = AuditReport.Section(step: 3, name: "Duplicates and incorrect data")
        step3.findings = Self.ranked(groups.duplicates + incorrectMeasured)
        step3.lines = notLookedAt(["email", "phone"] + (name == "accounts" ? ["name", "website"] : []))
        report.sections.append(step3)

        var step4 = AuditReport.Section(step: 4, name: "Conflicts")
        step4.findings = Self.ranked(groups.conflicts + accountFindings.findings)
        step4.lines = groups.notes + accountFindings.notes
        report.sections.append(step4)

        var step5 = AuditReport.Section(step: 5, name: "Missing data")
        step5.completeness = completeness
        step5.lines = notLookedAt(completenessCandidates)
        report.sections.append(step5)

        var step6 = AuditReport.Section(step: 6, name: "Uniform entry")
        step6.findings = Self.ranked(uniform)
        report.sections.append(step6)

        var step7 = AuditReport.Section(step: 7, name: "Decay")
        step7.lines = ["neither updated nor verified in \(decayMonths) months, per decaying field (oldest first):"]
        step7.findings = try decay.indices.map { offset in
            let index = incorrect.count + offset
            return try measured(index, examples: ordered.firstIndex { $0.index == index }.map { orderedIDs[$0] } ?? [])
        }
        report.sections.append(step7)
        return report
    }

    /// Findings with something to fix first, then by how many valuable records they touch.
    static func ranked(_ findings: [AuditReport.Finding]) -> [AuditReport.Finding] {
        findings.enumerated().sorted { a, b in
            (a.element.valuable, a.element.count, -a.offset) > (b.element.valuable, b.element.count, -b.offset)
        }.map(\.element)
    }

    /// "(phone not looked at: alice may not read it)" for the fields the user may not read.
    func notLookedAt(_ fields: [String]) -> [String] {
        let unseen = fields.filter { entity.field(named: $0) != nil && hidden.contains($0) }
        guard !unseen.isEmpty else { return [] }
        return ["(\(unseen.joined(separator: ", ")) not looked at: \(engine.access.actor.handle) may not read \(unseen.count == 1 ? "it" : "them"))"]
    }

    // MARK: - 1. Locate

    func locate(_ records: Int) throws -> AuditReport.Section {
        var section = AuditReport.Section(step: 1, name: "Locate")
        section.lines.append("\(AuditReport.number(records)) \(name)")
        if has("owner_id") {
            let owners = try grouped(Sql.column("t0", "owner_id"))
            let users = try Row.fetchAll(db, Select(Select.columns(["id", "handle", "team_id"]), from: "users").sql)
            let teams = try Row.fetchAll(db, Select(Select.columns(["id", "name"]), from: "teams").sql)
            var handle: [Int64: String] = [:]
            var teamOf: [Int64: Int64] = [:]
            for user in users {
                handle[try user.decode(atIndex: 0)] = try user.decode(atIndex: 1)
                if let team: Int64 = try user.decode(Int64?.self, atIndex: 2) { teamOf[try user.decode(atIndex: 0)] = team }
            }
            var teamName: [Int64: String] = [:]
            for team in teams { teamName[try team.decode(atIndex: 0)] = try team.decode(atIndex: 1) }
            var byTeam: [String: Int] = [:]
            for (owner, count) in owners {
                let team = Int64.fromDatabaseValue(owner).flatMap { teamOf[$0] }.flatMap { teamName[$0] } ?? "no team"
                byTeam[team, default: 0] += count
            }
            section.lines.append("by owner: " + Self.top(owners.map { (Int64.fromDatabaseValue($0.0).flatMap { handle[$0] } ?? "nobody", $0.1) }))
            section.lines.append("by team: " + Self.top(byTeam.map { ($0.key, $0.value) }))
        }
        if has("source") {
            section.lines.append("by source: " + Self.top(try grouped(Sql.column("t0", "source")).map { (String.fromDatabaseValue($0.0) ?? "none", $0.1) }))
        } else if has("account_id") {
            let linked = try Int.fetchOne(
                db, Select(Self.countWhere(Sql.isNotNull(Sql.column("t0", "account_id"))), from: name, as: "t0").where(filtered([])).sql) ?? 0
            section.lines.append("by source: \(name) have no source field; \(AuditReport.number(linked)) linked to an account, \(AuditReport.number(records - linked)) not")
        }
        return section
    }

    /// Counts per value of a column (as text), under the read filter.
    func grouped(_ column: SQLFragment) throws -> [(DatabaseValue, Int)] {
        try Row.fetchAll(db, Select([column, Sql.countAll], from: name, as: "t0").where(filtered([])).grouped(by: [column]).sql).map {
            ($0[0] as DatabaseValue, try $0.decode(Int.self, atIndex: 1))
        }
    }

    /// "alice 812 · bob 700 · … and 3 more", largest first.
    static func top(_ counts: [(String, Int)], shown: Int = 6) -> String {
        let sorted = counts.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        let text = sorted.prefix(shown).map { "\(TerminalText.safe($0.0)) \(AuditReport.number($0.1))" }.joined(separator: " · ")
        return sorted.count > shown ? text + " · … \(sorted.count - shown) more" : (text.isEmpty ? "none" : text)
    }

    // MARK: - 2. Prioritise

    func prioritise(_ valuable: Int, _ records: Int) -> AuditReport.Section {
        var section = AuditReport.Section(step: 2, name: "Prioritise")
        let percent = records == 0 ? 0 : (valuable * 1000 / records)
        section.lines = [
            "\(AuditReport.number(valuable)) valuable (\(percent / 10).\(percent % 10)%): \(valueCondition)",
            "\(AuditReport.number(records - valuable)) cold; the findings below rank by how many valuable records they touch",
            "list: find \(name) where \(valueCondition)",
        ]
        return section
    }

    // MARK: - 3 and 7. Condition findings

    var incorrectFindings: [ConditionFinding] {
        var findings: [ConditionFinding] = []
        if has("email") {
            findings.append(
                ConditionFinding(
                    key: "invalid_emails", title: "emails that are not addresses", condition: "email is not valid email",
                    fix: "correct each one (update \(entity.singular) N set email = …), or clear them: update \(name) where email is not valid email set email = null --dry-run",
                    rule: "rule \(name).email must be valid email"))
        }
        if has("phone") {
            findings.append(
                ConditionFinding(
                    key: "unusable_phones", title: "phones that cannot be numbers", condition: "phone is not valid phone",
                    fix: "update \(name) where phone is not valid phone set phone = null --dry-run",
                    rule: "rule \(name).phone must be valid phone"))
        }
        var impossible = ["created_at > now", "updated_at < created_at"]
        if has("last_verified_at") { impossible.insert("last_verified_at > now", at: 0) }
        if has("customer_since") { impossible.append("customer_since > today") }
        findings.append(
            ConditionFinding(
                key: "impossible_dates", title: "records with impossible dates (in the future, or updated before created)",
                condition: impossible.joined(separator: " or "), fix: "correct each one with update; verify sets last_verified_at to now"))
        return findings
    }

    /// What decays (the data-governance article's list), as this entity holds it.
    var decayingFields: [(field: String, label: String)] {
        switch name {
        case "contacts":
            return [
                ("title", "title"), ("job_function", "job_function"), ("email", "email"), ("company", "company"), ("phone", "phone"),
                ("street", "postal address"),
            ]
        case "accounts": return [("website", "website"), ("phone", "phone"), ("city", "postal address"), ("annual_revenue", "value")]
        default: return [("title", "title"), ("email", "email"), ("company", "company"), ("phone", "phone")]
        }
    }

    var decayFindings: [ConditionFinding] {
        let old = "updated_at < \(decayMonths) months ago and (last_verified_at is empty or last_verified_at < \(decayMonths) months ago)"
        let stale = has("last_verified_at") ? old : "updated_at < \(decayMonths) months ago"
        return decayingFields.filter { has($0.field) }.map { field, label in
            ConditionFinding(
                key: "decayed_\(field)", title: "\(name) whose \(label) was neither updated nor verified in \(decayMonths) months",
                condition: "\(field) is not empty and \(stale)",
                fix: has("last_verified_at") ? "check them, then verify \(name) where … (or update what changed)" : "check them, then update what changed",
                orderBy: "updated_at", parts: ["\(field) is not empty", stale])
        }
    }

    // MARK: - 5. Missing data

    var completenessCandidates: [String] {
        entity.fields.filter { !$0.system && $0.name != "id" && $0.name != "owner_id" && !$0.required && $0.type != .boolean }.map(\.name)
    }

    var completenessFields: [String] { completenessCandidates.filter { !hidden.contains($0) } }
}
