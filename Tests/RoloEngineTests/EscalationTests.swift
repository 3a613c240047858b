import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Write paths and machine-readable outputs check the same rights as the direct command.
///
/// Each test sets the situation up with admin commands on a fresh sample company, runs the
/// attacker's command as a restricted sample user, and expects a permission refusal (E401), every
/// table unchanged (an SQL snapshot of all tables but the audit log, taken independently of the
/// engine) and an audit_log row for the attempt with outcome 'refused'.
///
/// Sample users (docs/roles.md, `users`): bob, alice and emma are sales reps in Sales East, carol a
/// sales rep in Sales West, sam the Sales East manager, sofia a support rep, lily a marketing rep,
/// quinn the cfo, olivia a data analyst.
@Suite("Escalation")
struct EscalationTests {
    /// A fresh sample company.
    struct Company {
        let store: CRMStore

        init() throws {
            store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        }

        func engine(_ user: String) throws -> Engine {
            try Engine(store: store, clock: SampleDatabase.clock, user: user)
        }

        /// Runs set-up commands, each of which must succeed.
        func setUp(_ user: String, _ commands: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            let engine = try engine(user)
            for command in commands {
                let result = run(engine, command)
                try #require(
                    result.error == nil, "set-up `\(command)` as \(user) failed: \(result.error?.message ?? "")",
                    sourceLocation: sourceLocation)
            }
        }

        func int(_ sql: String, _ arguments: StatementArguments = []) throws -> Int64? {
            try store.dbQueue.read { try Int64.fetchOne($0, sql: sql, arguments: arguments) }
        }

        func userID(_ handle: String) throws -> Int64 {
            try #require(try int("SELECT id FROM users WHERE handle = ?", [handle]))
        }

        /// The newest change set's number.
        func lastChangeSet() throws -> Int64 {
            try #require(try int("SELECT max(id) FROM change_sets"))
        }

        struct AuditRow: Equatable {
            let user: String
            let outcome: String
            let command: String
        }

