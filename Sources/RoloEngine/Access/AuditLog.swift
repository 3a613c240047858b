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
        try append([entry], db: db)
    }

    /// Appends entries in order, reading the chain's head once (the caller holds the write lock).
    static func append(_ entries: [Engine.AuditEntry], db: Database) throws {
        guard !entries.isEmpty else { return }
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"))
        var previous: String = last?["hash"] ?? genesis
        var id: Int64 = last?["id"] ?? 0
        let insert = DirectStatement(
            statement: try db.cachedStatement(
                sql: """
                    INSERT INTO audit_log (id, at, user_id, impersonator_id, command, outcome, rows, message, prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """))
        defer { insert.finish() }
        for entry in entries {
            id += 1
            let rows = entry.rows.map(Int64.init)
            let hash = digest(
                id: id, at: entry.at, user: entry.userID, impersonator: entry.impersonatorID, command: entry.command,
                outcome: entry.outcome, rows: rows, message: entry.message, previous: previous)
            try insert.bind([
                id.databaseValue, entry.at.databaseValue, entry.userID.databaseValue, entry.impersonatorID.databaseValue,
                entry.command.databaseValue, entry.outcome.databaseValue, rows.databaseValue, entry.message.databaseValue,
                previous.databaseValue, hash.databaseValue,
            ])
            _ = try insert.step()
            previous = hash
        }
    }

    /// SHA-256, in lowercase hex, of the entry's fields and the previous entry's hash.
    static func digest(
        id: Int64, at: String, user: Int64?, impersonator: Int64?, command: String, outcome: String, rows: Int64?,
        message: String?, previous: String
    ) -> String {
        // Each field length-prefixed ("5:hello"), joined by "|": no field can pass for another.
        // Numbers are written in decimal straight into the bytes: this runs for every command.
        var text: [UInt8] = []
        text.reserveCapacity(command.utf8.count + (message?.utf8.count ?? 0) + 200)
        func add(_ field: String) {
            if !text.isEmpty { text.append(UInt8(ascii: "|")) }
            var field = field
            field.withUTF8 { bytes in
                DecimalBytes.append(Int64(bytes.count), to: &text)
                text.append(UInt8(ascii: ":"))
                text.append(contentsOf: bytes)
            }
        }
        func add(_ number: Int64?) {
            if !text.isEmpty { text.append(UInt8(ascii: "|")) }
            guard let number else { return text.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ":")]) }
            DecimalBytes.append(Int64(DecimalBytes.count(number)), to: &text)
            text.append(UInt8(ascii: ":"))
            DecimalBytes.append(number, to: &text)
        }
        add(id)
        add(at)
        add(user)
        add(impersonator)
        add(command)
        add(outcome)
        add(rows)
        add(message ?? "")
        add(previous)
        var hasher = SHA256()
        text.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let digest = hasher.finalize()
        return digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 64) { buffer in
                for (index, byte) in bytes.enumerated() {
                    buffer[2 * index] = hexDigits[Int(byte >> 4)]
                    buffer[2 * index + 1] = hexDigits[Int(byte & 0x0F)]
                }
                return 64
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

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
