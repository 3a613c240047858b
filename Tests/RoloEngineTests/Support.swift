import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport

/// Runs one command; returns its output and the diagnostic, if it failed.
func run(_ engine: Engine, _ command: String) -> (output: String, error: Diagnostic?) {
    let output = StringOutput()
    do {
        _ = try engine.run(command, output: output)
        return (output.text, nil)
    } catch let diagnostic as Diagnostic {
        return (output.text, diagnostic)
    } catch {
        return (output.text, Diagnostic(.constraintViolated, "\(error)"))
    }
}

/// Every row of every table but the audit log, as text: equal snapshots mean nothing was kept.
func snapshot(_ store: CRMStore) throws -> String {
    try store.dbQueue.inDatabase { db in
        var text = ""
        let tables = try String.fetchAll(
            db,
            sql:
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('audit_log') AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        for table in tables {
            text += "== \(table)\n"
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY rowid") { text += row.description + "\n" }
        }
        return text
    }
}

/// Rows changed on the connection so far (rolled-back changes count too).
func totalChanges(_ store: CRMStore) throws -> Int {
    store.dbQueue.inDatabase { $0.totalChangesCount }
}

func auditOutcomes(_ store: CRMStore) throws -> [String] {
    try store.dbQueue.inDatabase { try String.fetchAll($0, sql: "SELECT outcome FROM audit_log ORDER BY id") }
}
