import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// `quit` in a script (piped input: `printf 'update …\nquit\n' | rolo`) ends it where it stands:
/// what ran before it is kept, as at the script's end, and nothing after it runs. It once rolled
/// the whole script back with "the script stopped at the error" and no error.
@Suite("Quit in a script")
struct ScriptQuitTests {
    @Test func quitKeepsWhatRanAndRunsNothingAfter() throws {
        let engine = try SampleDatabase.engine()
        let output = StringOutput(), errors = StringOutput()
        let source = "update contact 1 set title = \"Quit Test\"\nquit\nupdate contact 2 set title = \"After Quit\"\n"
        let outcome = ScriptRunner(engine: engine) { _ in }.run(
            try Script(source, file: "piped.rolo"), mode: .whole(exitCodeForDryRun: false), output: output, errors: errors)
        #expect(!outcome.failed && outcome.quit)
        #expect(!errors.text.contains("stopped at the error"))
        let titles = try engine.store.dbQueue.read { db in try String.fetchAll(db, sql: "SELECT title FROM contacts WHERE id IN (1, 2) ORDER BY id") }
        #expect(titles.first == "Quit Test")
        #expect(titles.last != "After Quit")
    }
}
