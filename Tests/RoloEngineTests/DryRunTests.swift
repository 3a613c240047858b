import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// A dry-run is the real command rolled back: same output shape, nothing kept but its audit entry.
@Suite("Dry-run changes nothing")
struct DryRunTests {
    static let commands = [
        #"create contact first_name="Ana" last_name="Ruiz" email="ana.r@acme.io" account="Acme""#,
        #"update contact 42 set title = "COO""#,
        #"update contacts where company = "Acme Inc" set company = "Acme, Inc.""#,
        "update contacts where email is not empty set email = lower(trim(email))",
        "delete deals where stage = lost",
        "delete contact 43",
        "assign deals where owner = bob to carol",
        "merge contact 17 into 12",
        #"log call on contact 42 "Discussed renewal""#,
        #"add task "Send proposal" on deal 9 due in 2 days for alice"#,
        #"create user dana name="Dana Lee" team=analytics"#,
        "create team Partners",
        "move bob to team \"Sales West\"",
        "deactivate user bob",
        "grant data_analyst to bob",
        "revoke sales_rep from bob",
        "create role regional_manager like sales_manager",
        "allow data_analyst update deals scope all",
        "deny support_rep read deals.amount",
        "rule contacts require title",
    ]

    @Test(arguments: commands)
    func dryRunKeepsNothing(command: String) throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let preview = run(engine, command + " --dry-run")
        #expect(preview.error == nil, "\(preview.error?.message ?? "")")
        #expect(preview.output.contains("would be"), "\(preview.output)")
        #expect(try snapshot(engine.store) == before)
        #expect(try auditOutcomes(engine.store).last == "dry_run")
        // The same command for real does change the database, with the same count.
        let real = run(engine, command)
        #expect(real.error == nil)
        #expect(try snapshot(engine.store) != before)
        let count = { (text: String) in
            text.split(separator: "\n").first.map { $0.split(separator: " ").filter { Int($0) != nil }.first.map(String.init) ?? "" } ?? ""
        }
        #expect(count(preview.output) == count(real.output.replacingOccurrences(of: "dry-run: ", with: "")))
    }

    @Test func undoCanBePreviewed() throws {
        let engine = try SampleDatabase.engine()
        _ = run(engine, #"update contacts where company = "Acme Inc" set company = "Acme, Inc.""#)
        let before = try snapshot(engine.store)
        let preview = run(engine, "undo --dry-run")
        #expect(preview.error == nil)
        #expect(preview.output.contains("52 records would be reverted"))
        #expect(try snapshot(engine.store) == before)
    }

    @Test func dryRunModePreviewsEveryChange() throws {
        let engine = try SampleDatabase.engine()
        engine.session.settings.dryRun = true
        let before = try snapshot(engine.store)
        for command in Self.commands.prefix(6) {
            #expect(run(engine, command).error == nil)
        }
        #expect(try snapshot(engine.store) == before)
    }

    @Test func aFailingScriptLeavesNothing() throws {
        let engine = try SampleDatabase.engine()
        let before = try snapshot(engine.store)
        let errors = StringOutput()
        let shell = RoloShellHarness.shell(engine, errors: errors)
        let status = shell.runSource(
            "update contact 42 set title = \"A\"\nupdate contact 43 set title = \"B\"\nupdate contact 44 set emial = \"x\"\n",
            file: "fix.rolo")
        #expect(status.rawValue == 1)
        #expect(errors.text.contains("fix.rolo:3:"))
        #expect(try snapshot(engine.store) == before)
    }
}
