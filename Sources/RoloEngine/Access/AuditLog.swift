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
    /// Prefix of a hash made with the audit key (HMAC-SHA-256): it cannot be recomputed without the key.
    static let keyedPrefix = "k:"

    static func append(_ entry: AuditEntry, db: Database, key: AuditKey? = nil) throws {
        try append([entry], db: db, key: key)
    }

    /// Appends entries in order. The caller holds the write lock (a `BEGIN IMMEDIATE`
    /// transaction), so the chain's head read here cannot be overtaken by another writer.
    static func append(_ entries: [AuditEntry], db: Database, key: AuditKey? = nil) throws {
        guard !entries.isEmpty else { return }
        let last = try Row.fetchOne(db.cachedStatement(sql: headSQL))
        var previous: String = try last?.decode(forColumn: "hash") ?? genesis
        var id: Int64 = try last?.decode(forColumn: "id") ?? 0
        let insert = DirectStatement(
            statement: try db.cachedStatement(sql: insertSQL))
        defer { insert.finish() }
        // One array of values for every entry, each entry's put in place (no array an entry).
        var values = [DatabaseValue](repeating: .null, count: 11)
        for entry in entries {
            id += 1
            let rows = entry.rows.map(Int64.init)
            // What is stored is what is hashed: a NUL would be cut from the stored text.
            let command = storable(entry.command)
            let message = entry.message.map(storable)
            let hash = digest(
                id: id, at: entry.at, user: entry.userID, impersonator: entry.impersonatorID, command: command,
                outcome: entry.outcome.rawValue, rows: rows, message: message, changeSet: entry.changeSetID, previous: previous, key: key)
            // Each value made by its own type's conversion (`Optional`'s generic one is not
            // specialised across modules), the text bound in place.
            func value(_ number: Int64?) -> DatabaseValue { number.map(\.databaseValue) ?? .null }
            func value(_ text: String?) -> DatabaseValue { text.map(\.databaseValue) ?? .null }
            values[0] = id.databaseValue
            values[1] = entry.at.databaseValue
            values[2] = entry.userID.databaseValue
            values[3] = value(entry.impersonatorID)
            values[4] = command.databaseValue
            values[5] = entry.outcome.rawValue.databaseValue
            values[6] = value(rows)
            values[7] = value(message)
            values[8] = value(entry.changeSetID)
            values[9] = previous.databaseValue
            values[10] = hash.databaseValue
            try insert.withArguments(values) { _ = try insert.step() }
            previous = hash
        }
    }

    /// Text as it can be stored: NUL (which SQLite's C strings would cut) shown as ␀.
    static func storable(_ text: String) -> String {
        var text = text
        let hasNul = text.withUTF8 { bytes in bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }
        guard hasNul else { return text }
        return text.replacingOccurrences(of: "\u{0}", with: "\u{2400}")
    }

    /// The chain link of an entry: SHA-256 of its fields, or with a key an HMAC (prefixed `k:`).
    static func digest(
        id: Int64, at: String, user: Int64?, impersonator: Int64?, command: String, outcome: String, rows: Int64?,
        message: String?, changeSet: Int64?, previous: String, key: AuditKey?
    ) -> String {
        withDigestText(
            id: id, at: at, user: user, impersonator: impersonator, command: command, outcome: outcome, rows: rows, message: message,
            changeSet: changeSet, previous: previous
        ) { text in
            guard let key else {
                var hasher = SHA256()
                hasher.update(bufferPointer: text)
                return hex(hasher.finalize())
            }
            var mac = HMAC<SHA256>(key: key.key)
            mac.update(data: text)
            return keyedPrefix + hex(mac.finalize())
        }
    }

    /// SHA-256, in lowercase hex, of an entry without a change set (the format pinned by tests).
    static func digest(
        id: Int64, at: String, user: Int64?, impersonator: Int64?, command: String, outcome: String, rows: Int64?,
        message: String?, previous: String
    ) -> String {
        digest(
            id: id, at: at, user: user, impersonator: impersonator, command: command, outcome: outcome, rows: rows, message: message,
            changeSet: nil, previous: previous, key: nil)
    }

    /// Lowercase hex of a digest's bytes, read in place (copying them into an array first was a
    /// tenth of an entry's hashing).
    private static func hex<D: ContiguousBytes>(_ digest: D) -> String {
        digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
                for index in 0..<bytes.count {
                    buffer[2 * index] = hexDigit(bytes[index] >> 4)
                    buffer[2 * index + 1] = hexDigit(bytes[index] & 0x0F)
                }
                return bytes.count * 2
            }
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    /// The bytes an entry's link is computed over: each field length-prefixed ("5:hello"), joined
    /// by "|", so no field can pass for another; an entry naming a change set ends with "|cs:" and
    /// that field (entries without one keep the original format). This runs for every command:
    /// the length is counted first, then every byte written once into memory on the stack (for
    /// an entry of ordinary length), which `body` reads.
    static func withDigestText<Result>(
        id: Int64, at: String, user: Int64?, impersonator: Int64?, command: String, outcome: String, rows: Int64?,
        message: String?, changeSet: Int64?, previous: String, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        let message = message ?? ""
        // A field's bytes: its length, ':' and itself (an absent number is "0:").
        func size(_ text: String) -> Int { DecimalBytes.count(Int64(text.utf8.count)) + 1 + text.utf8.count }
        func size(_ number: Int64?) -> Int {
            number.map { DecimalBytes.count(Int64(DecimalBytes.count($0))) + 1 + DecimalBytes.count($0) } ?? 2
        }
        // Nine fields and eight '|'; then "|cs|" and the change set.
        var length = 8 + size(id) + size(at) + size(user) + size(impersonator) + size(command) + size(outcome) + size(rows)
        length += size(message) + size(previous) + (changeSet.map { 4 + size($0) } ?? 0)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
            var writer = DigestWriter(start: buffer.baseAddress!)
            writer.add(id)
            writer.add(at)
            writer.add(user)
            writer.add(impersonator)
            writer.add(command)
            writer.add(outcome)
            writer.add(rows)
            writer.add(message)
            writer.add(previous)
            if let changeSet {
                for byte in "|cs".utf8 { writer.put(byte) }
                writer.add(changeSet)
            }
            let written = writer.next - writer.start
            precondition(written == length, "audit digest text: \(written) bytes written, \(length) counted")
            return body(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Writes an entry's fields into memory already counted (`digestText`): a struct, so its
    /// position is a plain local (in closures it was boxed, each write checked at run time).
    private struct DigestWriter {
        let start: UnsafeMutablePointer<UInt8>
        var next: UnsafeMutablePointer<UInt8>

        init(start: UnsafeMutablePointer<UInt8>) {
            self.start = start
            self.next = start
        }

        mutating func put(_ byte: UInt8) {
            next.initialize(to: byte)
            next += 1
        }

        mutating func add(_ field: String) {
            if next != start { put(UInt8(ascii: "|")) }
            var field = field
            let count = field.utf8.count
            next += DecimalBytes.write(Int64(count), at: next)
            put(UInt8(ascii: ":"))
            let at = next
            field.withUTF8 { bytes in
                if let source = bytes.baseAddress { at.initialize(from: source, count: bytes.count) }
            }
            next += count
        }

        mutating func add(_ number: Int64?) {
            if next != start { put(UInt8(ascii: "|")) }
            guard let number else {
                put(UInt8(ascii: "0"))
                return put(UInt8(ascii: ":"))
            }
            next += DecimalBytes.write(Int64(DecimalBytes.count(number)), at: next)
            put(UInt8(ascii: ":"))
            next += DecimalBytes.write(number, at: next)
        }
    }

    /// The last entry's number and hash (built once: it runs with every entry appended).
    private static let headSQL = Select(Select.columns(["id", "hash"]), from: "audit_log")
        .ordered(by: Sql.descending(Sql.name("id"))).limited(Sql.literal(1)).sql.sql
    private static let insertSQL = Insert.prepared(
        into: "audit_log",
        columns: ["id", "at", "user_id", "impersonator_id", "command", "outcome", "rows", "message", "change_set_id", "prev_hash", "hash"]
    ).sql

    /// Whether the chain's last entry is keyed (an HMAC with ROLO_AUDIT_KEY): then every later
    /// entry must be too.
    static func headIsKeyed(db: Database) throws -> Bool {
        let hash: String? = try Row.fetchOne(db.cachedStatement(sql: headSQL))?["hash"]
        return hash?.hasPrefix(keyedPrefix) ?? false
    }

    /// The head of the chain: the last entry's number and hash, to keep outside the database.
    static func anchor(db: Database) throws -> (id: Int64, hash: String)? {
        guard let row = try Row.fetchOne(db, sql: headSQL) else { return nil }
        return (try row.decode(forColumn: "id"), try row.decode(forColumn: "hash") ?? "")
    }

    /// Walks the whole chain and reports the first broken link and every later one; with an
    /// anchor (an entry number and hash kept outside the database) it also detects a log cut
    /// short after the anchor was taken, or a chain recomputed from scratch.
    /// `spool` holds breaks and notes about the audit spool (`AuditSpool.inspect`): lines kept
    /// aside, or waiting, that are not to join the chain.
    static func verify(
        db: Database, key: AuditKey?, anchor: (id: Int64, hash: String)?, spool: (problems: [String], notes: [String]) = ([], []),
        output: OutputSink
    ) throws -> CommandResult {
        let cursor = try Row.fetchCursor(db, Select(Sql.all, from: "audit_log").ordered(by: Sql.name("id")).sql)
        var previous = genesis
        var expectedID: Int64 = 1
        var count = 0
        var problems: [String] = []
        var keyedSeen = false
        var unverifiable: Int64? = nil
        var anchorHash: String? = nil
        while let row = try cursor.next() {
            let id: Int64 = try row.decode(forColumn: "id")
            if id != expectedID {
                problems.append("audit entries \(expectedID)\(id - 1 > expectedID ? "–\(id - 1)" : "") are missing")
            }
            let stored: String = try row.decode(forColumn: "hash") ?? ""
            let prev: String? = try row.decode(forColumn: "prev_hash")
            let keyed = stored.hasPrefix(keyedPrefix)
            if id == anchor?.id { anchorHash = stored }
            if prev != previous, id == expectedID {
                problems.append("audit entry \(id) does not follow entry \(id - 1): an entry before it was changed or removed")
            }
            if keyed {
                keyedSeen = true
            } else if keyedSeen {
                problems.append("audit entry \(id) is not keyed although earlier entries are: written without the key, or forged")
            }
            if keyed, key == nil {
                unverifiable = unverifiable ?? id
            } else {
                let recomputed = digest(
                    id: id, at: try row.decode(forColumn: "at"), user: try row.decode(forColumn: "user_id"), impersonator: try row.decode(forColumn: "impersonator_id"), command: try row.decode(forColumn: "command"),
                    outcome: try row.decode(forColumn: "outcome"), rows: try row.decode(forColumn: "rows"), message: try row.decode(forColumn: "message"), changeSet: try row.decode(forColumn: "change_set_id"),
                    previous: prev ?? genesis, key: keyed ? key : nil)
                if stored != recomputed {
                    problems.append(
                        keyed
                            ? "audit entry \(id) does not match its keyed hash: altered, or the key is not the one it was written with"
                            : "audit entry \(id) was altered after it was written")
                }
            }
            // Go on from what is stored, so every later break is reported too, not only the first.
            previous = stored
            expectedID = id + 1
            count += 1
        }
        if let anchor {
            if anchor.id >= expectedID {
                problems.append(
                    "the log ends at entry \(expectedID - 1) but the anchor names entry \(anchor.id): entries were removed from the end")
            } else if let found = anchorHash, found != anchor.hash {
                problems.append(
                    "audit entry \(anchor.id) differs from the anchor: the chain was rewritten or recomputed since the anchor was taken")
            } else if anchorHash == nil {
                problems.append("audit entry \(anchor.id), which the anchor names, is missing")
            }
        }
        let chainIntact = problems.isEmpty
        problems += spool.problems
        if let first = problems.first {
            for problem in problems { output.line("break: " + problem) }
            for note in spool.notes { output.line(note) }
            throw Diagnostic(
                .auditBroken, problems.count == 1 ? first : "\(problems.count) breaks in the audit log; the first: \(first)",
                help: chainIntact
                    ? "the chain itself is intact; each line kept aside says why it was not appended: investigate, then remove the file"
                    : "the audit log has been tampered with; restore it from a backup and investigate")
        }
        var line = "audit log verified: \(count) entries, the chain is intact"
        if let anchor { line += " and holds the anchor (entry \(anchor.id))" }
        output.line(line)
        if let unverifiable {
            output.line("entries from \(unverifiable) on are keyed: set ROLO_AUDIT_KEY to the key file to check their hashes")
        }
        for note in spool.notes { output.line(note) }
        var result = CommandResult()
        result.rows = count
        return result
    }

    /// Reads an anchor given as `N:HASH`, or a file holding one (the output of `audit anchor`).
    static func parseAnchor(_ text: String, at range: SourceRange?) throws -> (id: Int64, hash: String) {
        func parse(_ candidate: Substring) -> (Int64, String)? {
            let parts = candidate.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let id = Int64(parts[0]) else { return nil }
            let hash = String(parts[1]).trimmingCharacters(in: .whitespaces)
            let bare = hash.hasPrefix(keyedPrefix) ? String(hash.dropFirst(keyedPrefix.count)) : hash
            guard bare.count == 64, bare.allSatisfy(\.isHexDigit) else { return nil }
            return (id, hash)
        }
        if let anchor = parse(Substring(text)) { return anchor }
        guard let data = FileManager.default.contents(atPath: text) else {
            throw Diagnostic(
                .invalidValue, "'\(text)' is neither an anchor (N:HASH) nor a readable file", at: range,
                help: "`audit anchor` prints one; keep it outside the database")
        }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").reversed() {
            for word in line.split(separator: " ") {
                if let anchor = parse(word) { return anchor }
            }
        }
        throw Diagnostic(.invalidValue, "no anchor (N:HASH) in \(text)", at: range, help: "`audit anchor > FILE` writes one")
    }

    private static func problem(_ message: String) -> Diagnostic {
        Diagnostic(.constraintViolated, message, help: "the audit log has been tampered with; restore it from a backup and investigate")
    }
}

/// The optional audit key: a file named by ROLO_AUDIT_KEY, kept outside the database. With it,
/// each entry's hash is an HMAC, so the chain cannot be recomputed by someone without the key.
struct AuditKey {
    let key: SymmetricKey

    /// Loads the key named by the environment, or nil when none is set.
    static func fromEnvironment() throws -> AuditKey? {
        guard let path = ProcessInfo.processInfo.environment["ROLO_AUDIT_KEY"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(.fileUnreadable, "cannot read the audit key file '\(path)' (ROLO_AUDIT_KEY)")
        }
        guard data.count >= 16 else {
            throw Diagnostic(
                .invalidValue, "the audit key file '\(path)' holds \(data.count) bytes; use at least 16 random bytes",
                help: "e.g. head -c 32 /dev/urandom > audit.key; chmod 600 audit.key")
        }
        return AuditKey(key: SymmetricKey(data: data))
    }
}
