import Foundation
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Every example `help` shows runs on a fresh sample company as admin — a sandbox, as `rolo demo`
/// opens, so `checkpoint` and `reset` run too — in the order help lists them, and prints exactly
/// its recorded output: Tests/Examples/COMMAND.out, one file per
/// command, each example echoed after `rolo> ` and followed by what it printed (or its error).
/// `ROLO_RECORD=1` re-records them and fails the run, naming the files, like the transcripts.
@Suite("Help examples")
struct HelpExampleTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples")

    @Test func everyExamplePrintsItsRecordedOutput() throws {
        let engine = try SampleDatabase.sandboxEngine()
        var ran = 0
        var expectedFiles = Set<String>()
        for command in CommandRegistry.all {
            var text = ""
            for example in command.examples {
                let result = run(engine, example)
                text += "rolo> \(example)\n" + result.output
                if let error = result.error {
                    text += "error[\(error.code.rawValue)]: \(error.message)\n"
                    Issue.record("help \(command.name): \(example) → \(error.message)")
                }
                text += "\n"
                ran += 1
            }
            guard !command.examples.isEmpty else { continue }
            let name = command.name + ".out"
            expectedFiles.insert(name)
            let url = Self.folder.appendingPathComponent(name)
            let expected = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            if expected == text { continue }
            if ProcessInfo.processInfo.environment["ROLO_RECORD"] == "1" {
                try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
                Issue.record(Comment(rawValue: "re-recorded Tests/Examples/\(name); review the diff and run again without ROLO_RECORD"))
            } else {
                let diff = TextDiff.unified(expected: expected, actual: text, label: name)
                Issue.record(Comment(rawValue: "help \(command.name)'s examples differ (ROLO_RECORD=1 re-records):\n\(diff)"))
            }
        }
        #expect(ran >= 40)
        // No recorded output for an example that is gone.
        let files = Set((try? FileManager.default.contentsOfDirectory(atPath: Self.folder.path)) ?? [])
        #expect(files == expectedFiles, "Tests/Examples holds \(files.subtracting(expectedFiles).sorted()) with no command")
    }
}

/// The registry is the one list of commands: each form's words start one command only, help
/// finds every command by name and by each of its verbs, and every permission action a command
/// declares is one of the permission model's.
@Suite("Command registry")
struct CommandRegistryTests {
    @Test func everyFormIsUniqueAndFindsItsCommand() {
        var seen: [[String]: String] = [:]
        for command in CommandRegistry.all {
            for form in command.forms {
                #expect(seen[form.words] == nil, "\(form.words) starts both \(seen[form.words] ?? "") and \(command.name)")
                seen[form.words] = command.name
                #expect(CommandRegistry.command(startingWith: form.words)?.command == command, "\(form.words)")
            }
            #expect(CommandRegistry.command(named: command.name) == command)
            for verb in command.verbs { #expect(CommandRegistry.command(named: verb) == command, "help \(verb)") }
            #expect(Set(command.actions).count == command.actions.count, "\(command.name) lists an action twice")
        }
        #expect(seen.count >= 40)
    }

    /// Each command's words reach it through the parser (and not another command).
    @Test(arguments: [
        ("find contacts", "find"), ("count deals by stage", "count"), ("avg deals.amount", "sum"), ("show contact 1", "show"),
        ("create user dana name=\"Dana\"", "user"), ("create team \"East\"", "user"), ("create role r like sales_rep", "role"),
        ("create contact last_name=\"X\"", "create"), ("dry-run on", "dry-run"), ("exit", "quit"), ("commit", "begin"),
        ("revoke sales_rep from bob", "grant"), ("audit anchor", "verify audit"), ("verify audit", "verify audit"),
        ("verify contact 12 email", "verify"), ("login bob", "as"), ("drop role r", "role"),
    ])
    func wordsReachTheirCommand(source: String, name: String) throws {
        let statement = try Parser.parseStatement(source)
        #expect(type(of: statement.unit).name == name)
    }
}

/// `help` names every command the parser accepts, in its list or a synopsis.
@Suite("Help lists every command")
struct HelpListTests {
    @Test func everyAcceptedCommandIsInHelp() throws {
        let engine = try SampleDatabase.engine()
        let listing = run(engine, "help").output
        for command in Parser.commands {
            let words = listing.split(whereSeparator: { !$0.isLetter && $0 != "-" && $0 != "_" }).map(String.init)
            #expect(words.contains(command), "help does not mention \(command)")
        }
    }
}
