import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Every built-in role × action × entity on the sample company, against docs/roles.md written out
/// by hand below — never against `BuiltinRoles` or the engine's policy, so a wrong shipped rule fails
/// here instead of being both enforced and expected.
///
/// For each role, a user holding exactly that role runs real commands on three kinds of record per
/// entity, picked by SQL over the raw tables: two of their own, two owned (or assigned) by a
/// teammate, and two owned by someone outside their team. What the literal table allows succeeds;
/// what it refuses is refused before anything is written and audited as refused — answered as a
/// missing record when the user may not even read it. Team scope: a teammate's record is in, another
/// team's is out; own scope: a teammate's record is out. Field-limited rules: a denied field reads as
/// `(hidden)` and counts as empty while another field of the record reads normally; a field-limited
/// update allows its fields and refuses the others.
@Suite("Permission matrix")
struct PermissionMatrixTests {
    // MARK: - docs/roles.md, written out by hand

    enum Reach: Int, Comparable, Sendable, CustomStringConvertible {
        case own = 1, team, all
        static func < (a: Reach, b: Reach) -> Bool { a.rawValue < b.rawValue }
        var description: String { ["", "own", "team", "all"][rawValue] }
    }

    /// One cell of a role's matrix: the scope, and for a field-limited allow the fields it names, for a
    /// field-limited deny the fields it removes.
    struct Right: Equatable, Sendable {
        var reach: Reach
        var onlyFields: Set<String>? = nil
        var deniedFields: Set<String> = []
    }

    static let columns = ["read", "create", "update", "delete", "assign", "merge", "export", "import"]

