import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// Plan files: `plan FILE.rolo … to F.plan`, `show plan`, `apply` — refused when tampered with,
/// made elsewhere or out of date; refusing exactly the records that drifted.
@Suite("Plan files")
struct PlanFileTests {
    static let retitle = """
        param company
        update contacts where company = $company set title = "Planned"
        """

    /// The ids of the contacts at `company`, by independent SQL.
    static func ids(_ store: CRMStore, company: String) throws -> [Int64] {
        try store.dbQueue.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM contacts WHERE company = ? ORDER BY id", arguments: [company]) }
    }

    static func titles(_ store: CRMStore, _ ids: [Int64]) throws -> [Int64: String?] {
        try store.dbQueue.read { db in
            var titles: [Int64: String?] = [:]
            for id in ids { titles[id] = try String.fetchOne(db, sql: "SELECT title FROM contacts WHERE id = ?", arguments: [id]) }
            return titles
        }
    }

    @Test func aPlanAppliedAfterAConcurrentEditRefusesExactlyTheDriftedRows() throws {
        let engine = try SampleDatabase.engine()
        let folder = try ScriptLanguageTests.folder(["retitle.rolo": Self.retitle])
        let plan = folder + "/retitle.plan"
        let made = run(engine, "plan \"\(folder)/retitle.rolo\" company=\"Acme Inc\" to \"\(plan)\"")
        #expect(made.error == nil, "\(made)")
        let planned = try Self.ids(engine.store, company: "Acme Inc")
        #expect(planned.count == 52)
        // Another session edits: the planned field of three planned contacts, another field of a
        // fourth (not a drift: the plan does not change it), and a contact outside the plan.
        let other = try Engine(store: CRMStore.open(path: engine.store.path), clock: SampleDatabase.clock, user: "admin")
        let drifted = [planned[3], planned[10], planned[40]]
        for id in drifted { #expect(run(other, "update contact \(id) set title = \"Edited \(id)\"").error == nil) }
        #expect(run(other, "update contact \(planned[5]) set phone = \"+1 555 0100\"").error == nil)
        let outsider = try #require(try engine.store.dbQueue.read { db in try Int64.fetchOne(db, sql: "SELECT min(id) FROM contacts WHERE company IS NOT 'Acme Inc'") })
        #expect(run(other, "update contact \(outsider) set title = \"Outside\"").error == nil)

        let before = try snapshot(engine.store)
        let refused = run(engine, "apply \"\(plan)\"")
        #expect(refused.error?.code == .planDrifted, "\(refused)")
        #expect(refused.error?.message.hasPrefix("3 of the plan's 52 records") == true, "\(String(describing: refused.error))")
        let listed = refused.output.split(separator: "\n").compactMap { line -> Int64? in
            guard line.hasPrefix("  contact ") else { return nil }
            return Int64(line.dropFirst("  contact ".count).prefix { $0.isNumber })
        }
        #expect(listed == drifted)
        #expect(refused.output.contains("changed by admin"))
        #expect(try snapshot(engine.store) == before)

        let applied = run(engine, "apply \"\(plan)\" --skip-drifted")
        #expect(applied.error == nil, "\(applied)")
        let titles = try Self.titles(engine.store, planned + [outsider])
        for id in planned {
            #expect(titles[id] == (drifted.contains(id) ? "Edited \(id)" : "Planned"), "contact \(id)")
        }
        #expect(titles[outsider] == "Outside")
        // Applied again: everything is as planned or left drifted; nothing to do.
        let again = run(engine, "apply \"\(plan)\" --skip-drifted")
        #expect(again.output.contains("already has its planned values") || again.output.contains("left 3 drifted"), "\(again)")
    }

    @Test func forceOverwritesTheDriftedRows() throws {
        let engine = try SampleDatabase.engine()
        let folder = try ScriptLanguageTests.folder(["retitle.rolo": Self.retitle])
        let plan = folder + "/retitle.plan"
        #expect(run(engine, "plan \"\(folder)/retitle.rolo\" company=\"Acme Inc\" to \"\(plan)\"").error == nil)
        let planned = try Self.ids(engine.store, company: "Acme Inc")
        #expect(run(engine, "update contact \(planned[0]) set title = \"Edited\"").error == nil)
        #expect(run(engine, "apply \"\(plan)\" --force").error == nil)
        #expect(try Self.titles(engine.store, planned).values.allSatisfy { $0 == "Planned" })
    }

    /// Metamorphic: applying a plan leaves every domain table as running its script directly does
    /// (records it creates, references to them, updates and deletes).
    @Test func applyingAPlanEqualsRunningItsScript() throws {
        let script = """
            create account name="Planned Ltd" industry=software
            create contact first_name="Pat" last_name="Plan" account="Planned Ltd"
            update contacts where company = "Acme Inc" and city = "Berlin" set title = "Berlin buyer"
            delete tasks where status = done and due_date < 2025-01-01
            """
        let folder = try ScriptLanguageTests.folder(["mixed.rolo": script])
        let planned = try SampleDatabase.engine()
        let direct = try SampleDatabase.engine()
        let plan = folder + "/mixed.plan"
        #expect(run(planned, "plan \"\(folder)/mixed.rolo\" to \"\(plan)\"").error == nil)
        let applied = run(planned, "apply \"\(plan)\"")
        #expect(applied.error == nil, "\(applied)")
        let ran = ScriptLanguageTests.runFile(direct, file: folder + "/mixed.rolo")
        #expect(!ran.outcome.failed, "\(ran.errors)")
        #expect(try domainSnapshot(planned.store) == domainSnapshot(direct.store))
        #expect(try domainSnapshot(planned.store) != domainSnapshot(try SampleDatabase.engine().store))
    }

    @Test func aTamperedPlanIsRefusedAndWritesNothing() throws {
        let engine = try SampleDatabase.engine()
        let folder = try ScriptLanguageTests.folder(["retitle.rolo": Self.retitle])
        let plan = folder + "/retitle.plan"
        #expect(run(engine, "plan \"\(folder)/retitle.rolo\" company=\"Acme Inc\" to \"\(plan)\"").error == nil)
        var text = try String(contentsOfFile: plan, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"Planned\"", with: "\"Hacked\"")
        try text.write(toFile: plan, atomically: true, encoding: .utf8)
        let before = try snapshot(engine.store)
        let refused = run(engine, "apply \"\(plan)\"")
        #expect(refused.error?.code == .planRefused)
        #expect(refused.error?.message.contains("SHA-256") == true)
        #expect(try snapshot(engine.store) == before)
        // Cut short: refused too.
        let lines = text.split(separator: "\n")
        try (lines.prefix(3).joined(separator: "\n") + "\n").write(toFile: plan, atomically: true, encoding: .utf8)
        #expect(run(engine, "apply \"\(plan)\"").error?.code == .planRefused)
    }

    @Test func aPlanFromAnotherDatabaseAnotherSchemaOrAChangedScriptIsRefused() throws {
        let engine = try SampleDatabase.engine()
        let folder = try ScriptLanguageTests.folder(["retitle.rolo": Self.retitle])
        let plan = folder + "/retitle.plan"
        #expect(run(engine, "plan \"\(folder)/retitle.rolo\" company=\"Acme Inc\" to \"\(plan)\"").error == nil)
        // Another database: its own secret (a copy of the sample shares the template's).
        let elsewhere = try SampleDatabase.engine()
        try elsewhere.store.dbQueue.write { db in
            try db.execute(sql: "UPDATE rolo_meta SET value = ? WHERE key = 'audit_spool_secret'", arguments: [String(repeating: "ab", count: 32)])
        }
        let before = try snapshot(elsewhere.store)
        let other = run(elsewhere, "apply \"\(plan)\"")
        #expect(other.error?.code == .planRefused && other.error?.message.contains("another database") == true, "\(other)")
        #expect(try snapshot(elsewhere.store) == before)
        // Another schema: the header says so (sealed again, as a forger with the format would).
        let text = try String(contentsOfFile: plan, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        lines[0] = lines[0].replacingOccurrences(of: "\"schema\":\(CRMSchema.version)", with: "\"schema\":\(CRMSchema.version - 1)")
        let body = lines.dropLast().map { $0 + "\n" }.joined()
        try (body + "{\"sha256\":\"\(PlanFile.sha256(Data(body.utf8)))\"}\n").write(toFile: folder + "/old.plan", atomically: true, encoding: .utf8)
        let schema = run(engine, "apply \"\(folder)/old.plan\"")
        #expect(schema.error?.code == .planRefused && schema.error?.message.contains("schema version") == true, "\(schema)")
        // The script changed since.
        try (Self.retitle + "\n# edited\n").write(toFile: folder + "/retitle.rolo", atomically: true, encoding: .utf8)
        let changed = run(engine, "apply \"\(plan)\"")
        #expect(changed.error?.code == .planRefused && changed.error?.message.contains("has changed") == true, "\(changed)")
    }

    /// `apply` checks the applier's rights on every record, as typing the changes would.
    @Test func applyingNeedsTheAppliersRights() throws {
        let engine = try SampleDatabase.engine()
        let folder = try ScriptLanguageTests.folder(["retitle.rolo": Self.retitle])
        let plan = folder + "/retitle.plan"
        #expect(run(engine, "plan \"\(folder)/retitle.rolo\" company=\"Acme Inc\" to \"\(plan)\"").error == nil)
        let alice = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "alice")
        let before = try snapshot(engine.store)
        let refused = run(alice, "apply \"\(plan)\"")
        #expect(refused.error?.code == .permissionDenied, "\(refused)")
        #expect(try snapshot(engine.store) == before)
    }
}
