import Foundation
import GRDB
import RoloTestSupport
import Testing

@testable import RoloStore

/// The application functions on the server answer as SQLite's do: the same folding, match keys,
/// matches, money arithmetic and integer checks, compared on 10,000 random strings and amounts.
/// The oracle is SQLite running the Swift functions (`CRMStore`'s connection), not the tables the
/// server functions are generated from.
@Suite("PostgreSQL application functions", .serialized)
struct PostgresFunctionsTests {
    /// Characters a CRM meets, and the awkward ones: accents composed and not, capitals whose
    /// folding grows (ß, İ, ŉ), Greek sigmas, Cyrillic, fullwidth and ligature forms, marks alone,
    /// CJK, emoji, the letters `matchKey` spells plainly.
    static let alphabet: [String] = {
        var pieces = Array("abcxyzABCXYZ019 -.@_'").map(String.init)
        pieces += ["é", "É", "e\u{301}", "E\u{301}", "ñ", "Ñ", "ü", "Ü", "å", "Å", "ç", "Ç", "ø", "Ø", "ł", "Ł", "æ", "Æ", "œ", "Œ", "ð", "Ð", "þ", "Þ", "đ", "ħ", "ı", "İ", "ß", "ẞ", "ŉ", "ǰ", "ﬁ", "ﬀ", "ﬃ"]
        pieces += ["Σ", "σ", "ς", "ΐ", "Ω", "Ω", "ά", "Ά", "ᾳ", "ᾼ", "Д", "д", "Ё", "ё", "ДИРЕКТОР", "й", "Й"]
        pieces += ["Ａ", "ｚ", "１", "ｶ", "ﾞ", "㎏", "№", "™", "½", "²", "Ⅻ", "ⓐ", "Ⓐ", "\u{308}", "\u{327}", "\u{200D}", "\u{3000}"]
        pieces += ["東", "京", "한", "글", "ㄱ", "ก", "ि", "क", "👍", "👨‍👩‍👧", "🇫🇷", "Ǆ", "ǅ", "ǆ", "Ǳ", "ǈ", "ꭰ", "Ꭰ", "ᏸ", "Ᏸ", "𐐀", "𐐨"]
        return pieces
    }()

