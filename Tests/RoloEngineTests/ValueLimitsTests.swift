import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// Issue 19, item 8: one money sign rule in every path, dates kept within 0001-01-01 … 9999-12-31
/// in every path, amounts past the limit are E308, UTF-16 files are named as such. Oracles are raw
/// SQL over the tables.
@Suite("Values: money signs, date range, file encodings")
struct ValueLimitsTests {
    static func scalar<T: DatabaseValueConvertible>(_ engine: Engine, _ sql: String, _ arguments: StatementArguments = []) throws -> T? {
        try engine.store.dbQueue.inDatabase { try T.fetchOne($0, sql: sql, arguments: arguments) }
    }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = try SampleDatabase.temporaryFolder() + "/in.csv"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func write(_ text: String) throws -> String { try write(Array(text.utf8)) }

    /// One leading minus, before or after the currency sign; no plus, no second minus — in an
    /// import cell and in a quoted value of `update`, alike.
    @Test func moneySignsAreTheSameEverywhere() throws {
        let accepted: [(String, Int64)] = [("-5", -500), ("-$5", -500), ("$-5", -500), ("-0.50", -50), ("-1,234.56", -123_456)]
        let refused = ["--5", "---7", "+5", "-+5", "- -5", "-$-5", "$--5"]
        for (text, cents) in accepted { #expect(CellConverter.cents(text) == cents, "import \(text)") }
        for text in refused { #expect(CellConverter.cents(text) == nil, "import \(text)") }
        let engine = try SampleDatabase.engine()
        let deal: Int64 = try #require(try Self.scalar(engine, "SELECT id FROM deals ORDER BY id LIMIT 1"))
        for (text, cents) in accepted {
            let result = run(engine, "update deal \(deal) set amount = \"\(text)\"")
            #expect(result.error == nil, "update \(text): \(result.error?.message ?? "")")
            #expect(try Self.scalar(engine, "SELECT amount FROM deals WHERE id = ?", [deal]) == cents, "update \(text)")
        }
        let before = try snapshot(engine.store)
        for text in refused {
            let result = run(engine, "update deal \(deal) set amount = \"\(text)\"")
            #expect(result.error?.code == .typeMismatch, "update \(text): \(result.error?.message ?? "no error")")
        }
        // In the language, `--5` is not a negative amount written twice either.
        for command in ["update deal \(deal) set amount = --5", "update deal \(deal) set amount = ---7"] {
            #expect(run(engine, command).error != nil, "\(command)")
        }
        #expect(try snapshot(engine.store) == before)
        // An import cell goes the same way: `--5` is a bad value, not $5.00.
        let path = try Self.write("name,annual_revenue\nSign Test Co,--5\n")
        let imported = run(engine, "import accounts from \"\(path)\"")
        #expect(imported.error?.code == .invalidValue, "\(imported.error?.message ?? imported.output)")
        #expect(try Self.scalar(engine, "SELECT count(*) FROM accounts WHERE name = 'Sign Test Co'") == 0)
    }

    /// An amount past the largest is E308 in an import, as in the language.
    @Test func anAmountPastTheLimitIsOutOfRange() throws {
        let engine = try SampleDatabase.engine()
        let path = try Self.write("name,annual_revenue\nHuge Co,\"99,999,999,999,999,999.00\"\n")
        let imported = run(engine, "import accounts from \"\(path)\"")
        #expect(imported.error?.code == .valueOutOfRange, "\(imported.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
        let deal: Int64 = try #require(try Self.scalar(engine, "SELECT id FROM deals ORDER BY id LIMIT 1"))
        #expect(run(engine, "update deal \(deal) set amount = \"99999999999999999999\"").error?.code == .valueOutOfRange)
    }

    /// Dates stay within 0001-01-01 … 9999-12-31: as a value of create and update, in an import,
    /// and after arithmetic in `set` and in conditions. Out of range is E308 and nothing is written.
    @Test func datesStayWithinTheCalendar() throws {
        let engine = try SampleDatabase.engine()
        let deal: Int64 = try #require(try Self.scalar(engine, "SELECT id FROM deals ORDER BY id LIMIT 1"))
        let before = try snapshot(engine.store)
        for command in [
            "update deal \(deal) set close_date = \"0000-01-01\"",
            "update deal \(deal) set close_date = \"0000-12-31\"",
            "update deal \(deal) set close_date = 0000-06-01",
            #"create task title="Old" due_date="0000-01-01""#,
        ] {
            let result = run(engine, command)
            #expect(result.error?.code == .valueOutOfRange, "\(command): \(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
            #expect(try snapshot(engine.store) == before, "\(command)")
        }
        let path = try Self.write("title,due_date\nOld task,0000-01-01\n")
        let imported = run(engine, "import tasks from \"\(path)\"")
        #expect(imported.error?.code == .valueOutOfRange, "\(imported.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
        #expect(try snapshot(engine.store) == before)
        // The first and last days are fine; a step past them is not, in set and in conditions.
        #expect(run(engine, "update deal \(deal) set close_date = 0001-01-01").error == nil)
        let edge = try snapshot(engine.store)
        for command in [
            "update deal \(deal) set close_date = close_date - 1 day",
            "update deal \(deal) set close_date = close_date - 1 month",
            "count deals where close_date - 1 day < 2026-01-01",
        ] {
            let result = run(engine, command)
            #expect(result.error?.code == .valueOutOfRange, "\(command): \(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
            #expect(try snapshot(engine.store) == edge, "\(command)")
        }
        #expect(try Self.scalar(engine, "SELECT close_date FROM deals WHERE id = ?", [deal]) == "0001-01-01")
        #expect(run(engine, "update deal \(deal) set close_date = 9999-12-15").error == nil)
        let late = run(engine, "update deal \(deal) set close_date = close_date + 1 month")
        #expect(late.error?.code == .valueOutOfRange, "\(late.error?.message ?? "no error")")
        #expect(try Self.scalar(engine, "SELECT close_date FROM deals WHERE id = ?", [deal]) == "9999-12-15")
        #expect(run(engine, "update deal \(deal) set close_date = close_date + 16 days").error == nil)
        #expect(try Self.scalar(engine, "SELECT close_date FROM deals WHERE id = ?", [deal]) == "9999-12-31")
        // No stored date outside the range, whatever happened above.
        #expect(try Self.scalar(engine, "SELECT count(*) FROM deals WHERE close_date < '0001' OR close_date > '9999-12-31'") == 0)
    }

    /// A UTF-16 file without a byte order mark is E610 "not UTF-8", naming UTF-16 and iconv —
    /// not a header of spaced-out letters.
    @Test func utf16WithoutABOMIsNotUTF8() throws {
        let engine = try SampleDatabase.engine()
        let text = "last_name,email\nRuiz,ana@x.io\n"
        let little = try Self.write(text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let big = try Self.write(text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        for path in [little, big] {
            let result = run(engine, "import contacts from \"\(path)\"")
            #expect(result.error?.code == .importFileMalformed, "\(result.error.map { "\($0.code.rawValue) \($0.message)" } ?? "no error")")
            #expect(result.error?.message.contains("UTF-16") == true, "\(result.error?.message ?? "")")
            #expect(result.error?.help?.contains("iconv") == true, "\(result.error?.help ?? "")")
        }
    }
}
