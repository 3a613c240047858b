import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloShell

/// A script's change set is listed under the script's file, not its first statement.
@Suite("Script change sets")
struct ScriptChangeSetTests {
    @Test func aScriptsChangeSetIsNamedAfterItsFile() throws {
        let engine = try SampleDatabase.engine()
        let output = StringOutput()
        let shell = Shell(engine: engine, output: output, errors: StringOutput())
        let source = """
            update contact 5 set title = "A"
            update contact 6 set title = "B"
            """
        #expect(shell.runSource(source, file: "fixes/titles.rolo") == .success)
        // A -c command of several statements has no file: it keeps its first statement.
        #expect(shell.runSource(#"update contact 7 set title = "C"; update contact 8 set title = "D""#, file: nil) == .success)
        // A single statement from a file is one change set of its own, under its own text.
        #expect(shell.runSource(#"update contact 9 set title = "E""#, file: "one.rolo") == .success)
        let rows = try engine.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT command, records FROM change_sets ORDER BY id").map {
                "\(try $0.decode(String.self, atIndex: 0))|\(try $0.decode(Int.self, atIndex: 1))"
            }
        }
        #expect(
            rows == [
                "script fixes/titles.rolo|2", #"update contact 7 set title = "C"|2"#, #"update contact 9 set title = "E"|1"#,
            ])
        let changes = StringOutput()
        _ = try engine.execute(try #require(try Parser.parse("changes 3 --format csv").first), output: changes)
        #expect(changes.text.contains(",script fixes/titles.rolo,"), "\(changes.text)")
    }
}
