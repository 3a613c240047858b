import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Output that fits the terminal: display widths, tables cut to the terminal's width.
@Suite("Terminal output")
struct TerminalOutputTests {
    @Test func displayWidthCountsColumnsNotCharacters() {
        #expect(DisplayWidth.of("Ana") == 3)
        #expect(DisplayWidth.of("José") == 4)
        #expect(DisplayWidth.of("Jose\u{301}") == 4)  // e + combining acute: one column
        #expect(DisplayWidth.of("a\u{300}\u{316}") == 1)  // two combining marks
        #expect(DisplayWidth.of("東京") == 4)
        #expect(DisplayWidth.of("カタカナ") == 8)
        #expect(DisplayWidth.of("한국어") == 6)
        #expect(DisplayWidth.of("\u{1100}\u{1161}\u{11A8}") == 2)  // Hangul spelled with conjoining jamo
        #expect(DisplayWidth.of("ＡＢ") == 4)  // fullwidth Latin
        #expect(DisplayWidth.of("ｱｲ") == 2)  // halfwidth katakana
        #expect(DisplayWidth.of("😀") == 2)
        #expect(DisplayWidth.of("👍🏽") == 2)  // with a skin tone
        #expect(DisplayWidth.of("👨‍👩‍👧") == 2)  // a ZWJ sequence, one picture
        #expect(DisplayWidth.of("🇫🇷") == 2)  // a flag: two regional indicators
        #expect(DisplayWidth.of("❤️") == 2)  // text symbol + VS16
        #expect(DisplayWidth.of("❤") == 1)  // the same symbol in text style
        #expect(DisplayWidth.of("1️⃣") == 2)  // keycap
        #expect(DisplayWidth.of("a\u{200B}b") == 2)  // zero-width space
        #expect(DisplayWidth.of("Ωμέγα ±1") == 8)  // ambiguous-width letters count one
        #expect(DisplayWidth.of("tab\there") == 7)  // controls take no column
    }

    @Test func truncateCutsByColumnsWithAnEllipsis() {
        #expect(DisplayWidth.truncate("hello", to: 5) == "hello")
        #expect(DisplayWidth.truncate("hello world", to: 6) == "hello…")
        #expect(DisplayWidth.truncate("東京都庁", to: 5) == "東京…")
        #expect(DisplayWidth.truncate("東京都庁", to: 6) == "東京…")  // a wide character never straddles the edge
        #expect(DisplayWidth.truncate("cafe\u{301} crème", to: 5) == "cafe\u{301}…")  // marks stay with their letter
        #expect(DisplayWidth.truncate("😀😀😀", to: 4) == "😀…")
        #expect(DisplayWidth.pad("東京", to: 6) == "東京  ")
        #expect(DisplayWidth.pad("42", to: 5, right: true) == "   42")
    }

