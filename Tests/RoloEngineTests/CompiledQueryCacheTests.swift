import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// The compiled-query cache (`CompiledQueryCache`): a repeated read is compiled once, and every
/// answer still matches the database as the acting user may see it now — after their rights
/// change, as another user, with other parameters. Each expected figure is counted by raw SQL.
@Suite("Compiled query cache")
struct CompiledQueryCacheTests {
    static func count(_ store: CRMStore, _ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try store.dbQueue.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? -1 }
    }

    /// The figure a `count` printed.
    static func figure(_ result: (output: String, error: Diagnostic?)) -> Int? {
        Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ",", with: ""))
    }

    /// hana may grant and revoke roles; she reads deals through two roles, one of every deal and
    /// one of her own. Revoking the wider one narrows the count she gets to her own deals.
    @Test func aCachedCountFollowsARevokeAndAnAs() throws {
        let admin = try SampleDatabase.engine()
        for command in [
            "create role helpdesk", "allow helpdesk grant roles scope all", "allow helpdesk read users scope all",
            "create role viewer", "allow viewer read deals scope all", "create role ownviewer", "allow ownviewer read deals scope own",
            #"create user hana name="Hana""#, "grant helpdesk to hana", "grant viewer to hana", "grant ownviewer to hana",
        ] {
            #expect(run(admin, command).error == nil, "\(command)")
        }
        let store = admin.store
        let hanaID = try #require(try store.dbQueue.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE handle = 'hana'") })
        try store.dbQueue.write { db in
            try db.execute(sql: "UPDATE deals SET owner_id = ? WHERE id IN (SELECT id FROM deals WHERE stage = 'won' ORDER BY id LIMIT 3)", arguments: [hanaID])
        }
        let all = try Self.count(store, "SELECT count(*) FROM deals WHERE stage = 'won'")
        let own = try Self.count(store, "SELECT count(*) FROM deals WHERE stage = 'won' AND owner_id = ?", [hanaID])
        #expect(all > own && own == 3)

        let hana = try Engine(store: store, clock: SampleDatabase.clock, user: "hana")
        let query = "count deals where stage = won"
        #expect(Self.figure(run(hana, query)) == all)
        #expect(hana.access.compiledQueries.count == 1, "the count was kept")
        #expect(Self.figure(run(hana, query)) == all)
        // Her own revoke reloads her policy: the kept count (no scope filter) must go.
        #expect(run(hana, "revoke viewer from hana").error == nil)
        #expect(hana.access.compiledQueries.count == 0)
        #expect(Self.figure(run(hana, query)) == own)
        #expect(Self.figure(run(hana, query)) == own)

        // The admin's kept count, then the same text as hana: her scope, not the admin's.
        #expect(Self.figure(run(admin, query)) == all)
        #expect(Self.figure(run(admin, "as hana " + query)) == own)
        #expect(Self.figure(run(admin, query)) == all)
    }

    /// A field denied after a find was kept is hidden the next time the same find runs.
    @Test func aCachedFindFollowsADeny() throws {
        let admin = try SampleDatabase.engine()
        for command in ["create role auditor", "allow auditor read contacts scope all", "grant auditor to admin"] {
            #expect(run(admin, command).error == nil, "\(command)")
        }
        let email = try #require(
            try admin.store.dbQueue.read { db in try String.fetchOne(db, sql: "SELECT email FROM contacts WHERE company = 'Acme Inc' AND email IS NOT NULL ORDER BY id LIMIT 1") })
        let query = #"find contacts where company = "Acme Inc""#
        #expect(run(admin, query).output.contains(email))
        #expect(admin.access.compiledQueries.count == 1)
        #expect(run(admin, "deny auditor read contacts.email").error == nil)
        let after = run(admin, query)
        #expect(after.error == nil, "\(after)")
        #expect(!after.output.contains(email), "email is denied now")
    }

    /// A query reading a script's parameter, or the clock, is bound each time and never kept.
    @Test func parametersAndTheClockAreNotKept() throws {
        let engine = try SampleDatabase.engine()
        let query = "count contacts where company = $company"
        // Companies of different sizes, so a kept answer would show.
        let companies = try engine.store.dbQueue.read { db in
            try String.fetchAll(
                db, sql: "SELECT company FROM contacts WHERE company IS NOT NULL GROUP BY company HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT 3")
        }
        #expect(companies.count == 3)
        var seen = Set<Int>()
        for company in companies {
            engine.session.parameters = ["company": .text(company)]
            let expected = try Self.count(engine.store, "SELECT count(*) FROM contacts WHERE company = ?", [company])
            #expect(Self.figure(run(engine, query)) == expected, "\(company)")
            seen.insert(expected)
        }
        #expect(seen.count > 1)
        #expect(run(engine, "count tasks where due_date < today").error == nil)
        #expect(engine.access.compiledQueries.count == 0)
        // A query of its text alone is kept.
        #expect(run(engine, #"count contacts where company = "Acme Inc""#).error == nil)
        #expect(engine.access.compiledQueries.count == 1)
    }
}

/// The script runner tells the statements it runs itself by their type, from the registry.
@Suite("Script runner's own commands")
struct RunnerCommandsTests {
    @Test func everyCommandThatRunsStatementsIsKnownByType() {
        let expected: [any Command.Type] = [
            IncludeCommand.self, RunCommand.self, PlanCommand.self, RunScriptCommand.self, PlayCommand.self, LessonCommand.self,
        ]
        #expect(ScriptRunner.runnerCommands == Set(expected.map { ObjectIdentifier($0) }))
        #expect(!ScriptRunner.runnerCommands.contains(ObjectIdentifier(FindCommand.self)))
    }
}