    /// The matrices of docs/roles.md ("Each role's matrix and rules, as `show role` prints them"), row
    /// for row. An entity missing from a role's matrix has no rights at all. The test below also checks
    /// that each row still stands in docs/roles.md, so the docs and this table cannot drift apart.
    static let documentedMatrix: [(role: String, rows: String)] = [
        (
            "admin",
            """
             teams            │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             users            │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             roles            │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             role_permissions │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             user_roles       │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             accounts         │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             contacts         │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             campaigns        │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             leads            │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             deals            │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             tickets          │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             activities       │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             tasks            │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             campaign_members │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             audit_log        │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
            """
        ),
        (
            "sales_manager",
            """
             teams            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             users            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             roles            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             accounts         │ all  │ all    │ team   │ -      │ team   │ team  │ team   │ team
             contacts         │ all  │ all    │ team   │ -      │ team   │ team  │ team   │ team
             campaigns        │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             leads            │ all  │ -      │ team   │ -      │ team   │ -     │ -      │ -
             deals            │ all  │ all    │ team   │ -      │ team   │ -     │ team   │ -
             tickets          │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             activities       │ all  │ all    │ -      │ -      │ -      │ -     │ -      │ -
             tasks            │ all  │ all    │ team   │ team   │ team   │ -     │ -      │ -
             campaign_members │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
            """
        ),
        (
            "sales_rep",
            """
             teams      │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             users      │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             roles      │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             accounts   │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             contacts   │ all  │ all    │ own    │ -      │ -      │ -     │ -      │ -
             campaigns  │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             leads      │ own  │ -      │ own    │ -      │ -      │ -     │ -      │ -
             deals      │ own  │ all    │ own    │ -      │ -      │ -     │ -      │ -
             tickets    │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             activities │ all  │ all    │ own    │ -      │ -      │ -     │ -      │ -
             tasks      │ own  │ all    │ own    │ -      │ -      │ -     │ -      │ -
            """
        ),
        (
            "support_rep",
            """
             teams      │ all  │ -      │ -                                        │ -      │ -      │ -     │ -      │ -
             users      │ all  │ -      │ -                                        │ -      │ -      │ -     │ -      │ -
             roles      │ all  │ -      │ -                                        │ -      │ -      │ -     │ -      │ -
             accounts   │ all  │ -      │ -                                        │ -      │ -      │ -     │ -      │ -
             contacts   │ all  │ -      │ all (email,last_verified_at,phone,title) │ -      │ -      │ -     │ -      │ -
             deals      │ all  │ -      │ -                                        │ -      │ -      │ -     │ -      │ -
             tickets    │ all  │ all    │ team                                     │ -      │ team   │ -     │ -      │ -
             activities │ all  │ all    │ -                                        │ -      │ -      │ -     │ -      │ -
             tasks      │ own  │ all    │ own                                      │ -      │ -      │ -     │ -      │ -
            """
        ),
        (
            "marketing_manager",
            """
             teams            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             users            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             roles            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             accounts         │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             contacts         │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             campaigns        │ all  │ all    │ all    │ -      │ -      │ -     │ -      │ -
             leads            │ all  │ all    │ all    │ all    │ all    │ all   │ all    │ all
             deals            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             activities       │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             tasks            │ own  │ all    │ own    │ -      │ -      │ -     │ -      │ -
             campaign_members │ all  │ all    │ all    │ -      │ -      │ -     │ -      │ all
            """
        ),
        (
            "marketing_rep",
            """
             teams            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             users            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             roles            │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             accounts         │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             contacts         │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             campaigns        │ all  │ -      │ -      │ -      │ -      │ -     │ -      │ -
             leads            │ all  │ all    │ own    │ -      │ -      │ -     │ all    │ -
             activities       │ -    │ all    │ -      │ -      │ -      │ -     │ -      │ -
             tasks            │ own  │ all    │ own    │ -      │ -      │ -     │ -      │ -
             campaign_members │ all  │ all    │ own    │ -      │ -      │ -     │ -      │ -
            """
        ),
        (
            "data_analyst",
            """
             teams            │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             users            │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             roles            │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             role_permissions │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             user_roles       │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             accounts         │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             contacts         │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             campaigns        │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             leads            │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             deals            │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             tickets          │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             activities       │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             tasks            │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             campaign_members │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
             audit_log        │ all  │ -      │ -      │ -      │ -      │ -     │ all    │ -
            """
        ),
        (
            "cfo",
            """
             teams    │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             users    │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             roles    │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             accounts │ all                     │ -      │ -      │ -      │ -      │ -     │ all    │ -
             contacts │ all but not email,phone │ -      │ -      │ -      │ -      │ -     │ -      │ -
             deals    │ all                     │ -      │ -      │ -      │ -      │ -     │ all    │ -
            """
        ),
        (
            "executive",
            """
             teams     │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             users     │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             roles     │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             accounts  │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             contacts  │ all but not email,phone │ -      │ -      │ -      │ -      │ -     │ -      │ -
             campaigns │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             leads     │ all but not email,phone │ -      │ -      │ -      │ -      │ -     │ -      │ -
             deals     │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
             tickets   │ all                     │ -      │ -      │ -      │ -      │ -     │ -      │ -
            """
        ),
    ]

    /// Beyond the matrix (docs/roles.md: "also: grant * (all)" for admin only).
    static let grantRoles: Set<String> = ["admin"]
    /// Beyond the matrix (docs/roles.md: "also: … manage_rules * (all)" for admin only).
    static let manageRulesRoles: Set<String> = ["admin"]

    static let roles = documentedMatrix.map(\.role)

