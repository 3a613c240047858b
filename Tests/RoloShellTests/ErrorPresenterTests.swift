import Foundation
import GRDB
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax
import Testing

/// Every kind of error through the one presenter: its text and its exit status.
@Suite("Error presenter")
struct ErrorPresenterTests {
    let presenter = ErrorPresenter()

    @Test func aDiagnosticWithSourceTextGetsTheCaretBlock() {
        let source = "count contacts\nfind contacts where emial = \"x\""
        let start = SourceLocation(offset: 35, line: 2, column: 21)
        let end = SourceLocation(offset: 40, line: 2, column: 26)
        let diagnostic = Diagnostic(
            .unknownField, "unknown field 'emial' on contacts", at: SourceRange(start, end), help: "did you mean 'email'?")
        let shown = presenter.present(diagnostic, source: source, file: "fix.rolo")
        #expect(
            shown.text == """
                error[E202]: unknown field 'emial' on contacts
                 --> fix.rolo:2:21
                  |
                2 | find contacts where emial = "x"
                  |                     ^^^^^
                  = help: did you mean 'email'?
                """)
        #expect(shown.status == .failure)
    }

    @Test func withoutARangeOrSourceOneLineAndItsHelp() {
        let unknown = Diagnostic(.unknownUser, "unknown user 'dana'", help: "did you mean 'dave'?")
        #expect(
            presenter.present(unknown, source: "can dana export contacts")
                == .init(text: "rolo: error[E205]: unknown user 'dana'\n  = help: did you mean 'dave'?", status: .failure))
        let leftOpen = Diagnostic(.transactionLeftOpen, "the transaction was never committed", help: "end it with commit")
        #expect(
            presenter.present(leftOpen, file: "fix.rolo")
                == .init(
                    text: "rolo: error[E511]: the transaction was never committed\n --> fix.rolo\n  = help: end it with commit",
                    status: .failure))
    }

    @Test func refusalsExitWithThree() {
        let denied = Diagnostic(.permissionDenied, "bob may not export change_sets", help: "none of bob's roles allows it")
        #expect(
            presenter.present(denied)
                == .init(
                    text: "rolo: error[E401]: bob may not export change_sets\n  = help: none of bob's roles allows it",
                    status: .refused))
        #expect(presenter.present(Diagnostic(.escalation, "cannot grant admin")).status == .refused)
    }

    @Test func storeErrors() {
        #expect(
            presenter.present(StoreError.fileMissing(path: "/no/crm.db"))
                == .init(
                    text:
                        "rolo: error[E602]: no database at '/no/crm.db': create a sample one with `rolo demo /no/crm.db` or an empty one with `rolo init /no/crm.db --admin HANDLE`",
                    status: .usage))
        #expect(
            presenter.present(StoreError.folderMissing(path: "/no/crm.db", folder: "/no"))
                == .init(text: "rolo: error[E602]: cannot open database '/no/crm.db': the folder '/no' does not exist", status: .usage))
        #expect(
            presenter.present(StoreError.notARoloDatabase(path: "notes.db", reason: "the file is empty"))
                == .init(
                    text: "rolo: error[E601]: 'notes.db' is not a Rolo database (the file is empty); it was left untouched",
                    status: .failure))
    }

    @Test func databaseAndOtherErrorsAreE501() {
        let constraint = DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: "FOREIGN KEY constraint failed")
        #expect(
            presenter.present(constraint)
                == .init(text: "rolo: error[E501]: SQLite error 19: FOREIGN KEY constraint failed", status: .failure))
        struct Odd: Error, CustomStringConvertible { var description: String { "something odd" } }
        #expect(presenter.present(Odd()) == .init(text: "rolo: error[E501]: something odd", status: .failure))
    }

    @Test func launcherErrors() {
        #expect(
            presenter.present(Diagnostic(.commandLine, "unknown option '--bogus'", help: "see `rolo --help`"))
                == .init(text: "rolo: error[E702]: unknown option '--bogus'\n  = help: see `rolo --help`", status: .usage))
        #expect(
            presenter.present(Diagnostic(.noDatabase, "no database given"))
                == .init(text: "rolo: error[E703]: no database given", status: .usage))
        #expect(
            presenter.present(Diagnostic(.noUser, "unknown --user 'bobb'", help: "did you mean 'bob'?"))
                == .init(text: "rolo: error[E704]: unknown --user 'bobb'\n  = help: did you mean 'bob'?", status: .usage))
        #expect(
            presenter.present(Diagnostic(.fileNotFound, "no such script: fix.rolo"))
                == .init(text: "rolo: error[E602]: no such script: fix.rolo", status: .usage))
        #expect(
            presenter.present(Diagnostic(.databaseInUse, "crm.db is open in another rolo process"))
                == .init(text: "rolo: error[E604]: crm.db is open in another rolo process", status: .failure))
        #expect(presenter.present(Diagnostic(.usage, "explain works on find")).status == .usage)
    }

    @Test func coloursOnlyWhenAsked() {
        let text = ErrorPresenter(colors: true).present(Diagnostic(.noDatabase, "no database given", help: "pass --db")).text
        #expect(
            text == "rolo: \u{1B}[1;31merror[E703]\u{1B}[0m\u{1B}[1m: no database given\u{1B}[0m\n  = \u{1B}[1;36mhelp\u{1B}[0m: pass --db")
    }

    // MARK: - The codes of every module

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every code each module declares, read from the sources: `DiagnosticCode("E…")`.
    static func declaredCodes() throws -> [String] {
        var codes: [String] = []
        let sources = root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        let pattern = try Regex(#"DiagnosticCode\("(E\d{3})"\)"#)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            codes += text.matches(of: pattern).map { String($0.output[1].substring ?? "") }
        }
        return codes
    }

    /// No two codes of any module share a number, and every code declared is in a module's list.
    @Test func codesAreDistinctAcrossModules() throws {
        let listed = DiagnosticCode.all.map(\.rawValue)
        #expect(
            listed.count == Set(listed).count,
            "codes listed twice: \(Dictionary(grouping: listed) { $0 }.filter { $1.count > 1 }.keys.sorted())")
        let declared = try Self.declaredCodes()
        #expect(
            declared.count == Set(declared).count,
            "codes declared twice: \(Dictionary(grouping: declared) { $0 }.filter { $1.count > 1 }.keys.sorted())")
        #expect(
            Set(declared) == Set(listed),
            "declared but not listed: \(Set(declared).subtracting(listed).sorted()); listed but not declared: \(Set(listed).subtracting(declared).sorted())"
        )
        #expect(declared.count > 50)
    }

    /// Every code of every module has its row in docs/errors.md.
    @Test func everyCodeIsDocumented() throws {
        let errors = try String(contentsOf: Self.root.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        for code in DiagnosticCode.all {
            #expect(errors.contains("| \(code.rawValue) |"), "docs/errors.md has no row for \(code.rawValue)")
        }
    }
}