    static func randomText(_ random: inout SplitMix64) -> String {
        let length = Int(random.next() % 9)
        return (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
    }

    /// A fresh database on the test server with Rolo's functions in schema `rolo`.
    static func server() throws -> (PostgresConnection, () -> Void) {
        let (target, drop) = try PostgresTestServer.freshDatabase("functions")
        let connection = try PostgresConnection(target)
        try connection.execute(PostgresSQL.createSchema("rolo"))
        for statement in PostgresFunctions.definitions(schema: "rolo") { try connection.execute(statement) }
        return (connection, drop)
    }

    /// `function` applied by the server to each value (sent as one JSON array), in order.
    static func serverAnswers(_ connection: PostgresConnection, _ call: String, _ values: [[String]]) throws -> [String?] {
        let json = String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
        let rows = try connection.execute(
            "SELECT \(call) FROM json_array_elements($1::json) WITH ORDINALITY AS j(v, n) ORDER BY n", [.text(json)]
        ).rows
        return rows.map { $0[0] }
    }

    @Test("rolo_fold and rolo_match_key: the same text on both backends for 10,000 random strings")
    func folding() throws {
        let (connection, drop) = try Self.server()
        defer { drop() }
        var random = SplitMix64(seed: 23)
        let texts = (0..<10_000).map { _ in Self.randomText(&random) }
        let store = try CRMStore.inMemory()
        let (folds, keys) = try store.dbQueue.read { db in
            (try texts.map { try String.fetchOne(db, sql: "SELECT rolo_fold(?)", arguments: [$0]) },
             try texts.map { try String.fetchOne(db, sql: "SELECT rolo_match_key(?)", arguments: [$0]) })
        }
        let serverFolds = try Self.serverAnswers(connection, "rolo.rolo_fold(v->>0)", texts.map { [$0] })
        let serverKeys = try Self.serverAnswers(connection, "rolo.rolo_match_key(v->>0)", texts.map { [$0] })
        var differences: [String] = []
        for index in texts.indices {
            if folds[index] != serverFolds[index] { differences.append("fold(\(texts[index].debugDescription)): sqlite \(folds[index]?.debugDescription ?? "nil"), postgres \(serverFolds[index]?.debugDescription ?? "nil")") }
            if keys[index] != serverKeys[index] { differences.append("match key(\(texts[index].debugDescription)): sqlite \(keys[index]?.debugDescription ?? "nil"), postgres \(serverKeys[index]?.debugDescription ?? "nil")") }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, e.g.\n\(differences.prefix(15).joined(separator: "\n"))")
        // Not a vacuous agreement: the folding changed most of them.
        #expect(zip(texts, folds).filter { $0 != $1 }.count > 5_000)
    }

    @Test("rolo_match: contains, starts with and ends with agree on 10,000 random pairs")
    func matching() throws {
        let (connection, drop) = try Self.server()
        defer { drop() }
        var random = SplitMix64(seed: 24)
        let cases: [(String, String, Int64)] = (0..<10_000).map { _ in
            let text = Self.randomText(&random)
            // Half the needles are taken from the text itself, so that many match.
            let needle = random.next() % 2 == 0 ? String(text.prefix(Int(random.next() % 4))) : Self.randomText(&random)
            return (text, TextFolding.matchKey(needle), Int64(random.next() % 3))
        }
        let store = try CRMStore.inMemory()
        let local: [Bool?] = try store.dbQueue.read { db in
            try cases.map { try Bool.fetchOne(db, sql: "SELECT rolo_match(?, ?, ?)", arguments: [$0.0, $0.1, $0.2]) }
        }
        let remote = try Self.serverAnswers(connection, "rolo.rolo_match(v->>0, v->>1, (v->>2)::bigint)", cases.map { [$0.0, $0.1, String($0.2)] })
        var differences: [String] = []
        for index in cases.indices where local[index].map({ $0 ? "t" : "f" }) != remote[index] {
            differences.append("match(\(cases[index].0.debugDescription), \(cases[index].1.debugDescription), mode \(cases[index].2)): sqlite \(String(describing: local[index])), postgres \(String(describing: remote[index]))")
        }
        #expect(differences.isEmpty, "\(differences.count) differences, e.g.\n\(differences.prefix(15).joined(separator: "\n"))")
        #expect(local.filter { $0 == true }.count > 2_000)
    }

    @Test("money × and ÷ and rolo_int round half-even alike on 10,000 random amounts, ties included")
    func money() throws {
        let (connection, drop) = try Self.server()
        defer { drop() }
        var random = SplitMix64(seed: 25)
        var cases: [(cents: Int64, number: String)] = (0..<10_000).map { index in
            let cents = Int64(bitPattern: random.next() % 2_000_000_000_000) - 1_000_000_000_000
            let whole = Int(random.next() % 200) - 100
            let places = Int(random.next() % 5)
            let fraction = places == 0 ? "" : "." + String(String(random.next() % 100_000).prefix(places))
            // A tenth of them halves (x.5 and exact halves of odd cents): the ties.
            return index % 10 == 0 ? (cents | 1, "0.5") : (cents, "\(whole)\(fraction)")
        }
        cases += [(5, "0.5"), (15, "0.5"), (25, "0.1"), (-5, "0.5"), (-15, "0.5"), (1, "3"), (2, "3"), (7, "2"), (9, "2")]
        let store = try CRMStore.inMemory()
        let local: [[Int64?]] = try store.dbQueue.read { db in
            try cases.map { c in
                [try Int64.fetchOne(db, sql: "SELECT rolo_money_mul(?, ?)", arguments: [c.cents, c.number]),
                 try Int64.fetchOne(db, sql: "SELECT rolo_money_div(?, ?)", arguments: [c.cents, c.number]),
                 try Int64.fetchOne(db, sql: "SELECT rolo_int(CAST(? AS REAL))", arguments: [c.number]),
                 try Int64.fetchOne(db, sql: "SELECT rolo_int(?)", arguments: [c.number])]
            }
        }
        let values = cases.map { [String($0.cents), $0.number] }
        let multiplied = try Self.serverAnswers(connection, "rolo.rolo_money_mul((v->>0)::numeric, (v->>1)::numeric)", values)
        let divided = try Self.serverAnswers(connection, "rolo.rolo_money_div((v->>0)::numeric, (v->>1)::numeric)", values)
        let rounded = try Self.serverAnswers(connection, "rolo.rolo_int((v->>1)::double precision)", values)
        let integers = try Self.serverAnswers(connection, "rolo.rolo_int(v->>1)", values)
        var differences: [String] = []
        for index in cases.indices {
            let remote = [multiplied[index], divided[index], rounded[index], integers[index]].map { $0.flatMap { Int64($0) } }
            for (name, pair) in zip(["×", "÷", "rolo_int(real)", "rolo_int(text)"], zip(local[index], remote)) where pair.0 != pair.1 {
                differences.append("\(cases[index].cents) \(name) \(cases[index].number): sqlite \(String(describing: pair.0)), postgres \(String(describing: pair.1))")
            }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, e.g.\n\(differences.prefix(15).joined(separator: "\n"))")
        // The ties went to the even cent on both: 5 × 0.5 = 2.5 → 2, 15 × 0.5 = 7.5 → 8, -5 × 0.5 → -2.
        #expect(multiplied.suffix(9).prefix(5).map { $0 ?? "nil" } == ["2", "8", "2", "-2", "-8"])
    }

    @Test("past the range, both backends refuse rather than wrap; a zero divisor is NULL on both")
    func limits() throws {
        let (connection, drop) = try Self.server()
        defer { drop() }
        let store = try CRMStore.inMemory()
        #expect(throws: DatabaseError.self) {
            try store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT rolo_money_mul(?, 10)", arguments: [Int64.max / 2]) }
        }
        #expect(throws: PostgresError.self) {
            try connection.execute("SELECT rolo.rolo_money_mul($1::numeric, 10)", [.integer(Int64.max / 2)])
        }
        do {
            try connection.execute("SELECT rolo.rolo_int($1::double precision)", [.real(1e19)])
            Issue.record("rolo_int(1e19) answered")
        } catch let error as PostgresError {
            #expect(error.sqlState == "22003")
        }
        let local = try store.dbQueue.read { try Int64.fetchOne($0, sql: "SELECT rolo_money_div(100, 0)") }
        #expect(local == nil)
        #expect(try connection.text("SELECT rolo.rolo_money_div(100, 0)") == nil)
    }
}
