import Foundation
import GRDB
import Testing

@testable import RoloEngine

/// `RepeatedKeys` may only skip rows that cannot repeat a key: every row SQLite finds equal to
/// an earlier one (NOCASE for text, as the import compares keys) must be a candidate.
@Suite("Repeated keys")
struct RepeatedKeysTests {
    @Test(arguments: [true, false]) func everyRepeatSQLiteFindsIsACandidate(foldsCase: Bool) throws {
        var random = SystemRandomNumberGenerator()
        let letters = Array("aAbBzZ.@_-9éÉßẞ€ 😀")
        var keys: [DatabaseValue] = []
        for _ in 0..<4_000 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0: keys.append(Int64.random(in: -5...5, using: &random).databaseValue)
            case 1: keys.append(Double(Int.random(in: -5...5, using: &random)).databaseValue)
            case 2: keys.append(.null)
            case 3 where !keys.isEmpty:
                // An earlier key again, its ASCII letters' case changed at random.
                if case .string(let text) = keys.randomElement(using: &random)!.storage {
                    keys.append(text.map { Bool.random(using: &random) ? $0.uppercased() : String($0) }.joined().databaseValue)
                } else {
                    keys.append(keys.randomElement(using: &random)!)
                }
            default:
                keys.append(
                    String((0..<Int.random(in: 0...3, using: &random)).map { _ in letters.randomElement(using: &random)! }).databaseValue)
            }
        }
        var repeated = RepeatedKeys(foldsCase: foldsCase)
        for (index, key) in keys.enumerated() { repeated.note(key, line: index + 2) }
        let queue = try DatabaseQueue()
        let expected = try queue.write { db in
            try db.execute(sql: "CREATE TABLE k (line INTEGER PRIMARY KEY, key)")
            for (index, key) in keys.enumerated() { try db.execute(sql: "INSERT INTO k VALUES (?, ?)", arguments: [index + 2, key]) }
            let same = foldsCase ? "a.key = b.key COLLATE NOCASE" : "a.key = b.key"
            return try Int.fetchAll(
                db, sql: "SELECT b.line FROM k b WHERE EXISTS (SELECT 1 FROM k a WHERE \(same) AND a.line < b.line) ORDER BY b.line")
        }
        #expect(expected.count > 100)
        let candidates = Set(repeated.candidates)
        let missed = expected.filter { !candidates.contains($0) }
        #expect(missed.isEmpty, "repeats that were no candidate: \(missed.prefix(5).map { keys[$0 - 2] })")
        // And it filters: with no two of these keys' hashes alike by chance, the candidates are
        // exactly the repeats.
        #expect(candidates == Set(expected))
    }
}
