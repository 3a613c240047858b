import Foundation
import Testing

@testable import RoloEngine
@testable import RoloSyntax

/// A script is parsed a statement at a time: the same statements as a whole parse, while the
/// tokens held stay those of about one statement, however long the script.
@Suite("Streaming parse")
struct StreamingParseTests {
    static func script(_ count: Int) -> String {
        (1...count).map { n in
            switch n % 4 {
            case 0: return "count contacts where id = \(n)"
            case 1: return #"find contacts id, email where email = "a\#(n)@x.example" and (city = "Porto" or city = "Lyon")"#
            case 2: return "update contact \(n) set title = \"T\(n)\"; count deals by stage"
            default: return "# a comment \(n)\nsum deals.amount where stage = won"
            }
        }.joined(separator: "\n")
    }

    @Test func statementsOneAtATimeEqualTheWholeParse() throws {
        let source = Self.script(2_000)
        let whole = try Parser.parse(source)
        var streamed: [Statement] = []
        var statements = Parser.Statements(source, grammar: CommandRegistry.grammar)
        while let statement = try statements.next() { streamed.append(statement) }
        #expect(streamed.count == 2_500)
        #expect(streamed == whole)
    }

    /// Tokens before the statement being parsed are let go: after 40,000 statements (about
    /// 400,000 tokens) the stream holds a bounded few thousand, not all of them.
    @Test func tokensOfFinishedStatementsAreLetGo() throws {
        let source = Self.script(40_000)
        var statements = Parser.Statements(source, grammar: CommandRegistry.grammar)
        var most = 0
        var count = 0
        while try statements.next() != nil {
            count += 1
            most = max(most, statements.heldTokens)
        }
        #expect(count == 50_000)
        #expect(most < 10_000, "held up to \(most) tokens")
    }

    /// A lexing error anywhere wins over a parse error before it, as when the whole text was lexed
    /// first; a script's check finds either before any statement runs.
    @Test func aLexingErrorIsFoundBeforeAnyStatement() {
        let source = "count contacts\ncount contacts where\ncount contacts where name = \"open"
        #expect(throws: Diagnostic.self) { try Parser.parse(source) }
        do {
            _ = try Script(source, file: "x.rolo")
            Issue.record("the script was accepted")
        } catch {
            #expect(error.range?.start.line == 3, "\(error.message)")
        }
        var statements = Parser.Statements("count contacts\ncount contacts where name = \"open", grammar: CommandRegistry.grammar)
        #expect((try? statements.next()) != nil)
        #expect(throws: Diagnostic.self) { try statements.next() }
    }
}

/// A script file's bytes are held as they are when they are UTF-8; a byte-order mark is dropped,
/// and bytes that are not UTF-8 read as U+FFFD, as when the file was made a `String` first.
@Suite("Script bytes")
struct ScriptBytesTests {
    @Test func aByteOrderMarkIsDroppedAndBadBytesReadAsReplacement() throws {
        let text = "count contacts\ncount deals where stage = won\n"
        let plain = try Script(text, file: "a.rolo")
        let marked = try Script(bytes: [0xEF, 0xBB, 0xBF] + Array(text.utf8), file: "a.rolo")
        #expect(marked.bytes == plain.bytes)
        #expect(marked.statementCount == 2)
        let bad: [UInt8] = Array("count contacts where last_name = \"".utf8) + [0xFF, 0xC3] + Array("\"\n".utf8)
        let script = try Script(bytes: bad, file: "b.rolo")
        #expect(script.source == String(decoding: bad, as: UTF8.self))
        #expect(script.source.contains("\u{FFFD}"))
        #expect(script.statementCount == 1)
    }
}