    /// role → entity → action → right, parsed from the literal rows above.
    static let matrix: [String: [String: [String: Right]]] = {
        var matrix: [String: [String: [String: Right]]] = [:]
        for (role, rows) in documentedMatrix {
            for row in rows.split(separator: "\n") {
                let cells = row.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }
                precondition(cells.count == columns.count + 1, "bad row for \(role): \(row)")
                for (action, cell) in zip(columns, cells.dropFirst()) where cell != "-" {
                    matrix[role, default: [:]][cells[0], default: [:]][action] = parse(cell)
                }
            }
        }
        return matrix
    }()

    /// `all`, `team`, `own`; `all (f1,f2)` (only those fields); `all but not f1,f2` (those fields removed).
    static func parse(_ cell: String) -> Right {
        let words = cell.split(separator: " ", maxSplits: 1).map(String.init)
        guard let reach: Reach = ["own": .own, "team": .team, "all": .all][words[0]] else {
            preconditionFailure("not a scope: \(cell)")
        }
        guard words.count > 1 else { return Right(reach: reach) }
        let rest = words[1]
        if rest.hasPrefix("but not ") {
            return Right(reach: reach, deniedFields: Set(rest.dropFirst("but not ".count).split(separator: ",").map(String.init)))
        }
        let fields = rest.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",").map(String.init)
        return Right(reach: reach, onlyFields: Set(fields))
    }

    static func right(_ role: String, _ action: String, _ entity: String) -> Right? {
        matrix[role]?[entity]?[action]
    }

    // MARK: - Commands and records

    static let entities = ["accounts", "contacts", "leads", "deals", "activities", "tasks", "tickets", "campaigns", "campaign_members"]
    /// Tables whose rows have an assignee besides the owner (docs/roles.md: own is "records the user
    /// owns or is assigned").
    static let assigned: Set<String> = ["tasks", "tickets"]

    /// A field to update per entity, and a new value for it (contacts.phone is one of support_rep's fields).
    static let updates: [String: (field: String, value: String)] = [
        "accounts": ("city", #""Matrixville""#), "contacts": ("phone", #""+1 555 000 0000""#), "leads": ("title", #""Matrix""#),
        "deals": ("name", #""Matrix deal""#), "activities": ("subject", #""Matrix""#), "tasks": ("title", #""Matrix""#),
        "tickets": ("subject", #""Matrix""#), "campaigns": ("status", "planned"), "campaign_members": ("status", "attended"),
    ]
    static let creates: [String: String] = [
        "accounts": #"name = "Matrix Ltd""#, "contacts": #"last_name = "Matrix""#,
        "leads": #"last_name = "Matrix" source = web"#, "deals": #"name = "Matrix" stage = proposal amount = 100"#,
        "activities": #"kind = note subject = "Matrix""#, "tasks": #"title = "Matrix""#, "tickets": #"subject = "Matrix""#,
        "campaigns": #"name = "Matrix" channel = email status = planned"#, "campaign_members": "campaign = 1 contact = 1",
    ]

    /// The entities `creates` links a new record to.
    static let createLinks: [String: [String]] = ["campaign_members": ["campaigns", "contacts"]]

    /// Whose a record is, as seen from the acting user.
    enum Owner: String, CaseIterable, Sendable {
        case own, teammate, otherTeam = "other team"
        /// The narrowest scope that reaches such a record.
        var needs: Reach {
            switch self {
            case .own: .own
            case .teammate: .team
            case .otherTeam: .all
            }
        }
    }

    struct Actor {
        let handle: String
        let id: Int64
        let team: Int64
        let teammate: Int64
    }

    /// A user holding exactly `role`, and the first other active user of their team.
    static func actor(_ role: String, _ db: Database) throws -> Actor {
        let row = try #require(
            try Row.fetchOne(
                db,
                sql: """
                    SELECT u.handle, u.id, u.team_id FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
                    WHERE r.name = ? AND u.active = 1 AND (SELECT count(*) FROM user_roles x WHERE x.user_id = u.id) = 1
                    ORDER BY u.id LIMIT 1
                    """, arguments: [role]))
        let teammate = try #require(
            try Int64.fetchOne(
                db, sql: "SELECT id FROM users WHERE team_id = ? AND id != ? AND active = 1 ORDER BY id LIMIT 1",
                arguments: [row["team_id"], row["id"]]))
        return Actor(handle: row["handle"], id: row["id"], team: row["team_id"], teammate: teammate)
    }

    /// Raw SQL on the test's own copy, before the engine opens: of each entity, records 1–2 become the
    /// actor's, 3–4 their teammate's, 5–6 those of someone outside their team (owner, and assignee
    /// where there is one). Returns the ids per entity and owner, re-read by SQL from the owner and
    /// assignee columns alone.
    static func plantRecords(_ actor: Actor, _ db: Database) throws -> [String: [Owner: [Int64]]] {
        let outsider = try #require(
            try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE team_id != ? ORDER BY id LIMIT 1", arguments: [actor.team]))
        var records: [String: [Owner: [Int64]]] = [:]
        for entity in entities {
            let assignee = assigned.contains(entity)
            let first = try Int64.fetchAll(db, sql: "SELECT id FROM \(entity) ORDER BY id LIMIT 6")
            try #require(first.count == 6, "\(entity): fewer than six records")
            for (index, id) in first.enumerated() {
                let user = [actor.id, actor.teammate, outsider][index / 2]
                try db.execute(
                    sql: "UPDATE \(entity) SET owner_id = :user\(assignee ? ", assignee_id = :user" : "") WHERE id = :id",
                    arguments: ["user": user, "id": id])
            }
            let mine = assignee ? "(owner_id = :me OR assignee_id = :me)" : "owner_id = :me"
            let team =
                assignee
                ? "(owner_id IN (SELECT id FROM users WHERE team_id = :team) OR assignee_id IN (SELECT id FROM users WHERE team_id = :team))"
                : "owner_id IN (SELECT id FROM users WHERE team_id = :team)"
            let arguments: StatementArguments = ["me": actor.id, "team": actor.team]
            let within = "SELECT id FROM \(entity) WHERE id IN (\(first.map(String.init).joined(separator: ", ")))"
            records[entity] = [
                .own: try Int64.fetchAll(db, sql: "\(within) AND \(mine) ORDER BY id", arguments: arguments),
                .teammate: try Int64.fetchAll(db, sql: "\(within) AND \(team) AND NOT \(mine) ORDER BY id", arguments: arguments),
                .otherTeam: try Int64.fetchAll(db, sql: "\(within) AND NOT \(team) ORDER BY id", arguments: arguments),
            ]
        }
        return records
    }

    /// How many records of `entity` a scope reaches for the actor, by SQL over the raw tables.
    static func reachable(_ entity: String, _ reach: Reach, _ actor: Actor, _ db: Database) throws -> Int {
        let assignee = assigned.contains(entity)
        let filter: String
        switch reach {
        case .all: filter = "1"
        case .own: filter = assignee ? "(owner_id = :me OR assignee_id = :me)" : "owner_id = :me"
        case .team:
            let inTeam = "IN (SELECT id FROM users WHERE team_id = :team)"
            filter = assignee ? "(owner_id \(inTeam) OR assignee_id \(inTeam))" : "owner_id \(inTeam)"
        }
        return try Int.fetchOne(
            db, sql: "SELECT count(*) FROM \(entity) WHERE \(filter)", arguments: ["me": actor.id, "team": actor.team]) ?? -1
    }

    // MARK: - Checking

    struct Report {
        var failures: [String] = []
        var checks = 0
        var cases = 0

        mutating func check(_ ok: Bool, _ message: @autoclosure () -> String) {
            checks += 1
            if !ok { failures.append(message()) }
        }
    }

    static func describe(_ result: (output: String, error: Diagnostic?)) -> String {
        if let error = result.error { return "\(error.code.rawValue): \(error.message)" }
        return "succeeded"
    }

    /// A change command: allowed, or refused before anything was written and audited as refused —
    /// as a missing record when the user may not read it (`readable` false), else as a permission refusal.
    static func checkChange(
        _ command: String, allowed: Bool, readable: Bool, engine: Engine, store: CRMStore, label: String, report: inout Report
    ) throws {
        let before = try totalChanges(store)
        let audits = try auditOutcomes(store).count
        let result = run(engine, command)
        if allowed {
            report.check(result.error == nil, "\(label) should be allowed: `\(command)` → \(Self.describe(result))")
            return
        }
        let refusedAsMissing = result.error?.code == .unknownRecord && result.error?.message.contains("may read") == true
        let refused = result.error?.code == .permissionDenied
        report.check(
            readable ? refused : refusedAsMissing,
            "\(label) should be refused \(readable ? "by permission" : "as a record they may not read"): `\(command)` → \(Self.describe(result))"
        )
        // Nothing was written, not even and then rolled back: the only change is the audit entry.
        report.check(try totalChanges(store) - before == 1, "\(label): `\(command)` wrote before refusing")
        let outcomes = try auditOutcomes(store)
        report.check(outcomes.count == audits + 1 && outcomes.last == "refused", "\(label): `\(command)` not audited as refused")
    }

    @Test func theLiteralTableIsDocsRolesMd() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/roles.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for (role, rows) in Self.documentedMatrix {
            let section = try #require(text.range(of: "\n### \(role)\n"), "docs/roles.md has no section for \(role)")
            let rest = text[section.upperBound...]
            let end = rest.range(of: "\n(")?.lowerBound ?? rest.endIndex
            let documented = rest[..<end].split(separator: "\n").filter { $0.contains("│") && !$0.contains("entity") }.map(String.init)
            #expect(documented == rows.split(separator: "\n").map(String.init), "\(role): the matrix in docs/roles.md changed")
        }
    }

    @Test(arguments: roles)
    func roleMatrix(role: String) throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let (actor, records) = try store.dbQueue.write { db -> (Actor, [String: [Owner: [Int64]]]) in
            let actor = try Self.actor(role, db)
            return (actor, try Self.plantRecords(actor, db))
        }
        let engine = try Engine(store: store, clock: SampleDatabase.clock, user: actor.handle)
        let admin = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        var report = Report()
        let who = "\(role) (\(actor.handle))"

        for entity in Self.entities {
            let ids = try #require(records[entity])
            for owner in Owner.allCases {
                try #require(ids[owner]?.count == 2, "\(entity): two \(owner.rawValue) records")
            }
            let read = Self.right(role, "read", entity)
            func readable(_ owner: Owner) -> Bool { (read?.reach ?? .own) >= owner.needs && read != nil }

            // read: the root is limited to the read scope; a record outside it is not there.
            report.cases += 1
            let total = run(engine, "count \(entity)")
            if let read {
                let expected = try store.dbQueue.read { try Self.reachable(entity, read.reach, actor, $0) }
                report.check(
                    total.error == nil && total.output == "\(expected)\n",
                    "\(who): count \(entity) → \(total.error.map { $0.message } ?? total.output), expected \(expected) (read \(read.reach))"
                )
            } else {
                report.check(total.error?.code == .permissionDenied, "\(who): count \(entity) should be refused → \(Self.describe(total))")
            }
            for owner in Owner.allCases {
                guard read != nil, let id = ids[owner]?.first else { continue }
                report.cases += 1
                let found = run(engine, "count \(entity) where id = \(id)")
                let expected = readable(owner) ? "1" : "0"
                report.check(
                    found.error == nil && found.output == expected + "\n",
                    "\(who): \(owner.rawValue) \(entity) \(id) counted \(found.output) → \(Self.describe(found)), expected \(expected)"
                )
                let shown = run(engine, "show \(entity) \(id)")
                report.check(
                    readable(owner) ? shown.error == nil : shown.error?.code == .unknownRecord,
                    "\(who): show \(owner.rawValue) \(entity) \(id) → \(Self.describe(shown))")
            }

            // export: limited to the export scope and the read scope.
            report.cases += 1
            let sample = Owner.allCases.compactMap { ids[$0]?.first }
            let exported = run(
                engine, "find \(entity) id where id in (\(sample.map(String.init).joined(separator: ", "))) order by id as csv")
            if let export = Self.right(role, "export", entity), read != nil {
                let expected = Owner.allCases.filter { readable($0) && export.reach >= $0.needs }.compactMap { ids[$0]?.first }.sorted()
                let got = exported.output.split(separator: "\n").dropFirst().compactMap { Int64($0) }
                report.check(
                    exported.error == nil && got == expected,
                    "\(who): export \(entity) \(sample) → \(exported.error?.message ?? "\(got)"), expected \(expected)")
            } else {
                report.check(
                    exported.error?.code == .permissionDenied, "\(who): export \(entity) should be refused → \(Self.describe(exported))")
            }

            // create: every documented create is scope all. A record it links to that the user may not
            // read is answered as missing (docs/roles.md: linking needs read access), whatever the create right.
            report.cases += 1
            let linksReadable = (Self.createLinks[entity] ?? []).allSatisfy { Self.right(role, "read", $0) != nil }
            try Self.checkChange(
                "create \(entity) \(Self.creates[entity] ?? "") --dry-run",
                allowed: Self.right(role, "create", entity) != nil && linksReadable,
                readable: linksReadable, engine: engine, store: store, label: who, report: &report)

            // update, delete, assign, merge on each kind of record.
            let (field, value) = try #require(Self.updates[entity])
            for owner in Owner.allCases {
                let pair = try #require(ids[owner])
                for action in ["update", "delete", "assign", "merge"] {
                    report.cases += 1
                    let command: String
                    switch action {
                    case "update": command = "update \(entity) \(pair[0]) set \(field) = \(value) --dry-run"
                    case "delete": command = "delete \(entity) \(pair[0]) --dry-run"
                    case "assign": command = "assign \(entity) \(pair[0]) to \(actor.handle) --dry-run"
                    default: command = "merge \(entity) \(pair[1]) into \(pair[0]) --dry-run"
                    }
                    var allowed = false
                    let right = Self.right(role, action, entity)
                    if let right {
                        allowed = readable(owner) && right.reach >= owner.needs && (right.onlyFields.map { $0.contains(field) } ?? true)
                    }
                    // Without the action on the entity at all, the refusal names the action, not the record.
                    try Self.checkChange(
                        command, allowed: allowed, readable: readable(owner) || right == nil, engine: engine, store: store,
                        label: "\(who) on a \(owner.rawValue) record", report: &report)
                }
            }

            // `can` answers for every action (ImportTests runs the import command itself per role).
            for action in Self.columns {
                report.cases += 1
                let answer = run(admin, "can \(actor.handle) \(action) \(entity)")
                let expected = Self.right(role, action, entity) != nil
                report.check(
                    answer.error == nil && answer.output.hasPrefix(expected ? "yes" : "no"),
                    "\(who): can \(action) \(entity) → \(answer.error?.message ?? String(answer.output.prefix(120))), expected \(expected ? "yes" : "no")"
                )
            }
        }

        // Field-limited rules.
        for (entity, right) in Self.matrix[role] ?? [:] {
            if let denied = right["read"]?.deniedFields, !denied.isEmpty {
                try checkDeniedFields(entity, denied.sorted(), engine: engine, store: store, who: who, report: &report)
            }
            if let only = right["update"]?.onlyFields, let id = records[entity]?[.otherTeam]?.first {
                report.cases += 1
                let other = try #require(
                    try store.dbQueue.read { db in
                        try String.fetchOne(
                            db, sql: "SELECT name FROM pragma_table_info(?) WHERE name NOT IN ('id', 'owner_id') ORDER BY cid",
                            arguments: [entity])
                    })
                try #require(!only.contains(other))
                try Self.checkChange(
                    "update \(entity) \(id) set \(other) = \"Matrix\" --dry-run", allowed: false, readable: true, engine: engine,
                    store: store, label: "\(who) outside \(entity)'s update fields", report: &report)
            }
        }

        // Security tables: read (users, teams, roles for everyone but where the matrix says otherwise).
        for (entity, command) in [
            ("users", "count users"), ("teams", "count teams"), ("roles", "count roles"), ("audit_log", "count audit"),
        ] {
            report.cases += 1
            let result = run(engine, command)
            let allowed = Self.right(role, "read", entity) != nil
            report.check(
                allowed ? result.error == nil : result.error?.code == .permissionDenied, "\(who): `\(command)` → \(Self.describe(result))")
        }
        // grant: only with the grant right (admin), even for a role the user holds.
        report.cases += 1
        let teammate = try store.dbQueue.read {
            try String.fetchOne($0, sql: "SELECT handle FROM users WHERE id = ?", arguments: [actor.teammate])
        }
        let grant = run(engine, "grant \(role) to \(teammate ?? "?") --dry-run")
        report.check(
            Self.grantRoles.contains(role) ? grant.error == nil : [.permissionDenied, .escalation].contains(grant.error?.code),
            "\(who): grant \(role) to \(teammate ?? "?") → \(Self.describe(grant))")

        // manage_rules: creating a validation rule only with that right (admin); listing for everyone.
        report.cases += 1
        let rule = run(engine, "rule contacts.email must be valid email --dry-run")
        report.check(
            Self.manageRulesRoles.contains(role) ? rule.error == nil : rule.error?.code == .permissionDenied,
            "\(who): rule contacts.email must be valid email → \(Self.describe(rule))")
        report.cases += 1
        let rules = run(engine, "rules")
        report.check(rules.error == nil, "\(who): rules → \(Self.describe(rules))")

        print("PermissionMatrix[\(who)]: \(report.cases) cases, \(report.checks) checks, \(report.failures.count) failed")
        if !report.failures.isEmpty {
            let first = report.failures.prefix(40).joined(separator: "\n")
            Issue.record(Comment(rawValue: "\(who): \(report.failures.count) of \(report.checks) checks failed:\n\(first)"))
        }
    }

    /// The cells of a table's first row (after the header and its rule), trimmed.
    static func firstRow(_ table: String) -> [String] {
        let lines = table.split(separator: "\n")
        guard lines.count > 2 else { return [] }
        return lines[2].split(separator: "│", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// A field-limited read deny: the fields read as `(hidden)` and count as empty; another field of
    /// the same record reads as stored.
    func checkDeniedFields(_ entity: String, _ denied: [String], engine: Engine, store: CRMStore, who: String, report: inout Report) throws
    {
        let (id, rawName, filled) = try store.dbQueue.read { db -> (Int64, String?, Int) in
            let conditions = denied.map { "\($0) IS NOT NULL AND \($0) != ''" }.joined(separator: " AND ")
            let id = try #require(try Int64.fetchOne(db, sql: "SELECT id FROM \(entity) WHERE \(conditions) ORDER BY id LIMIT 1"))
            let name = try String.fetchOne(db, sql: "SELECT last_name FROM \(entity) WHERE id = ?", arguments: [id])
            let filled =
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \(entity) WHERE \(denied[0]) IS NOT NULL AND \(denied[0]) != ''") ?? 0
            return (id, name, filled)
        }
        report.cases += 1
        let table = run(engine, "find \(entity) last_name, \(denied.joined(separator: ", ")) where id = \(id)")
        let row = Self.firstRow(table.output)
        report.check(
            table.error == nil && row == [rawName ?? ""] + denied.map { _ in "(hidden)" },
            "\(who): \(entity) \(id) \(denied) should read (hidden) beside last_name \(rawName ?? "") → \(table.error?.message ?? table.output)"
        )
        report.cases += 1
        let counted = run(engine, "count \(entity) where \(denied[0]) is not empty")
        report.check(
            filled > 0 && counted.error == nil && counted.output == "0\n",
            "\(who): \(entity).\(denied[0]) should count as empty (\(filled) filled) → \(Self.describe(counted)) \(counted.output)")
    }

    /// docs/roles.md's examples of field-limited rules an admin adds: `deny support_rep read
    /// deals.amount` hides the amount while the deal's name reads; a deny on updating one field refuses
    /// that field and leaves the others of the same entity (and the same role's allow) standing.
    @Test func addedFieldDeniesHideAndRefuseThatFieldOnly() throws {
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        let admin = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        for command in ["deny support_rep read deals.amount", "deny support_rep update contacts.email"] {
            let result = run(admin, command)
            try #require(result.error == nil, "\(command): \(Self.describe(result))")
        }
        let (deal, name, contact) = try store.dbQueue.read { db -> (Int64, String, Int64) in
            let deal = try #require(try Row.fetchOne(db, sql: "SELECT id, name FROM deals WHERE amount > 0 ORDER BY id LIMIT 1"))
            let contact = try #require(try Int64.fetchOne(db, sql: "SELECT id FROM contacts ORDER BY id LIMIT 1"))
            return (deal["id"], deal["name"], contact)
        }
        let sofia = try Engine(store: store, clock: SampleDatabase.clock, user: "sofia")
        let table = run(sofia, "find deals name, amount where id = \(deal)")
        #expect(Self.firstRow(table.output) == [name, "(hidden)"], "\(table.output)")
        #expect(run(sofia, "count deals where amount > 0").output == "0\n")
        // The admin still sees the amount.
        #expect(!run(admin, "find deals amount where id = \(deal) as csv").output.contains("(hidden)"))

        let email = run(sofia, #"update contact \#(contact) set email = "x@y.io" --dry-run"#)
        #expect(email.error?.code == .permissionDenied, "\(Self.describe(email))")
        let phone = run(sofia, #"update contact \#(contact) set phone = "+1 555 000 0000" --dry-run"#)
        #expect(phone.error == nil, "\(Self.describe(phone))")
    }
}
