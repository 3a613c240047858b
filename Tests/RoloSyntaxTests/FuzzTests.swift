import Testing

@testable import RoloEngine
@testable import RoloSyntax

/// Random and mutated input never crashes the lexer or parser: each returns statements or a diagnostic.
@Suite("Fuzzing the front end")
struct FuzzTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds = [
        #"find contacts where account.name = "Acme" and title contains "VP" order by last_name limit 20"#,
        "find deals where stage in (proposal, negotiation) and close_date <= today + 14 days",
        "count leads by source where created_at >= 30 days ago",
        "sum deals.amount by owner where stage = won and close_date in this quarter",
        #"update contacts where email is not empty set email = lower(trim(email))"#,
        "find tickets where not (status = closed or priority between low and high) as json",
        "show contact \"ana@acme.io\"", "undo change 5", "dry-run on", "add task \"x\" on deal 9 due in 2 days for alice",
    ]
    static let fragments = [
        "find", "count", "where", "and", "or", "not", "(", ")", ",", ".", "=", "!=", "<=", "\"", "'", "$", "$5,000",
        "2026-02-30", "in", "between", "is", "empty", "today", "+", "-", "*", "/", "3 days ago", "this", "quarter",
        "\n", ";", "--dry-run", "#", "é", "“", "set", "by", "order", "limit", "12", "x", "contacts",
    ]

    @Test func randomAndMutatedInputNeverCrashes() {
        var rng = SplitMix(state: 7)
        var parsed = 0
        var diagnosed = 0
        for round in 0..<30_000 {
            var source: String
            if round % 3 == 0 {
                source = (0..<Int.random(in: 1...12, using: &rng)).map { _ in Self.fragments.randomElement(using: &rng) ?? "" }
                    .joined(separator: Bool.random(using: &rng) ? " " : "")
            } else {
                var chars = Array(Self.seeds.randomElement(using: &rng) ?? "")
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !chars.isEmpty {
                    let index = Int.random(in: 0..<chars.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: chars.remove(at: index)
                    case 1: chars.insert(Array("()\"',.=<>$#-\n ")[Int.random(in: 0..<14, using: &rng)], at: index)
                    default: chars.swapAt(index, Int.random(in: 0..<chars.count, using: &rng))
                    }
                }
                source = String(chars)
            }
            do {
                _ = try Parser.parse(source)
                parsed += 1
            } catch {
                diagnosed += 1
                if let range = error.range {
                    #expect(range.start.offset <= source.utf8.count, "\(source)")
                    #expect(range.start.line >= 1 && range.start.column >= 1)
                }
            }
        }
        #expect(parsed > 1000)
        #expect(diagnosed > 1000)
    }
}
