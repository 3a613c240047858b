import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloShell

/// A line reader that plays back lines, then ends the input.
final class ScriptedReader: LineReader {
    var lines: [String]
    init(_ lines: [String]) { self.lines = lines }
    func readLine(prompt: String) -> LineInput { lines.isEmpty ? .endOfInput : .line(lines.removeFirst()) }
    func addHistory(_ line: String) {}
}

@Suite("Interactive shell")
struct InteractiveTests {
    /// Leaving with a transaction open and answering no discards it — and the audit log says so:
    /// the update as rolled back, and the rollback itself.
    @Test func discardingAnOpenTransactionOnLeavingIsAudited() throws {
        let engine = try SampleDatabase.engine()
        let output = StringOutput()
        let shell = Shell(engine: engine, output: output, errors: StringOutput())
        shell.runInteractive(reader: ScriptedReader(["begin", #"update contact 1 set title = "Gone""#, "n"]))
        let rows = try engine.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT command, outcome FROM audit_log ORDER BY id").map { "\($0[0] as String)|\($0[1] as String)" }
        }
        #expect(
            rows == [
                "begin|rolled_back", #"update contact 1 set title = "Gone"|rolled_back"#, "rollback (on leaving the shell)|rolled_back",
            ])
        let title = try engine.store.dbQueue.read { try String.fetchOne($0, sql: "SELECT title FROM contacts WHERE id = 1") }
        #expect(title != "Gone")
        #expect(output.text.contains("rolled back"))
    }
}
