import Dispatch
import GRDB
import RoloStore

/// The audit's records read in two shares at once (`DataAudit.readRecords`): the second share on
/// a read-only connection of its own, on a thread of its own, both connections in one snapshot
/// of the database (`readHalves`); then the second connection's further work while this one
/// works out the company findings (`Second.ask`).
extension DataAudit {
    /// The second connection's work, on a thread of its own: its share of the records, then the
    /// examples ordered in SQL and the records sharing an email (`ask`) while this connection
    /// works out the rest.
    final class Second: @unchecked Sendable {
        let begun = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let read = DispatchSemaphore(value: 0)
        let valuableRead = DispatchSemaphore(value: 0)
        let more = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        var started = false
        var proceed = false
        var half: Result<Part, any Error>?
        /// Every valuable record, once this connection has read them (nil if it could not).
        var valuableIDs: [Int64]?
        var jobs: [[Select]]?
        var valuable: [Int64] = []
        var examples: Result<[[Int64]], any Error>?
        var memberQuery: MemberQuery?
        var members: Result<[Member], any Error>?
        // Asked and waited for by this connection's thread only.
        private var asked = false
        private var waited = false

        /// Asks for the first records of each job (the queries of `exampleQueries`), the
        /// valuable records being `valuable`, and for the records sharing an email; nil asks for
        /// nothing.
        func ask(_ jobs: [[Select]]?, valuable: [Int64], members: MemberQuery? = nil) {
            guard !asked else { return }
            asked = true
            self.jobs = jobs
            self.valuable = valuable
            memberQuery = members
            more.signal()
        }

        /// What was asked for (each nil if it could not be read: the caller reads it itself); the
        /// second connection's transaction has ended.
        func answer() -> (examples: [[Int64]]?, members: [Member]?) {
            ask(nil, valuable: [])
            if !waited {
                waited = true
                done.wait()
            }
            return (try? examples?.get(), try? members?.get())
        }

        func finish() { _ = answer() }
    }

    /// One attempt at the two halves in one snapshot: nil when a change was committed while the
    /// two read transactions started (this connection is then out of its transaction again).
    func readHalves(
        _ valuable: SQLFragment, _ first: PassQueries, _ queries: PassQueries, _ reader: DatabaseQueue
    ) throws -> (part: Part, second: Second?)? {
        let second = Second()
        let before = try Int.fetchOne(db, Sql.setting("data_version"))
        DispatchQueue.global(qos: .userInitiated).async {
            do {
                try reader.inDatabase { other in
                    try other.execute(Sql.begin)
                    defer { try? other.execute(Sql.rollback) }
                    _ = try Int.fetchOne(other, Sql.setting("schema_version"))  // its snapshot starts here
                    second.started = true
                    second.begun.signal()
                    second.go.wait()
                    guard second.proceed else { return }
                    // Its half read before the valuable records are known, which it counts after.
                    var half = Result { try DataAudit.pass(other, queries, valuable: nil) }
                    second.valuableRead.wait()
                    if let ids = second.valuableIDs {
                        half = half.map { read in
                            var part = read
                            part.resolve(Set(ids), queries.layout)
                            return part
                        }
                    }
                    second.half = half
                    second.read.signal()
                    second.more.wait()
                    guard let jobs = second.jobs else { return }
                    second.examples = Result {
                        try DataAudit.remember(second.valuable, in: other)
                        defer { try? other.execute(SchemaSQL.dropTemporaryTable(DataAudit.valueTable)) }
                        return try jobs.map { try DataAudit.exampleIDs($0, in: other) }
                    }
                    if let query = second.memberQuery { second.members = Result { try DataAudit.members(query, in: other, CompanyKeys()) } }
                }
            } catch {
                // Before its snapshot started: this connection reads alone.
            }
            if !second.started { second.begun.signal() }
            second.done.signal()
        }
        second.begun.wait()
        guard second.started else {
            second.done.wait()
            return nil
        }
        func release() {
            second.go.signal()
            second.done.wait()
        }
        do {
            try db.execute(Sql.begin)
        } catch {
            release()
            throw error
        }
        do {
            let after = try Int.fetchOne(db, Sql.setting("data_version"))  // this snapshot starts here
            second.proceed = after == before
        } catch {
            release()
            try? db.execute(Sql.rollback)
            throw error
        }
        guard second.proceed else {
            release()
            try db.execute(Sql.rollback)
            return nil
        }
        second.go.signal()
        let valuableIDs = Result { try Int64.fetchAll(db, valuable) }
        second.valuableIDs = try? valuableIDs.get()
        second.valuableRead.signal()
        let mine: Result<Part, any Error> = Result {
            var part = try Self.pass(db, first, valuable: Set(try valuableIDs.get()))
            part.valuable = try valuableIDs.get()
            return part
        }
        second.read.wait()
        do {
            var part = try mine.get()
            guard let theirs = second.half else { throw DatabaseError(resultCode: .SQLITE_ERROR, message: "the audit's second read did not finish") }
            part.merge(try theirs.get())
            return (part, second)
        } catch {
            second.finish()
            try? db.execute(Sql.rollback)
            throw error
        }
    }
}
