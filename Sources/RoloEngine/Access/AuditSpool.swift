import Crypto
import Foundation
import GRDB
import RoloStore

/// Audit entries of reads that ended while another session held the write lock.
///
/// A read never waits for the write lock, yet every read is recorded: its entry waits in memory
/// and is appended with the session's next write or when the lock is free. A session that ends
/// with entries still waiting appends them here, to a file beside the database
/// (`crm.db-audit-spool`, mode 0600), and the next session that takes the write lock moves them
/// into the hash chain before its own entries.
///
/// The spool is outside the chain, so every line is sealed: `k:MAC JSON` (HMAC-SHA-256 with a key
/// derived from `ROLO_AUDIT_KEY` and the database's spool secret), `s:MAC JSON` (the secret
/// alone, when the log has no key), or `- JSON` (a session without the key of a keyed log: it
/// cannot seal, and its lines never join the chain). The JSON names the writing session (random),
/// the line's number in it and how many it wrote. A line is appended to the chain only if its
/// seal is valid, its session's lines are all there and in time order, it is not dated in the
/// future, and the users and change set it names exist; every other line, and a spool file that
/// is a symbolic link, not a regular file, someone else's or writable by others, is kept in
/// `crm.db-audit-spool-rejected` (mode 0600), noted in the chain, and reported by `verify audit`
/// as a break until someone has looked and removed the file.
struct AuditSpool {
    let path: String?

    init(databasePath: String) {
        path = databasePath == ":memory:" ? nil : databasePath + "-audit-spool"
    }

    /// Where lines that were not appended are kept.
    var rejectedPath: String? { path.map { $0 + "-rejected" } }

    /// One line's JSON.
    struct Line: Codable {
        let session: String
        let seq: Int
        let of: Int
        let entry: AuditEntry
    }

    /// How lines are sealed: with a MAC key (`keyed` says whether it comes from the audit key), or not at all.
    struct Seal {
        let key: SymmetricKey?
        let keyed: Bool

        static var none: Seal { Seal(key: nil, keyed: false) }

        /// The MAC key of lines: the database's secret, or with the audit key HMAC(key, label | secret),
        /// so a line sealed for one database does not pass in another that shares the key.
        init(secret: [UInt8], auditKey: AuditKey?) {
            guard let auditKey else {
                self.init(key: SymmetricKey(data: secret), keyed: false)
                return
            }
            var mac = HMAC<SHA256>(key: auditKey.key)
            mac.update(data: Array("rolo audit spool v1|".utf8))
            mac.update(data: secret)
            self.init(key: SymmetricKey(data: Data(mac.finalize())), keyed: true)
        }

        init(key: SymmetricKey?, keyed: Bool) {
            self.key = key
            self.keyed = keyed
        }

        var tag: String { key == nil ? "-" : keyed ? "k:" : "s:" }
    }

    /// Appends entries, one sealed line each, in one write (O_APPEND keeps concurrent writers'
    /// lines whole). Refuses a spool that is a symbolic link, someone else's or writable by others.
    func spool(_ entries: [AuditEntry], seal: Seal) throws {
        guard let path, !entries.isEmpty else { return }
        let encoder = JSONEncoder()
        var generator = SystemRandomNumberGenerator()
        let session = String(generator.next() as UInt64, radix: 16)
        var data = Data()
        for (seq, entry) in entries.enumerated() {
            let json = try encoder.encode(Line(session: session, seq: seq, of: entries.count, entry: entry))
            if let key = seal.key {
                data.append(contentsOf: Array((seal.tag + Self.hex(HMAC<SHA256>.authenticationCode(for: json, using: key))).utf8))
            } else {
                data.append(contentsOf: Array(seal.tag.utf8))
            }
            data.append(UInt8(ascii: " "))
            data.append(json)
            data.append(0x0A)
        }
        try Self.append(data, to: path)
    }

    struct Unsafe: Error, CustomStringConvertible {
        let description: String
    }

    /// Appends to a file that only this process's user can write: created with mode 0600 (set
    /// again after creation, whatever the umask), never through a symbolic link.
    static func append(_ data: Data, to path: String) throws {
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd >= 0 {
            fchmod(fd, 0o600)
        } else {
            guard errno == EEXIST else { throw Unsafe(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
            fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard fd >= 0 else { throw Unsafe(description: "\(path) is \(openProblem(errno))") }
            if let problem = unsafety(fd) {
                close(fd)
                throw Unsafe(description: "\(path) is \(problem)")
            }
        }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { throw CocoaError(.fileWriteUnknown) }
    }

    static func openProblem(_ code: Int32) -> String {
        code == ELOOP ? "a symbolic link, not followed" : "unreadable: \(String(cString: strerror(code)))"
    }

    /// Why an open file is not to be trusted, if it is not: not a regular file, owned by another
    /// user, or writable (or readable) by others.
    static func unsafety(_ fd: Int32) -> String? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return "not examinable" }
        guard info.st_mode & S_IFMT == S_IFREG else { return "not a regular file" }
        guard info.st_uid == geteuid() else { return "owned by user \(info.st_uid), not by this process's user \(geteuid())" }
        let mode = info.st_mode & 0o7777
        guard mode & 0o077 == 0 else {
            let octal = String(mode, radix: 8)
            return "mode \(String(repeating: "0", count: max(0, 4 - octal.count)) + octal), open to other users"
        }
        return nil
    }