        func lastAudit() throws -> AuditRow? {
            try store.dbQueue.read { db in
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT u.handle, a.outcome, a.command FROM audit_log a LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id DESC LIMIT 1"
                ).map { AuditRow(user: $0[0] ?? "?", outcome: $0[1], command: $0[2]) }
            }
        }

        /// Every table but the audit log, each as one text built by SQLite from its rows in rowid
        /// order: equal snapshots mean nothing was kept.
        func tables() throws -> [String: String] {
            try store.dbQueue.read { db in
                var result: [String: String] = [:]
                let names = try String.fetchAll(
                    db,
                    sql:
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'audit_log' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
                for name in names {
                    let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [name])
                    let row = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
                    result[name] =
                        try String.fetchOne(
                            db,
                            sql:
                                "SELECT count(*) || ':' || coalesce(group_concat(r, char(10)), '') FROM (SELECT \(row) AS r FROM \"\(name)\" ORDER BY rowid)"
                        )
                        ?? ""
                }
                return result
            }
        }

        /// The tables whose rows differ between two snapshots.
        static func changed(_ before: [String: String], _ after: [String: String]) -> [String] {
            Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
        }

        /// Runs `command` as `user` and checks it was refused as a whole: E401, nothing printed
        /// (when `silent`), every table unchanged, audited as refused.
        @discardableResult
        func expectRefused(
            _ user: String, _ command: String, silent: Bool = false, why: String,
            sourceLocation: Testing.SourceLocation = #_sourceLocation
        ) throws -> (output: String, error: Diagnostic?) {
            let before = try tables()
            let result = run(try engine(user), command)
            // A record outside the user's read scope is answered exactly as a missing one (E204,
            // "… that USER may read"), so a refusal cannot tell whether it exists; the audit log
            // still records a refusal (checked below).
            let hiddenRecord = result.error?.code == .unknownRecord && result.error?.message.contains("may read") == true
            #expect(
                result.error?.code == .permissionDenied || hiddenRecord,
                "\(why): `\(command)` as \(user) should be refused (E401, or E204 for a record outside read scope), got \(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "success: \(result.output.prefix(200))")",
                sourceLocation: sourceLocation)
            if silent {
                #expect(
                    result.output.isEmpty, "\(why): `\(command)` as \(user) printed \(result.output.prefix(200))",
                    sourceLocation: sourceLocation)
            }
            let changed = Self.changed(before, try tables())
            #expect(
                changed.isEmpty, "\(why): `\(command)` as \(user) changed \(changed.joined(separator: ", "))",
                sourceLocation: sourceLocation)
            let audit = try lastAudit()
            #expect(
                audit == AuditRow(user: user, outcome: "refused", command: command),
                "\(why): `\(command)` as \(user) should be audited as refused, last audit row is \(audit.map { "\($0.user) \($0.outcome) \($0.command)" } ?? "none")",
                sourceLocation: sourceLocation)
            return result
        }
    }

    /// Everything a command said: its output, and its error's message and help.
    static func everything(_ result: (output: String, error: Diagnostic?)) -> String {
        let message: String = result.error?.message ?? ""
        let help: String = result.error?.help ?? ""
        return [message, help, result.output].joined(separator: " ")
    }

    // MARK: - undo

    enum UndoForm: String, CaseIterable, Sendable, CustomStringConvertible {
        case last = "undo"
        case lastForced = "undo --force"
        case numbered = "undo change N"
        case numberedForced = "undo change N --force"
        var description: String { rawValue }
    }

    /// bob changes his own deal; the deal is then handed to carol (Sales West), outside bob's own
    /// update scope. Undoing his earlier change would now write to carol's deal.
    @Test(arguments: UndoForm.allCases)
    func undoOfOwnChangeToARecordNowOwnedBySomeoneElse(form: UndoForm) throws {
        let company = try Company()
        let bob = try company.userID("bob")
        let deal = try #require(try company.int("SELECT id FROM deals WHERE owner_id = ? AND stage != 'won' ORDER BY id LIMIT 1", [bob]))
        try company.setUp("bob", "update deal \(deal) set stage = won")
        let change = try company.lastChangeSet()
        try company.setUp("admin", "assign deal \(deal) to carol")
        let carol = try company.userID("carol")
        try #require(try company.int("SELECT owner_id FROM deals WHERE id = ?", [deal]) == carol)
        let command = form.rawValue.replacingOccurrences(of: "N", with: String(change))
        try company.expectRefused("bob", command, why: "deal \(deal) now belongs to carol, outside bob's update scope")
        #expect(try company.int("SELECT count(*) FROM deals WHERE id = ? AND stage = 'won'", [deal]) == 1)
    }

    enum UndoOwn: String, CaseIterable, Sendable, CustomStringConvertible {
        case last = "undo"
        case numbered = "undo change N"
        case numberedForced = "undo change N --force"
        var description: String { rawValue }
    }

    /// A role that may delete leads but not create them: undoing the delete would create one.
    @Test(arguments: UndoOwn.allCases)
    func undoOfADeleteNeedsTheCreateRight(form: UndoOwn) throws {
        let company = try Company()
        try company.setUp(
            "admin", "create role pruner", "allow pruner read leads scope all", "allow pruner delete leads scope all",
            #"create user pete name="Pete Prune" team=Marketing"#, "grant pruner to pete")
        // A lead nothing refers to, so the delete and its undo touch only the lead.
        let lead = try #require(
            try company.int(
                """
                SELECT id FROM leads WHERE id NOT IN (SELECT lead_id FROM campaign_members WHERE lead_id IS NOT NULL)
                  AND id NOT IN (SELECT lead_id FROM activities WHERE lead_id IS NOT NULL)
                  AND id NOT IN (SELECT lead_id FROM tasks WHERE lead_id IS NOT NULL) ORDER BY id LIMIT 1
                """))
        try company.setUp("pete", "delete lead \(lead)")
        let change = try company.lastChangeSet()
        let command = form.rawValue.replacingOccurrences(of: "N", with: String(change))
        try company.expectRefused("pete", command, why: "pete may delete leads but not create them")
        #expect(try company.int("SELECT count(*) FROM leads WHERE id = ?", [lead]) == 0)
    }

    /// bob (sales_rep) may create contacts but not delete them: undoing his create would delete one.
    @Test(arguments: UndoOwn.allCases)
    func undoOfACreateNeedsTheDeleteRight(form: UndoOwn) throws {
        let company = try Company()
        try company.setUp("bob", #"create contact first_name="Una" last_name="Undone""#)
        let contact = try #require(try company.int("SELECT max(id) FROM contacts WHERE last_name = 'Undone'"))
        let change = try company.lastChangeSet()
        let command = form.rawValue.replacingOccurrences(of: "N", with: String(change))
        try company.expectRefused("bob", command, why: "bob may not delete contacts")
        #expect(try company.int("SELECT count(*) FROM contacts WHERE id = ?", [contact]) == 1)
    }

    // MARK: - create with another owner

    struct Attempt: Sendable, CustomStringConvertible {
        let user: String
        let command: String
        let why: String
        var description: String { "\(user): \(command)" }
    }

    static let createsForOthers: [Attempt] = [
        Attempt(user: "bob", command: #"create contact last_name="Planted" owner=carol"#, why: "sales_rep has no assign on contacts"),
        Attempt(
            user: "bob", command: #"create contact last_name="Planted" owner=alice"#,
            why: "sales_rep has no assign on contacts, even within the team"),
        Attempt(
            user: "bob", command: #"create deal name="Planted deal" stage=proposal amount=100 owner=alice"#,
            why: "sales_rep has no assign on deals"),
        Attempt(
            user: "sam", command: #"create contact last_name="Planted" owner=carol"#,
            why: "sales_manager assigns contacts only within Sales East; carol is in Sales West"),
        Attempt(
            user: "sam", command: #"create deal name="Planted deal" stage=proposal amount=100 owner=carol"#,
            why: "sales_manager assigns deals only within Sales East"),
    ]

    @Test(arguments: createsForOthers)
    func createWithAnotherOwnerNeedsAssignAndItsScope(attempt: Attempt) throws {
        let company = try Company()
        try company.expectRefused(attempt.user, attempt.command, why: attempt.why)
        #expect(try company.int("SELECT count(*) FROM contacts WHERE last_name = 'Planted'") == 0)
        #expect(try company.int("SELECT count(*) FROM deals WHERE name = 'Planted deal'") == 0)
    }

    /// The control: within the assign scope, creating for someone else works.
    @Test func createForATeamMateWithinTheAssignScopeIsAllowed() throws {
        let company = try Company()
        let result = run(try company.engine("sam"), #"create contact last_name="Delegated" owner=alice"#)
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(try company.int("SELECT owner_id FROM contacts WHERE last_name = 'Delegated'") == (try company.userID("alice")))
    }

    // MARK: - add task / log on records one may not read

    /// Numbers of sample records, filled into attempts: `{emmasDeal}` (a deal of emma's, outside
    /// bob's own read scope), `{bobsDeal}`, `{lead}`, `{ticket}`.
    func resolve(_ command: String, in company: Company) throws -> String {
        var command = command
        let emma = try company.userID("emma")
        let bob = try company.userID("bob")
        let values: [String: String] = [
            "{emmasDeal}": "SELECT id FROM deals WHERE owner_id = \(emma) ORDER BY id LIMIT 1",
            "{bobsDeal}": "SELECT id FROM deals WHERE owner_id = \(bob) ORDER BY id LIMIT 1",
            "{lead}": "SELECT id FROM leads ORDER BY id LIMIT 1",
            "{ticket}": "SELECT id FROM tickets ORDER BY id LIMIT 1",
        ]
        for (placeholder, sql) in values where command.contains(placeholder) {
            let id = try #require(try company.int(sql), "no record for \(placeholder)")
            command = command.replacingOccurrences(of: placeholder, with: String(id))
        }
        return command
    }

    static let onUnreadable: [Attempt] = [
        Attempt(user: "bob", command: #"add task "Peek" on deal {emmasDeal}"#, why: "the deal is emma's; bob reads only his own deals"),
        Attempt(user: "bob", command: #"log call on deal {emmasDeal} "Peek""#, why: "the deal is emma's; bob reads only his own deals"),
        Attempt(user: "sofia", command: #"add task "Peek" on lead {lead}"#, why: "support_rep has no read on leads"),
        Attempt(user: "sofia", command: #"log note on lead {lead} "Peek""#, why: "support_rep has no read on leads"),
        Attempt(user: "lily", command: #"add task "Peek" on ticket {ticket}"#, why: "marketing_rep has no read on tickets"),
    ]

    @Test(arguments: onUnreadable)
    func addTaskOrLogOnARecordOutsideReadScope(attempt: Attempt) throws {
        let company = try Company()
        let command = try resolve(attempt.command, in: company)
        let result = try company.expectRefused(attempt.user, command, why: attempt.why)
        // The refusal names nothing about the unreadable record, such as its owner.
        if attempt.command.contains("{emmasDeal}") {
            let text = Self.everything(result)
            #expect(!text.contains("emma"), "`\(command)` as \(attempt.user): the refusal names the deal's owner: \(text)")
        }
    }

    // MARK: - merge and assign

    @Test func mergeNeedsBothRecordsInMergeScope() throws {
        let company = try Company()
        let bob = try company.userID("bob")
        let carol = try company.userID("carol")
        let inTeam = try #require(try company.int("SELECT id FROM contacts WHERE owner_id = ? ORDER BY id LIMIT 1", [bob]))
        let outside = try #require(try company.int("SELECT id FROM contacts WHERE owner_id = ? ORDER BY id LIMIT 1", [carol]))
        try company.expectRefused("sam", "merge contact \(outside) into \(inTeam)", why: "contact \(outside) is carol's (Sales West)")
        try company.expectRefused("sam", "merge contact \(inTeam) into \(outside)", why: "contact \(outside) is carol's (Sales West)")
    }

    @Test func assignNeedsTheTargetUserWithinAssignScope() throws {
        let company = try Company()
        let bob = try company.userID("bob")
        let sofia = try company.userID("sofia")
        let contact = try #require(try company.int("SELECT id FROM contacts WHERE owner_id = ? ORDER BY id LIMIT 1", [bob]))
        let deal = try #require(try company.int("SELECT id FROM deals WHERE owner_id = ? ORDER BY id LIMIT 1", [bob]))
        let ticket = try #require(try company.int("SELECT id FROM tickets WHERE assignee_id = ? ORDER BY id LIMIT 1", [sofia]))
        try company.expectRefused("sam", "assign contact \(contact) to carol", why: "carol is outside Sales East")
        try company.expectRefused("sam", "assign deals where owner = bob to carol", why: "carol is outside Sales East")
        try company.expectRefused(
            "sam", "update deal \(deal) set owner = carol", why: "changing the owner is an assign; carol is outside Sales East")
        try company.expectRefused("sofia", "assign ticket \(ticket) to bob", why: "bob is outside Support")
        try company.expectRefused("bob", "update deal \(deal) set owner = alice", why: "sales_rep has no assign on deals")
    }

    // MARK: - export

    static let exports: [Attempt] = [
        Attempt(user: "bob", command: "find deals as json", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "find deals --format csv", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "count deals as csv", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "count deals --format json", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "count deals by stage as csv", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "count contacts as json", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "sum deals.amount as json", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "avg deals.amount --format csv", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "max deals.close_date as csv", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "changes --format csv", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "changes 5 --format json", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "history deal {bobsDeal} --format json", why: "sales_rep has no export right"),
        Attempt(user: "bob", command: "history deal {bobsDeal} --format csv", why: "sales_rep has no export right"),
        Attempt(user: "quinn", command: "count contacts as csv", why: "cfo exports deals and accounts, not contacts"),
        Attempt(user: "quinn", command: "history contact 1 --format json", why: "cfo exports deals and accounts, not contacts"),
    ]

    /// Every machine-readable output is an export of the entity concerned: refused, and nothing
    /// printed, without the export right. bob first changes his own deal, so `changes` and
    /// `history` have something to print.
    @Test(arguments: exports)
    func machineReadableOutputNeedsTheExportRight(attempt: Attempt) throws {
        let company = try Company()
        try company.setUp("bob", try resolve("update deal {bobsDeal} set stage = negotiation", in: company))
        let command = try resolve(attempt.command, in: company)
        try company.expectRefused(attempt.user, command, silent: true, why: attempt.why)
    }

    /// The controls: with the export right, the same outputs work.
    @Test func machineReadableOutputWorksWithTheExportRight() throws {
        let company = try Company()
        try company.setUp("bob", try resolve("update deal {bobsDeal} set stage = negotiation", in: company))
        for (user, command) in [
            ("quinn", "count deals as csv"), ("quinn", "find deals id limit 2 as json"), ("olivia", "changes --format csv"),
            ("olivia", "history deal {bobsDeal} --format json"), ("olivia", "count contacts by owner as csv"),
        ] {
            let command = try resolve(command, in: company)
            let result = run(try company.engine(user), command)
            #expect(result.error == nil, "\(user): `\(command)` → \(result.error?.message ?? "")")
            #expect(result.output.split(separator: "\n").count > 1, "\(user): `\(command)` printed \(result.output)")
        }
    }

    // MARK: - refusal messages

    /// A bulk update over a condition that also matches other reps' deals may not reveal how many
    /// there are or their numbers; whatever it does, other reps' deals stay unchanged.
    @Test func bulkUpdateRevealsNothingOutsideReadScope() throws {
        let company = try Company()
        let bob = try company.userID("bob")
        let (own, others) = try company.store.dbQueue.read { db in
            (
                try Int64.fetchAll(db, sql: "SELECT id FROM deals WHERE stage = 'proposal' AND owner_id = ? ORDER BY id", arguments: [bob]),
                try Int64.fetchAll(db, sql: "SELECT id FROM deals WHERE stage = 'proposal' AND owner_id != ? ORDER BY id", arguments: [bob])
            )
        }
        try #require(!own.isEmpty && !others.isEmpty, "the sample should have proposal deals of bob's and of others")
        let bobsDeals = Set(
            try company.store.dbQueue.read { try Int64.fetchAll($0, sql: "SELECT id FROM deals WHERE owner_id = ?", arguments: [bob]) })
        let othersBefore = try company.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deals WHERE owner_id != ? ORDER BY id", arguments: [bob]).map(\.description)
        }
        let command = "update deals where stage = proposal set stage = negotiation"
        let before = try company.tables()
        let result = run(try company.engine("bob"), command)
        let text = Self.everything(result)

        // Numbers in the answer that are not bob's own deals: none may be another rep's deal, nor
        // the count of others' matching deals or of all matching deals.
        let numbers = Set(text.split { !$0.isNumber }.compactMap { Int64($0) })
        // Record numbers are those written as "deal N" (counts like "15 deals" are checked below).
        let words = text.split { $0 == " " || $0 == "\n" || $0 == "(" || $0 == "," }
        var named = Set<Int64>()
        for (index, word) in words.enumerated() where index > 0 && words[index - 1] == "deal" {
            if let id = Int64(word.trimmingCharacters(in: CharacterSet.decimalDigits.inverted)) { named.insert(id) }
        }
        let forbiddenIDs = named.intersection(others).subtracting(bobsDeals)
        #expect(forbiddenIDs.isEmpty, "`\(command)` as bob names other reps' deals \(forbiddenIDs.sorted()): \(text)")
        for count in [Int64(others.count), Int64(others.count + own.count)] where !bobsDeals.contains(count) && count != Int64(own.count) {
            #expect(!numbers.contains(count), "`\(command)` as bob reveals the count \(count) of deals outside his scope: \(text)")
        }
        let othersAfter = try company.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deals WHERE owner_id != ? ORDER BY id", arguments: [bob]).map(\.description)
        }
        #expect(othersBefore == othersAfter, "`\(command)` as bob changed other reps' deals")
        if let error = result.error {
            // Refused: as a whole, audited.
            #expect(error.code == .permissionDenied)
            let changed = Company.changed(before, try company.tables())
            #expect(changed.isEmpty, "a refused `\(command)` changed \(changed)")
            #expect(try company.lastAudit()?.outcome == "refused")
        }
    }

    /// Changing one record outside the read scope does not say whose it is.
    @Test func changeOfAnUnreadableRecordDoesNotNameItsOwner() throws {
        let company = try Company()
        let emma = try company.userID("emma")
        let deal = try #require(try company.int("SELECT id FROM deals WHERE owner_id = ? ORDER BY id LIMIT 1", [emma]))
        for command in ["update deal \(deal) set stage = won", "show deal \(deal)", "history deal \(deal)"] {
            let before = try company.tables()
            let result = run(try company.engine("bob"), command)
            let text = Self.everything(result)
            #expect(result.error != nil, "`\(command)` as bob should fail: deal \(deal) is outside his read scope")
            #expect(!text.contains("emma"), "`\(command)` as bob names the owner of a deal he may not read: \(text)")
            #expect(Company.changed(before, try company.tables()).isEmpty)
        }
    }
}