    /// A table of wide characters lines up by columns on screen, not by characters.
    @Test func tablesAlignByDisplayWidth() {
        let output = StringOutput()
        var writer = TableWriter(output: output)
        writer.begin([ResultColumn("name", .text), ResultColumn("n", .integer)])
        writer.row(["東京".databaseValue, 1.databaseValue])
        writer.row(["Jose\u{301}".databaseValue, 22.databaseValue])
        writer.row(["😀 ok".databaseValue, 333.databaseValue])
        writer.end(note: nil)
        #expect(
            output.text == """
                 name  │ n
                ───────┼─────
                 東京  │   1
                 José  │  22
                 😀 ok │ 333
                (3 rows)

                """)
        for line in output.text.split(separator: "\n").dropFirst(2).dropLast() {
            #expect(DisplayWidth.of(String(line)) == 12, "\(line)")
        }
    }

    /// On a terminal, the widest text columns are cut with … so every line fits; numbers stay whole.
    @Test func tablesFitTheTerminal() {
        let output = StringOutput(isTerminal: true, width: 40)
        var writer = TableWriter(output: output)
        writer.begin([
            ResultColumn("id", .integer), ResultColumn("title", .text), ResultColumn("notes", .text), ResultColumn("amount", .money),
        ])
        writer.row([
            1.databaseValue, "Head of Procurement".databaseValue, String(repeating: "long note ", count: 8).databaseValue,
            123_456_78.databaseValue,
        ])
        writer.row([2.databaseValue, "東京支社の営業部長".databaseValue, "short".databaseValue, 5_00.databaseValue])
        writer.end(note: nil)
        let lines = output.text.split(separator: "\n").map(String.init)
        for line in lines { #expect(DisplayWidth.of(line) <= 40, "\(line)") }
        #expect(lines[0] == " id │ title    │ notes    │ amount")
        #expect(lines[2] == "  1 │ Head of… │ long no… │ $123,456.78")
        #expect(lines[3] == "  2 │ 東京支…  │ short    │       $5.00")
    }

    /// Piped (no terminal width), columns keep today's 60-column cap.
    @Test func pipedTablesKeepTheSixtyColumnCap() {
        let output = StringOutput()
        var writer = TableWriter(output: output)
        writer.begin([ResultColumn("notes", .text)])
        writer.row([String(repeating: "x", count: 100).databaseValue])
        writer.end(note: nil)
        let lines = output.text.split(separator: "\n").map(String.init)
        #expect(lines[2] == " " + String(repeating: "x", count: 59) + "…")
    }

    @Test func fittingSharesTheWidthAmongTheWidestColumns() {
        // Fits already: unchanged.
        #expect(TableWriter.fit([5, 5], numeric: [false, false], into: 80) == [5, 5])
        // 80 - (3·3 - 1) = 72 columns for three columns: the narrow one keeps its width.
        #expect(TableWriter.fit([10, 100, 100], numeric: [false, false, false], into: 80) == [10, 31, 31])
        #expect(TableWriter.fit([10, 100, 100], numeric: [false, false, false], into: 81) == [10, 32, 31])
        // Numbers give way only when text cannot.
        #expect(TableWriter.fit([12, 100], numeric: [true, false], into: 40) == [12, 23])
        #expect(TableWriter.fit([30, 30], numeric: [true, false], into: 20) == [12, 3])
        // Too many columns for the terminal: each keeps at least three.
        #expect(TableWriter.fit([10, 10, 10, 10], numeric: [false, false, false, false], into: 20) == [3, 3, 3, 3])
    }

    @Test func controlCharactersCannotReachTheTerminal() {
        let output = StringOutput()
        var writer = TableWriter(output: output)
        writer.begin([ResultColumn("title", .text)])
        writer.row(["a\u{1B}[31mb\nc\u{85}".databaseValue])
        writer.end(note: nil)
        #expect(output.text.contains(" a\u{FFFD}[31mb c\u{FFFD}\n"))
    }

    @Test func barsAreDrawnInEighths() {
        #expect(BarsWriter.bar(10, of: 10, width: 4) == "████")
        #expect(BarsWriter.bar(5, of: 10, width: 4) == "██")
        #expect(BarsWriter.bar(1, of: 8, width: 3) == "▍")  // 3/8 of a column
        #expect(BarsWriter.bar(0.001, of: 10, width: 4) == "▏")  // tiny, but visible
        #expect(BarsWriter.bar(0, of: 10, width: 4) == "")
        #expect(BarsWriter.bar(-5, of: 10, width: 4) == "")
        #expect(BarsWriter.bar(3, of: 0, width: 4) == "")
    }

    /// Bars fill the line: the largest value's bar takes what the labels and figures leave.
    @Test func barsFitTheWidthWithTheFigureBeside() {
        let output = StringOutput(isTerminal: true, width: 40)
        var writer: any ResultWriter = BarsWriter(output: output)
        writer.begin([ResultColumn("stage", .text), ResultColumn("sum(amount)", .money)])
        writer.row(["won".databaseValue, 1_000_000_00.databaseValue])
        writer.row(["東京 negotiation".databaseValue, 250_000_00.databaseValue])
        writer.row(["lost".databaseValue, (-5_00).databaseValue])
        writer.row([DatabaseValue.null, 0.databaseValue])
        writer.end(note: nil)
        let lines = output.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        for line in lines { #expect(DisplayWidth.of(line) <= 40, "\(line)") }
        // Labels take at most a third of the line (13 columns), cut with …; the largest bar
        // takes the rest: 40 - 1 - 13 - 2 - 1 - 13 ($1,000,000.00) = 10.
        #expect(lines[0] == " stage          sum(amount)")
        #expect(lines[1] == " won            ██████████ $1,000,000.00")
        #expect(lines[2] == " 東京 negotia…  ██▌ $250,000.00")
        #expect(lines[3] == " lost           -$5.00")
        #expect(lines[4] == " (none)         $0.00")
    }

    /// Off a terminal, bars are 80 columns wide.
    @Test func barsOffATerminalAreEightyColumns() {
        let output = StringOutput()
        var writer: any ResultWriter = BarsWriter(output: output)
        writer.begin([ResultColumn("stage", .text), ResultColumn("count", .integer)])
        writer.row(["won".databaseValue, 7.databaseValue])
        writer.end(note: nil)
        #expect(output.text.split(separator: "\n").map { DisplayWidth.of(String($0)) } == [13, 80])
    }
}
