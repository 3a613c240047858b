import RoloEngine
import RoloSyntax
import RoloTestSupport
import Testing

/// Every example `help` shows runs, in order, on a fresh sample company as admin.
@Suite("Help examples")
struct HelpExampleTests {
    @Test func everyExampleRuns() throws {
        let engine = try SampleDatabase.engine()
        var ran = 0
        for topic in HelpCommand.topics {
            for example in topic.examples {
                let result = run(engine, example)
                #expect(result.error == nil, "help \(topic.name): \(example) → \(result.error?.message ?? "")")
                ran += 1
            }
        }
        #expect(ran >= 40)
    }

    @Test func everyCommandHasHelp() {
        let topics = Set(HelpCommand.topics.map(\.name))
        for command in Parser.commands
        where ![
            "exit", "avg", "min", "max", "commit", "rollback", "revoke", "allow", "deny",
            "drop", "login", "deactivate", "activate", "move", "dry-run", "audit",
        ].contains(command) {
            #expect(topics.contains(command), "no help for \(command)")
        }
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
