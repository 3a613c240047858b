import Crypto
import Foundation
import GRDB
import RoloStore

/// What `verify audit` reports of the spool beside the database.
extension AuditSpool {
    // MARK: - What verify reports

    /// Breaks for `verify audit`: lines kept aside by earlier writes, and lines waiting in the
    /// spool that the next write would not append. `notes` are said without failing.
    func inspect(seal: Seal?, db: Database, now: Timestamp) throws -> (problems: [String], notes: [String]) {
        guard let path, let rejectedPath else { return ([], []) }
        var problems: [String] = []
        var notes: [String] = []
        let rejectedName = (rejectedPath as NSString).lastPathComponent
        if case let (data, unsafe)? = Self.read(rejectedPath) {
            let decoder = JSONDecoder()
            let summaries = data.split(separator: 0x0A).map { line in
                (try? decoder.decode(Kept.self, from: line)).map(\.rejection.summary) ?? "unreadable in the file"
            }
            if let unsafe {
                problems.append("\(rejectedName), which keeps lines of the audit spool that were not appended to the chain, is \(unsafe)")
            }
            if !summaries.isEmpty {
                problems.append(
                    "\(summaries.count) \(summaries.count == 1 ? "line" : "lines") of the audit spool \(summaries.count == 1 ? "was" : "were") not appended to the chain ("
                        + Self.tally(summaries) + "); \(summaries.count == 1 ? "it is" : "they are") kept in \(rejectedName): inspect them, then remove the file")
            }
        }
        if case let (data, unsafe)? = Self.read(path) {
            let review = try Self.review(data, unsafe: unsafe, seal: seal, keyedLog: AuditLog.headIsKeyed(db: db), db: db, now: now)
            if !review.rejected.isEmpty {
                let count = review.rejected.count
                problems.append(
                    "\(count) \(count == 1 ? "line" : "lines") waiting in the audit spool will not be appended to the chain ("
                        + Self.tally(review.rejected.map(\.summary)) + "); the next write keeps them in \(rejectedName)")
            }
            if !review.accepted.isEmpty {
                notes.append("\(review.accepted.count) read \(review.accepted.count == 1 ? "entry waits" : "entries wait") in the audit spool for the next write")
            }
            if !review.needKey.isEmpty {
                notes.append("\(review.needKey.count) spooled \(review.needKey.count == 1 ? "line is" : "lines are") sealed with the audit key: set ROLO_AUDIT_KEY to check them")
            }
        }
        return (problems, notes)
    }
}
