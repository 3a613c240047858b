import Crypto
import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// The audit log: one entry per command — succeeded, refused, failed or dry-run — with user,
/// impersonator, time, command text, outcome and row count. Entries are hash-chained: each holds
/// SHA-256 of its own fields and the previous entry's hash, so `verify audit` finds the first
/// entry that was altered, inserted or removed.
enum AuditLog {
    static let genesis = String(repeating: "0", count: 64)

    static func append(_ entry: Engine.AuditEntry, db: Database) throws {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"))
        let previous: String = last?["hash"] ?? genesis
        let id: Int64 = (last?["id"] ?? 0) + 1
        let hash = digest(id: id, at: entry.at, user: entry.userID, impersonator: entry.impersonatorID, command: entry.command,
                          outcome: entry.outcome, rows: entry.rows.map(Int64.init), message: entry.message, previous: previous)
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (id, at, user_id, impersonator_id, command, outcome, rows, message, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        try insert.execute(arguments: [
            id, entry.at, entry.userID, entry.impersonatorID, entry.command, entry.outcome, entry.rows, entry.message, previous, hash,
        ])
    }

    static func digest(
        id: Int64, at: String, user: Int64?, impersonator: Int64?, command: String, outcome: String, rows: Int64?,
        message: String?, previous: String
    ) -> String {
        // Fields joined with a separator that cannot occur in them unescaped (length-prefixed).
        let fields = [String(id), at, user.map(String.init) ?? "", impersonator.map(String.init) ?? "", command, outcome,
                      rows.map(String.init) ?? "", message ?? "", previous]
        let text = fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
        return SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Walks the chain and reports the first broken link.
    static func verify(db: Database, output: OutputSink) throws -> CommandResult {
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY id")
        var previous = genesis
        var expectedID: Int64 = 1
        var count = 0
        while let row = try cursor.next() {
            let id: Int64 = row["id"]
            if id != expectedID {
                throw problem("audit entries \(expectedID)\(id - 1 > expectedID ? "–\(id - 1)" : "") are missing")
            }
            let stored: String? = row["hash"]
            let prev: String? = row["prev_hash"]
            let recomputed = digest(
                id: id, at: row["at"], user: row["user_id"], impersonator: row["impersonator_id"], command: row["command"],
                outcome: row["outcome"], rows: row["rows"], message: row["message"], previous: previous)
            if prev != previous {
                throw problem("audit entry \(id) does not follow entry \(id - 1): an entry before it was changed or removed")
            }
            if stored != recomputed {
                throw problem("audit entry \(id) was altered after it was written")
            }
            previous = recomputed
            expectedID += 1
            count += 1
        }
        output.line("audit log verified: \(count) entries, the chain is intact")
        var result = CommandResult()
        result.rows = count
        return result
    }

    private static func problem(_ message: String) -> Diagnostic {
        Diagnostic(.constraintViolated, message, help: "the audit log has been tampered with; restore it from a backup and investigate")
    }
}
