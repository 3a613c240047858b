import Foundation
import GRDB
import RoloStore

/// The import's writes as passes over the staged rows (creating; an update's history; the
/// update), each in chunks of lines, so a long import shows how far its writing is and the time
/// left, as its reading does, and Ctrl-C between two chunks stops it. A chunk is a range of the
/// staging table's key, so each statement reads only its rows.
final class WriteProgress {
    /// Lines per chunk: large enough that a statement's own cost is lost in its rows' (twenty
    /// chunks for a million rows).
    static let chunkLines = 50_000

    private let lines: ClosedRange<Int>?
    private let rows: Int
    private let passes: Int
    private var passesDone = 0
    private let meter: ProgressMeter?
    private let stop: () throws -> Void

    /// `passes` over the rows staged now; `stop` throws if the work should end.
    init(db: Database, meter: ProgressMeter?, passes: Int, stop: @escaping () throws -> Void) throws {
        let line = Sql.name(ImportJob.lineColumn)
        let row = try Row.fetchOne(
            db, Select(Sql.aggregate(.min, line), Sql.aggregate(.max, line), Sql.countAll, from: ImportJob.staging).sql)
        // NULL when nothing is staged: no range.
        let low = try row?.decode(Int?.self, atIndex: 0) ?? nil
        let high = try row?.decode(Int?.self, atIndex: 1) ?? nil
        if let low, let high { lines = low...high } else { lines = nil }
        rows = try row?.decode(atIndex: 2) ?? 0
        self.passes = passes
        self.meter = meter
        self.stop = stop
        meter?.stage("writing")
    }

    /// One pass: `body` once per chunk, given the condition that keeps a line column in the chunk.
    func pass(_ body: (_ inChunk: (SQLFragment) -> SQLFragment) throws -> Void) throws {
        defer { passesDone += 1 }
        guard let lines else { return }
        var low = lines.lowerBound
        while low <= lines.upperBound {
            let high = min(low + Self.chunkLines - 1, lines.upperBound)
            try body { column in
                Sql.all([Sql.compare(column, .greaterEqual, Sql.value(low)), Sql.compare(column, .lessEqual, Sql.value(high))])
            }
            try stop()
            let fraction = (Double(passesDone) + Double(high - lines.lowerBound + 1) / Double(lines.count)) / Double(passes)
            meter?.update(rows: Int(Double(rows) * fraction), fraction: fraction)
            low = high + 1
        }
    }

    /// Passes that turned out to have nothing to do (an update that changes nothing).
    func skipPass(_ count: Int = 1) { passesDone += count }
}
