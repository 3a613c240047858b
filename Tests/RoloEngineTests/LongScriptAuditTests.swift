import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// A long script inserts its audit entries as it goes and keeps the inserted ones for a rollback
/// out of memory (AuditSpill). The oracle is the same script run with everything kept in memory:
/// the audit log must come out identical, row for row, whether the script commits or fails at its
/// last statement and is rolled back.
@Suite("Audit of long scripts")
struct LongScriptAuditTests {
    static func script(_ statements: Int, failAtEnd: Bool) -> String {
        var lines: [String] = []
        for n in 1...statements {
            lines.append(n % 3 == 0 ? "update contact \(n % 200 + 1) set title = \"T\(n)\"" : "count contacts where id = \(n)")
        }
        if failAtEnd { lines.append("update contact 1 set emial = 1") }
        return lines.joined(separator: "\n")
    }

    /// Runs `source` as a script file through the engine's runner; returns the audit log's rows
    /// (every column but the id, as text) and the most entries held in memory along the way.
    static func run(_ source: String, batch: Int?, kept: Int?) throws -> (log: [String], held: Int, failed: Bool, verified: Bool) {
        let engine = try SampleDatabase.engine()
        if let batch { engine.audit.batch = batch }
        if let kept { engine.audit.keptInMemory = kept }
        let output = StringOutput()
        let runner = ScriptRunner(engine: engine) { _ in }
        var held = 0
        runner.didRun = { _, _ in held = max(held, engine.audit.held) }
        let outcome = runner.run(try Script(source, file: "long.rolo"), mode: .whole(exitCodeForDryRun: false), output: output, errors: output)
        let log = try engine.store.dbQueue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id").map { row in
                row.columnNames.filter { $0 != "id" }.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(separator: "|")
            }
        }
        let verify = StringOutput()
        let verified = (try? engine.execute(try Parser.parseStatement("verify audit"), output: verify)) != nil
        return (log, held, outcome.failed, verified)
    }

    @Test(arguments: [false, true])
    func aLongScriptsAuditIsTheSameKeptOnDisk(failAtEnd: Bool) throws {
        let source = Self.script(400, failAtEnd: failAtEnd)
        let inMemory = try Self.run(source, batch: 1_000_000, kept: 1_000_000)
        let spilled = try Self.run(source, batch: 7, kept: 30)
        #expect(inMemory.failed == failAtEnd && spilled.failed == failAtEnd)
        #expect(inMemory.held >= 400)
        #expect(spilled.held <= 30 + 7, "held \(spilled.held) entries")
        #expect(spilled.log.count == inMemory.log.count)
        #expect(spilled.log == inMemory.log)
        #expect(spilled.verified && inMemory.verified)
        // The independent count: one entry per statement (the script's own, rolled back or not).
        let outcomes = spilled.log.filter { $0.contains("command=\"count contacts where id = ") || $0.contains("command=\"update contact ") }
        #expect(outcomes.count == 400 + (failAtEnd ? 1 : 0))
        if failAtEnd {
            #expect(outcomes.filter { $0.contains("outcome=\"rolled_back\"") }.count == 400)
        } else {
            #expect(outcomes.allSatisfy { $0.contains("outcome=\"ok\"") })
        }
    }
}
