import Foundation
import GRDB
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Stored text cannot act on the terminal: control characters that came in by import (escape
/// sequences that retitle or clear the terminal, BEL, C1 controls, bidi overrides) are shown as
/// `�` on every path to a terminal — tables, `show`, previews and diffs, `history`, `changes`,
/// notes, error messages — and kept as stored in files.
@Suite("Terminal safety")
struct TerminalSafetyTests {
    /// Retitles the terminal, clears it, sets red through the C1 CSI, reverses what follows, and a
    /// carriage return and tab for good measure.
    static let hostile = "\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}31m\u{202E}evil\u{2066}\u{7F}\u{0B}\r\tend"

    /// A scalar that must never reach a terminal from data: any control but line feed, DEL, C1, bidi.
    static func leaks(_ text: String) -> [String] {
        var found: [String] = []
        for scalar in text.unicodeScalars where scalar != "\n" && TerminalText.isControl(scalar) {
            found.append(String(scalar.value, radix: 16))
        }
        return found
    }

    /// Every text field of the first three records of every domain entity, and users' names,
    /// teams' and roles' descriptions, holds `hostile` (unique fields with the id after it).
    static func plantedEngine() throws -> Engine {
        let engine = try SampleDatabase.engine()
        try engine.store.dbQueue.write { db in
            for entity in CRMSchema.entities where entity.kind == .domain {
                for field in entity.fields where field.type == .text {
                    try db.execute(
                        sql: "UPDATE \"\(entity.name)\" SET \"\(field.name)\" = ? || id WHERE id <= 3", arguments: [hostile])
                }
            }
            try db.execute(sql: "UPDATE users SET name = ? || id WHERE id > 1", arguments: [hostile])
            try db.execute(sql: "UPDATE teams SET description = ?", arguments: [hostile])
            try db.execute(sql: "UPDATE roles SET description = ?", arguments: [hostile])
        }
        return engine
    }

    /// Runs each command line as the shell does (errors through the one presenter) and returns
    /// what reached standard output and standard error.
    static func runAll(_ engine: Engine, _ lines: [String], colors: Bool = false) -> (output: String, errors: String) {
        let output = StringOutput(isTerminal: true, width: 120)
        let errors = StringOutput(isTerminal: true)
        let shell = Shell(engine: engine, output: output, errors: errors)
        if colors { _ = shell.runSource("set color on", file: nil) }
        for line in lines { _ = shell.runSource(line, file: nil) }
        return (output.text, errors.text)
    }

    /// Every command that prints stored values, over records whose every text field holds escape
    /// sequences: nothing but line feeds among the controls reaches the terminal. A new command or
    /// a new line of output that prints a value without going through the sanitiser fails here.
    static let everyPath = [
        "show contact 1", "show account 1", "show deal 1", "show ticket 1", "show task 1", "show activity 1", "show lead 1",
        "show campaign 1", "show user 2", "show role sales_rep",
        "find contacts where id <= 3", "find accounts where id <= 3", "find deals where id <= 3", "find leads where id <= 3",
        "find tasks where id <= 3", "find tickets where id <= 3", "find activities where id <= 3", "find campaigns where id <= 3",
        "find users", "teams", "roles", "users",
        "count contacts by title where id <= 3", "count contacts by city where id <= 3 as bars",
        "update contact 1 set title = \"Boss\" --dry-run",
        "update contacts where id <= 3 set phone = \"555\"",
        "delete contact 2 --dry-run",
        "merge contact 3 into 1 --dry-run",
        "history contact 1", "changes 3",
        "undo --dry-run",
        "can bob update contact 1", "can bob update account 1",
        "as bob whoami", "whoami",
        "find audit order by id desc limit 5",
        // Errors quoting stored values, with "did you mean" suggestions.
        "show account \"\(hostile)\"",
        "show contact \"\(hostile)1x\"",
        "find contacts where title = \"\(hostile)\" and nosuchfield = 1",
        "update contact 1 set email = \"\(hostile)\"",
    ]

    @Test func noControlCharacterReachesTheTerminal() throws {
        let engine = try Self.plantedEngine()
        let (output, errors) = Self.runAll(engine, Self.everyPath)
        #expect(Self.leaks(output) == [], "\(output)")
        #expect(Self.leaks(errors) == [], "\(errors)")
        // The values are there, shown: every path above printed some.
        #expect(output.contains("\u{FFFD}]0;pwned\u{FFFD}\u{FFFD}[2J\u{FFFD}31m\u{FFFD}evil\u{FFFD}\u{FFFD}\u{FFFD}  end"))
    }

    /// With colours on, the only escapes on standard error are Rolo's own colour codes.
    @Test func coloursAreRolosOnly() throws {
        let engine = try Self.plantedEngine()
        let (_, errors) = Self.runAll(engine, Self.everyPath, colors: true)
        #expect(errors.contains("\u{1B}[1;31merror["))
        let withoutColours = errors.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(withoutColours.contains("error[E204]: no account has name \"\u{FFFD}]0;pwned"))
        #expect(Self.leaks(withoutColours) == [], "\(withoutColours)")
    }

    /// The caret block shows the source line sanitised, with the caret under the right column.
    @Test func theSourceLineUnderAnErrorIsSanitised() throws {
        let engine = try SampleDatabase.engine()
        let (_, errors) = Self.runAll(engine, ["find contacts where title = \"\u{1B}[2J\" and emial = 1"])
        let caret = "  | " + String(repeating: " ", count: 39) + "^^^^^"
        #expect(
            errors == """
                error[E202]: unknown field 'emial' on contacts
                 --> line 1, column 40
                  |
                1 | find contacts where title = "\u{FFFD}[2J" and emial = 1
                \(caret)
                  = help: did you mean 'email'?

                """)
    }

    /// A script with CRLF line ends shows only the line in error (its CR is no character to show).
    @Test func aCRLFScriptShowsOneSourceLine() {
        let source = "count contacts\r\nfind contacts where emial = 1\r\ncount deals\r\n"
        let range = SourceRange(SourceLocation(offset: 36, line: 2, column: 21), SourceLocation(offset: 41, line: 2, column: 26))
        let shown = ErrorPresenter().present(Diagnostic(.unknownField, "unknown field 'emial' on contacts", at: range), source: source)
        #expect(shown.text.contains("\n2 | find contacts where emial = 1\n  |                     ^^^^^"), "\(shown.text)")
    }

    @Test func aDiagnosticsMessageAndHelpAreSanitisedButColoured() {
        let diagnostic = Diagnostic(.unknownRecord, "there is no account '\u{1B}]0;x\u{07}'", help: "did you mean '\u{9B}2J'?")
        let plain = ErrorPresenter().present(diagnostic).text
        #expect(plain == "rolo: error[E204]: there is no account '\u{FFFD}]0;x\u{FFFD}'\n  = help: did you mean '\u{FFFD}2J'?")
        let coloured = ErrorPresenter(colors: true).present(diagnostic).text
        #expect(coloured.hasPrefix("rolo: \u{1B}[1;31merror[E204]\u{1B}[0m\u{1B}[1m: there is no account '\u{FFFD}]0;x\u{FFFD}'\u{1B}[0m"))
    }

    @Test func displayTextIsOneSafeLine() {
        #expect(ValueFormatter.display("a\u{1B}[31mb\nc\u{85}\td\r\u{202E}".databaseValue, .text) == "a\u{FFFD}[31mb c\u{FFFD} d \u{FFFD}")
        #expect(ValueFormatter.display("Müller 東京 😀".databaseValue, .text) == "Müller 東京 😀")
        #expect(TerminalText.safe("two\nlines\u{7}", keepingLineBreaks: true) == "two\nlines\u{FFFD}")
        #expect(
            TerminalText.safe("\u{2028}\u{2029}\u{2066}\u{2069}\u{202A}\u{2027}\u{202F}") == "  \u{FFFD}\u{FFFD}\u{FFFD}\u{2027}\u{202F}")
        #expect(TerminalText.safe("\u{9F}\u{A0}\u{80}\u{7F}\u{7E}") == "\u{FFFD}\u{A0}\u{FFFD}\u{FFFD}~")
    }

    /// Files keep values as stored: CSV as is, JSON as escapes that decode to the same text.
    @Test func filesKeepTheValuesAsStored() throws {
        let csv = StringOutput()
        var writer = CSVWriter(output: csv)
        writer.begin([ResultColumn("title", .text)])
        writer.row([Self.hostile.databaseValue])
        writer.end(note: nil)
        #expect(csv.text.contains("\u{1B}]0;pwned\u{07}"))
        let json = StringOutput()
        var jsonWriter = JSONWriter(output: json)
        jsonWriter.begin([ResultColumn("title", .text)])
        jsonWriter.row([Self.hostile.databaseValue])
        jsonWriter.end(note: nil)
        #expect(Self.leaks(json.text) == [])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [[String: String]]
        #expect(decoded?.first?["title"] == Self.hostile)

        let engine = try Self.plantedEngine()
        let folder = try SampleDatabase.temporaryFolder()
        _ = run(engine, "export contacts where id = 1 to \"\(folder)/c.csv\" --raw")
        let exported = try String(contentsOfFile: folder + "/c.csv", encoding: .utf8)
        #expect(exported.contains(Self.hostile + "1"))
    }
}
