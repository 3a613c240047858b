import Testing

@testable import RoloSyntax

@Suite("Lexer")
struct LexerTests {
    private func kinds(_ source: String) throws -> [Token.Kind] {
        try Lexer.tokenize(source).map(\.kind)
    }

    @Test func wordsStringsNumbersAndSymbols() throws {
        #expect(
            try kinds(#"find contacts where email = "a@b.io" and score >= 10"#) == [
                .word("find"), .word("contacts"), .word("where"), .word("email"), .symbol(.equal), .string("a@b.io"),
                .word("and"), .word("score"), .symbol(.greaterEqual), .number("10"), .end,
            ])
    }

    @Test func moneyDatesVariablesAndOptions() throws {
        #expect(
            try kinds("$5,000 $12.5 2026-11-22 $old --dry-run") == [
                .money(500_000), .money(1250), .date("2026-11-22"), .variable("old"), .option("dry-run"), .end,
            ])
    }

    @Test func commentsAndNewlines() throws {
        #expect(
            try kinds("#!/usr/bin/env rolo\ncount contacts # how many\n") == [
                .newline, .word("count"), .word("contacts"), .newline, .end,
            ])
    }

    @Test func escapesInStrings() throws {
        #expect(try kinds(#"'it\'s' "a\"b""#) == [.string("it's"), .string("a\"b"), .end])
    }

    @Test func locationsCountLinesAndCharacters() throws {
        let tokens = try Lexer.tokenize("find\n  contacts")
        #expect(tokens[2].range.start.line == 2)
        #expect(tokens[2].range.start.column == 3)
        let accented = try Lexer.tokenize("\"é\" x")
        #expect(accented[1].range.start.column == 5)
    }

    @Test(arguments: [
        ("\"open", DiagnosticCode.unterminatedString, true),
        ("2026-13-01x", .invalidDate, false),
        ("12abc", .invalidNumber, false),
        ("a @ b", .unexpectedCharacter, false),
        ("“Acme”", .unexpectedCharacter, false),
        ("$1,00", .invalidNumber, false),
        ("$5.123", .invalidNumber, false),
    ])
    func errors(source: String, code: DiagnosticCode, unfinished: Bool) {
        #expect(throws: Diagnostic.self) { try Lexer.tokenize(source) }
        do {
            _ = try Lexer.tokenize(source)
        } catch {
            #expect(error.code == code)
            #expect(error.isUnfinished == unfinished)
            #expect(error.range != nil)
        }
    }
}

@Suite("Bare option values")
struct BareOptionValueTests {
    private func kinds(_ source: String) throws -> [Token.Kind] {
        try Lexer.tokenize(source).map(\.kind)
    }

    /// `--anchor` and `--skip-bad` take their value bare, up to a space, as `audit anchor` and
    /// `help verify` print it: `5:9f86…` and `anc.txt` are one value, not a number and a `:`.
    @Test func anAnchorOrAFileIsOneValue() throws {
        #expect(
            try kinds("verify audit --anchor 5:9f86d081884c --dry-run") == [
                .word("verify"), .word("audit"), .option("anchor"), .string("5:9f86d081884c"), .option("dry-run"), .end,
            ])
        #expect(try kinds("verify audit --anchor anc.txt;count deals") == [
            .word("verify"), .word("audit"), .option("anchor"), .string("anc.txt"), .symbol(.semicolon), .word("count"),
            .word("deals"), .end,
        ])
        #expect(try kinds("--skip-bad out/bad-rows.csv\n") == [.option("skip-bad"), .string("out/bad-rows.csv"), .newline, .end])
        #expect(try kinds(#"--anchor "5:ab" --format csv"#) == [.option("anchor"), .string("5:ab"), .option("format"), .word("csv"), .end])
        // No value: the parser says what is missing.
        #expect(try kinds("--anchor --dry-run") == [.option("anchor"), .option("dry-run"), .end])
        #expect(try kinds("--anchor\ncount deals") == [.option("anchor"), .newline, .word("count"), .word("deals"), .end])
        // Only those options: --format still reads words.
        #expect(throws: Diagnostic.self) { try Lexer.tokenize("--format 5:x") }
    }

    @Test func aNulInABareValueIsRefused() throws {
        #expect(throws: Diagnostic.self) { try Lexer.tokenize("verify audit --anchor 5:a\u{0}b") }
    }
}
