import Foundation
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloShell

/// The shell in a sandbox: its prompt says so (docs/training.md).
@Suite("Sandbox prompt")
struct SandboxPromptTests {
    @Test func thePromptSaysSandboxInASandbox() throws {
        let shell = Shell(engine: try SampleDatabase.sandboxEngine(), output: StringOutput(), errors: StringOutput())
        #expect(shell.prompt == "admin@crm.db (sandbox)> ")
        shell.engine.session.settings.dryRun = true
        #expect(shell.prompt == "admin@crm.db (sandbox) [dry-run]> ")
    }

    @Test func andNowhereElse() throws {
        let shell = Shell(engine: try SampleDatabase.engine(), output: StringOutput(), errors: StringOutput())
        #expect(shell.prompt == "admin@crm.db> ")
    }

    /// The prompts a person sees, in order, as the interactive loop asks for each line.
    final class PromptRecorder: LineReader {
        var lines: [String]
        var prompts: [String] = []
        init(_ lines: [String]) { self.lines = lines }
        func readLine(prompt: String) -> LineInput {
            prompts.append(prompt)
            return lines.isEmpty ? .endOfInput : .line(lines.removeFirst())
        }
        func addHistory(_ line: String) {}
    }

    /// After a reset the prompt still says sandbox (the checkpoint holds the mark), and a
    /// transaction shows as usual.
    @Test func thePromptStaysAfterAReset() throws {
        let shell = Shell(engine: try SampleDatabase.sandboxEngine(), output: StringOutput(), errors: StringOutput())
        let reader = PromptRecorder(["reset", "begin", "rollback"])
        shell.runInteractive(reader: reader)
        #expect(reader.prompts == ["admin@crm.db (sandbox)> ", "admin@crm.db (sandbox)> ", "admin@crm.db (sandbox) *> ", "admin@crm.db (sandbox)> "])
    }
}

extension BinaryTests {
    /// `rolo init` makes no sandbox: each sandbox command fails with one line (E515) and its
    /// help, exit status 1, and leaves no file beside the database.
    @Test(arguments: ["checkpoint before-class", "checkpoints", "reset", "reset before-class --dry-run"])
    func sandboxCommandsFailOutsideASandbox(_ command: String) throws {
        let folder = try SampleDatabase.temporaryFolder()
        #expect(try rolo(["init", "crm.db", "--admin", "ana"], folder: folder).status == 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let run = try rolo(["--db", "crm.db", "--user", "ana", "-c", command], folder: folder)
        #expect(run.status == 1)
        #expect(run.output.isEmpty)
        let lines = run.errors.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("rolo: error[E515]: crm.db is not a sandbox: ") == true, "\(run.errors)")
        #expect(lines.count == 2 && lines[1].hasPrefix("  = help: "), "\(run.errors)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before)
    }

    /// `rolo demo` makes a sandbox with its fresh state kept; checkpoint and reset work from `-c`
    /// (each statement on its own: they manage their own transactions); `--fresh` throws the old
    /// checkpoints away with the file.
    @Test func aDemoIsASandbox() throws {
        let folder = try SampleDatabase.temporaryFolder()
        #expect(try rolo(["demo", "d.db", "--contacts", "100", "--create-only"], folder: folder).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/d.db.checkpoints") == ["fresh.db"])
        let session = try rolo(
            ["--db", "d.db", "--user", "admin", "-c", #"checkpoint lesson; delete contact 1; reset lesson; count contacts"#], folder: folder)
        #expect(session.status == 0, "\(session.errors)")
        #expect(session.output.contains("kept checkpoint 'lesson'"))
        #expect(session.output.contains("contacts: 99 → 100 rows"), "\(session.output)")
        #expect(session.output.hasSuffix("100\n"))
        let unknown = try rolo(["--db", "d.db", "--user", "admin", "-c", "reset lessen"], folder: folder)
        #expect(unknown.status == 1)
        #expect(unknown.errors.contains("error[E516]: there is no checkpoint 'lessen'"), "\(unknown.errors)")
        #expect(unknown.errors.contains("did you mean 'lesson'?"))
        #expect(try rolo(["demo", "d.db", "--fresh", "--contacts", "100", "--create-only"], folder: folder).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/d.db.checkpoints") == ["fresh.db"])
    }
}