    /// A file's bytes, read without following a symbolic link, and why it is not to be trusted.
    static func read(_ path: String) -> (data: Data, unsafe: String?)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return errno == ENOENT ? nil : (Data(), openProblem(errno)) }
        defer { close(fd) }
        if let problem = unsafety(fd), problem == "not a regular file" || problem == "not examinable" { return (Data(), problem) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return (data, unsafety(fd))
    }

    // MARK: - Review

    /// Why a line was not appended; `summary` is the phrase `verify audit` counts lines by.
    struct Rejection: Codable {
        let summary: String
        let detail: String
        let line: String
    }

    /// The lines of a spool, judged.
    struct Review {
        var accepted: [AuditEntry] = []
        var rejected: [Rejection] = []
        /// Lines sealed with the audit key, which this session does not have: left for one that has it.
        var needKey: [Data] = []
    }

    static let unparseable = "unparseable"
    static let noMAC = "without a valid MAC"
    static let unknownUser = "no such user"
    static let unknownChangeSet = "no such change set"
    static let outOfOrder = "out of time order"
    static let incomplete = "lines of its session missing or repeated"
    static let unsafeFile = "in an unsafe spool file"

    /// Judges the lines of a spool (see the type's comment). `seal` is what this session checks
    /// seals with (nil: this database has no spool secret yet, so no seal can be valid).
    /// `keyedLog`: the log holds keyed entries, so a line sealed without the key will be refused
    /// even by a session that could check its seal (what `verify audit` without the key says).
    static func review(
        _ data: Data, unsafe: String?, seal: Seal?, keyedLog: Bool = false, db: Database, now: Timestamp
    ) throws -> Review {
        var review = Review()
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        func text(_ line: Data) -> String { String(decoding: line, as: UTF8.self) }
        if let unsafe {
            // The summary names the reason: "in an unsafe spool file (mode 0644, open to other users)".
            let summary = unsafeFile + " (" + unsafe + ")"
            if lines.isEmpty { review.rejected.append(Rejection(summary: summary, detail: "the spool file is " + unsafe, line: "")) }
            for line in lines { review.rejected.append(Rejection(summary: summary, detail: "the spool file is " + unsafe, line: text(line))) }
            return review
        }
        // First the seals: each line is `TAG JSON`.
        var sealed: [(line: Data, parsed: Line)] = []
        let decoder = JSONDecoder()
        /// A line with no seal at all: a bare entry someone wrote by hand, or not a spool line.
        func unsealed(_ line: Data) -> Rejection {
            let bare = line.first == UInt8(ascii: "{") && (try? decoder.decode(AuditEntry.self, from: line)) != nil
            return bare
                ? Rejection(summary: noMAC, detail: "an entry with no seal (not written by the spool)", line: text(line))
                : Rejection(summary: unparseable, detail: "not a spool line", line: text(line))
        }
        for line in lines {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")) else {
                review.rejected.append(unsealed(line))
                continue
            }
            let tag = text(line[line.startIndex..<space])
            let json = Data(line[line.index(after: space)...])
            if tag == "-" {
                review.rejected.append(
                    Rejection(summary: noMAC, detail: "written by a session without the audit key of this keyed log", line: text(line)))
                continue
            }
            guard tag.hasPrefix("k:") || tag.hasPrefix("s:"), let mac = bytes(hex: tag.dropFirst(2)) else {
                review.rejected.append(unsealed(line))
                continue
            }
            let keyedTag = tag.hasPrefix("k:")
            if !keyedTag, keyedLog {
                review.rejected.append(Rejection(summary: noMAC, detail: "sealed without the audit key, and this log is keyed", line: text(line)))
                continue
            }
            if keyedTag, seal?.keyed != true, seal != nil {
                review.needKey.append(Data(line))
                continue
            }
            guard let seal, let key = seal.key, keyedTag == seal.keyed else {
                review.rejected.append(
                    Rejection(
                        summary: noMAC,
                        detail: seal == nil ? "this database has no spool secret" : "sealed without the audit key, which this session writes with",
                        line: text(line)))
                continue
            }
            guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: json, using: key) else {
                review.rejected.append(Rejection(summary: noMAC, detail: "its MAC does not match", line: text(line)))
                continue
            }
            guard let parsed = try? decoder.decode(Line.self, from: json) else {
                review.rejected.append(Rejection(summary: unparseable, detail: "a sealed line that is not an entry", line: text(line)))
                continue
            }
            sealed.append((Data(line), parsed))
        }
        // Then each session's lines together: all there, once, in order of number and time.
        var sessions: [String: [Int]] = [:]
        for (index, item) in sealed.enumerated() { sessions[item.parsed.session, default: []].append(index) }
        var refusedSession: [String: Rejection] = [:]
        for (session, indexes) in sessions {
            let lines = indexes.map { sealed[$0].parsed }
            let count = lines[0].of
            if lines.count != count || lines.enumerated().contains(where: { $0.offset != $0.element.seq || $0.element.of != count }) {
                refusedSession[session] = Rejection(
                    summary: incomplete, detail: "\(lines.count) of its session's \(count) lines are here, or not in order", line: "")
                continue
            }
            let times = lines.map { Timestamp($0.entry.at) }
            if times.contains(where: { $0 == nil }) {
                refusedSession[session] = Rejection(summary: unparseable, detail: "a time that is not YYYY-MM-DDTHH:MM:SSZ", line: "")
            } else if zip(times, times.dropFirst()).contains(where: { $1! < $0! }) {
                refusedSession[session] = Rejection(summary: outOfOrder, detail: "an entry of its session is dated before the one it follows", line: "")
            } else if let last = times.last!, now.adding(seconds: 300) < last {
                refusedSession[session] = Rejection(summary: outOfOrder, detail: "dated after now (\(now))", line: "")
            }
        }
        // Then what each entry names.
        for (line, parsed) in sealed {
            if let refused = refusedSession[parsed.session] {
                review.rejected.append(Rejection(summary: refused.summary, detail: refused.detail, line: text(line)))
                continue
            }
            let entry = parsed.entry
            let userExists = try exists(entry.userID, in: "users", db: db)
            let impersonatorExists = try entry.impersonatorID.map { try exists($0, in: "users", db: db) } ?? true
            if !userExists || !impersonatorExists {
                review.rejected.append(Rejection(summary: unknownUser, detail: "it names a user who does not exist", line: text(line)))
            } else if let changeSet = entry.changeSetID, !(try exists(changeSet, in: "change_sets", db: db)) {
                review.rejected.append(
                    Rejection(summary: unknownChangeSet, detail: "it names change set \(changeSet), which does not exist", line: text(line)))
            } else {
                review.accepted.append(entry)
            }
        }
        return review
    }

    private static func exists(_ id: Int64, in table: String, db: Database) throws -> Bool {
        try Row.fetchOne(db, Select(Select.columns(["id"]), from: table).where(Sql.equals(Sql.name("id"), Sql.value(id))).sql) != nil
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(high)
            index += 2
        }
        return bytes
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    // MARK: - Draining

    /// Spooled entries taken for appending: the file is renamed first, so two sessions never
    /// append the same entries; `discard` after the commit (it keeps the rejected lines aside and
    /// puts back lines that need the audit key), `restore` if the commit failed.
    struct Drained {
        let review: Review
        let file: String
        let spool: String
        let rejectedFile: String
        let at: String

        var entries: [AuditEntry] { review.accepted }

        /// The chain's note of lines kept aside, if any: how many and why.
        var rejectionNote: String? {
            guard !review.rejected.isEmpty else { return nil }
            return "\(review.rejected.count) \(review.rejected.count == 1 ? "line" : "lines") of the audit spool rejected ("
                + AuditSpool.tally(review.rejected.map(\.summary)) + ") and kept in "
                + (rejectedFile as NSString).lastPathComponent
        }

        func discard() {
            if !review.rejected.isEmpty {
                let encoder = JSONEncoder()
                var data = Data()
                for rejection in review.rejected {
                    if let json = try? encoder.encode(Kept(at: at, rejection: rejection)) {
                        data.append(json)
                        data.append(0x0A)
                    }
                }
                try? AuditSpool.append(data, to: rejectedFile)
            }
            if !review.needKey.isEmpty {
                var data = Data()
                for line in review.needKey {
                    data.append(line)
                    data.append(0x0A)
                }
                try? AuditSpool.append(data, to: spool)
            }
            unlink(file)
        }

        func restore() {
            if access(spool, F_OK) != 0, rename(file, spool) == 0 { return }
            if case let (data, unsafe)? = AuditSpool.read(file), unsafe == nil { try? AuditSpool.append(data, to: spool) }
            unlink(file)
        }
    }

    /// A line kept aside, as `crm.db-audit-spool-rejected` holds it (one JSON object a line).
    struct Kept: Codable {
        let at: String
        let rejection: Rejection
    }

    /// "2 without a valid MAC, 1 unparseable": how many lines for each reason, most first.
    static func tally(_ summaries: [String]) -> String {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for summary in summaries {
            if counts[summary] == nil { order.append(summary) }
            counts[summary, default: 0] += 1
        }
        return order.map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
    }

    /// Takes the spooled entries, if any, and judges them (called with the write lock held).
    func drain(seal: Seal?, db: Database, now: Timestamp) throws -> Drained? {
        guard let path, let rejectedPath else { return nil }
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let taken = path + ".\(getpid())"
        guard rename(path, taken) == 0 else { return nil }
        let (data, unsafe) = Self.read(taken) ?? (Data(), nil)
        let review = try Self.review(data, unsafe: unsafe, seal: seal, db: db, now: now)
        return Drained(review: review, file: taken, spool: path, rejectedFile: rejectedPath, at: now.description)
    }
}
