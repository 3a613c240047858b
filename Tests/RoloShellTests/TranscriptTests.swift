import Foundation
import RoloEngine
import RoloShell
import RoloTestSupport
import Testing

/// Golden transcripts: Tests/Transcripts/NNN-topic.rolo beside NNN-topic.out, each run on a
/// fresh sample company with the fixed clock (a sandbox of it when the file starts `# @sandbox`). `ROLO_RECORD=1 scripts/test` rewrites the .out files.
@Suite("Transcripts")
struct TranscriptTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Transcripts")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.filter { $0.hasSuffix(".rolo") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test func thereAreTranscripts() {
        #expect(Self.names.count >= 10)
    }

    /// The package root: transcripts name their fixture files relative to it
    /// (`Tests/Transcripts/fixtures/…`), so they run there whatever directory the tests started in.
    static let packageRoot = folder.deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: names)
    func transcript(_ name: String) throws {
        #expect(FileManager.default.changeCurrentDirectoryPath(Self.packageRoot.path))
        let script = try String(contentsOf: Self.folder.appendingPathComponent(name + ".rolo"), encoding: .utf8)
        let expectedURL = Self.folder.appendingPathComponent(name + ".out")
        // A transcript that starts `# @sandbox` runs in a sandbox, as `rolo demo` makes one.
        let database = script.hasPrefix(TranscriptRunner.sandboxDirective) ? try SampleDatabase.sandboxCopy() : try SampleDatabase.freshCopy()
        let actual = try TranscriptRunner().run(script, databasePath: database)
        let expected = (try? String(contentsOf: expectedURL, encoding: .utf8)) ?? ""
        if ProcessInfo.processInfo.environment["ROLO_RECORD"] == "1" {
            // Re-recording is never a silent pass (swift-argument-parser's snapshot habit): a
            // changed file fails the run, naming it, so nobody records by accident.
            if expected != actual {
                try actual.write(to: expectedURL, atomically: true, encoding: .utf8)
                Issue.record(
                    Comment(rawValue: "re-recorded Tests/Transcripts/\(name).out; review the diff and run again without ROLO_RECORD"))
            }
            return
        }
        if expected != actual {
            let diff = TextDiff.unified(expected: expected, actual: actual, label: name)
            Issue.record(Comment(rawValue: "transcript \(name) differs (ROLO_RECORD=1 scripts/test re-records):\n\(diff)"))
        }
    }

    /// Records which prompt each line was typed at, as the interactive shell asks: a new command's
    /// prompt or a continuation prompt.
    final class PromptRecorder: LineReader {
        var lines: [String]
        var typed: [(continuation: Bool, line: String)] = []
        /// Whether each prompt asked for a continuation line, the ones after the input ended included.
        var prompts: [Bool] = []
        init(_ lines: [String]) { self.lines = lines }
        func readLine(prompt: String) -> LineInput {
            prompts.append(prompt.trimmingCharacters(in: .whitespaces) == "..>")
            guard !lines.isEmpty else { return .endOfInput }
            let line = lines.removeFirst()
            typed.append((prompts[prompts.count - 1], line))
            return .line(line)
        }
        func addHistory(_ line: String) {}
    }

    /// Lines grouped into commands: a new group at each line typed at a new command's prompt.
    static func commands(_ typed: [(continuation: Bool, line: String)]) -> [[String]] {
        var commands: [[String]] = []
        for (continuation, line) in typed {
            if continuation, !commands.isEmpty { commands[commands.count - 1].append(line) } else { commands.append([line]) }
        }
        return commands
    }

    /// The interactive loop (`Shell.runInteractive`, as a person types) and the transcript runner agree
    /// on where each multi-line command ends — both against the hand-written answer.
    @Test func transcriptsEndCommandsWhereTheInteractiveShellDoes() throws {
        let lines = [
            #"find contacts id where title contains "VP" and"#,
            "  email is empty",
            "count deals where (stage = won",
            "  or stage = lost)",
            "find contacts id where id in (1,",
            "",
            "  2)",
            "count accounts",
            #"count contacts where (title = "CTO""#,
        ]
        let expected = [Array(lines[0...1]), Array(lines[2...3]), Array(lines[4...6]), [lines[7]], [lines[8]]]

        let engine = try SampleDatabase.engine()
        let shell = Shell(engine: engine, output: StringOutput(), errors: StringOutput())
        let recorder = PromptRecorder(lines)
        shell.runInteractive(reader: recorder)
        #expect(Self.commands(recorder.typed) == expected)
        // The last command's bracket is still open when the input ends: the shell was asking for more.
        #expect(recorder.prompts.count > lines.count && recorder.prompts[lines.count] == true)

        let transcript = try TranscriptRunner().run(lines.joined(separator: "\n"), databasePath: try SampleDatabase.freshCopy())
        var echoed: [(continuation: Bool, line: String)] = []
        for line in transcript.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("rolo> ") { echoed.append((false, String(line.dropFirst(6)))) }
            if line.hasPrefix("  ..> ") { echoed.append((true, String(line.dropFirst(6)))) }
        }
        #expect(Self.commands(echoed) == expected, "\(transcript)")
        // Where the input ends inside the bracket, the transcript reports it as a script would.
        #expect(transcript.hasSuffix("(exit status 1)\n\n"), "\(transcript)")
        #expect(transcript.contains("found end of input"), "\(transcript)")
    }
}
