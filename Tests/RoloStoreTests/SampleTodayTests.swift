import Foundation
import GRDB
import Testing

@testable import RoloStore

/// The sample company is dated from its today: the same seed on another day is the same company,
/// every date and time moved by exactly the days between them, and statuses fit the dates.
@Suite("Sample company on another day")
struct SampleTodayTests {
    static let tables = [
        "teams", "users", "accounts", "contacts", "campaigns", "leads", "deals", "tickets", "activities", "tasks", "campaign_members",
        "change_sets", "field_history", "validation_rules",
    ]

    static func generate(on day: CivilDate, contacts: Int = 600) throws -> CRMStore {
        let store = try CRMStore.inMemory()
        try SampleCompany.generate(
            into: store, options: SampleCompany.Options(contacts: contacts, clock: FixedClock(Timestamp(date: day, hour: 10))))
        return store
    }

    /// A value of a raw column moved by `days`: dates by days, ISO-8601 times by days in seconds,
    /// everything else as it is.
    static func shifted(_ value: DatabaseValue, by days: Int) -> DatabaseValue {
        guard case .string(let text) = value.storage else { return value }
        if text.count == 10, let date = CivilDate(text) { return date.adding(days: days).description.databaseValue }
        if text.count == 20, text.hasSuffix("Z"), let time = Timestamp(text) {
            return time.adding(seconds: days * 86_400).description.databaseValue
        }
        return value
    }

    @Test func theSameSeedOnAnotherDayIsTheSameCompanyShifted() throws {
        let first = CivilDate(year: 2026, month: 11, day: 22), later = CivilDate(year: 2027, month: 3, day: 1)
        let days = later.daysSinceEpoch - first.daysSinceEpoch
        let a = try Self.generate(on: first), b = try Self.generate(on: later)
        var compared = 0, moved = 0
        for table in Self.tables {
            let sql = "SELECT * FROM \(table) ORDER BY rowid"
            let rowsA = try a.dbQueue.read { try Row.fetchAll($0, sql: sql) }
            let rowsB = try b.dbQueue.read { try Row.fetchAll($0, sql: sql) }
            #expect(rowsA.count == rowsB.count, "\(table)")
            for (rowA, rowB) in zip(rowsA, rowsB) {
                for (column, valueA) in rowA {
                    let valueB: DatabaseValue = rowB[column]
                    let expected = Self.shifted(valueA, by: days)
                    if expected != valueA { moved += 1 }
                    #expect(valueB == expected, "\(table).\(column): \(valueA) on \(first), \(valueB) on \(later)")
                    compared += 1
                    if valueB != expected { return }
                }
            }
        }
        #expect(compared > 10_000)
        #expect(moved > 1_000)
    }

    /// Statuses agree with the dates around today: no planned campaign has started, no completed
    /// one is still running, nothing happened after now, and the last 30 days are busy.
    @Test(arguments: [CivilDate(year: 2026, month: 12, day: 7), CivilDate(year: 2027, month: 3, day: 1)])
    func statusesFitToday(_ day: CivilDate) throws {
        let store = try Self.generate(on: day, contacts: 3000)
        let today = day.description, now = Timestamp(date: day, hour: 10).description
        let monthAgo = day.adding(days: -30).description
        func count(_ sql: String) throws -> Int { try store.dbQueue.read { try Int.fetchOne($0, sql: sql) ?? -1 } }
        #expect(try count("SELECT count(*) FROM campaigns WHERE status = 'planned' AND start_date <= '\(today)'") == 0)
        #expect(try count("SELECT count(*) FROM campaigns WHERE status = 'completed' AND end_date >= '\(today)'") == 0)
        #expect(try count("SELECT count(*) FROM campaigns WHERE status = 'active' AND (start_date > '\(today)' OR end_date < '\(today)')") == 0)
        #expect(try count("SELECT count(*) FROM activities WHERE occurred_at > '\(now)'") == 0)
        #expect(try count("SELECT max(occurred_at) >= '\(day.adding(days: -1).description)' FROM activities") == 1)
        #expect(try count("SELECT count(*) FROM activities WHERE occurred_at >= '\(monthAgo)'") > 100)
        #expect(try count("SELECT count(*) FROM campaigns WHERE status = 'planned'") > 0)
    }
}
