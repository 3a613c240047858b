import Foundation
import RoloEngine
import RoloSyntax
import RoloTestSupport
import Testing

/// Every example in `help`, the README and docs/language.md that reads or changes records finds
/// something on the sample company: an example that answers "0" or "(0 rows)" teaches nothing.
@Suite("Examples find rows")
struct ExampleRowsTests {
    /// Why an example's answer is empty, or nil when it found something.
    static func emptiness(of command: String, output: String) -> String? {
        let verb = command.split(separator: " ").first.map(String.init) ?? ""
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        switch verb {
        case "find":
            if lines.contains("(0 rows)") { return "found no rows" }
            if command.contains(" as csv") && lines.filter({ !$0.isEmpty }).count < 2 { return "found no rows" }
        case "count", "sum", "avg", "min", "max":
            if lines.contains("(0 rows)") { return "found no groups" }
            if let first = lines.first, ["0", "(none)", "$0.00"].contains(first) { return "answered \(first)" }
        case "update", "delete", "assign", "verify", "merge":
            if output.contains("matched; nothing changed") || output.contains("matched but already had") {
                return "matched nothing to change"
            }
        case "normalize":
            if output.contains("already normalized") || output.contains("matched; nothing changed") { return "found nothing to normalize" }
        case "dedupe":
            if output.hasPrefix("no duplicates") { return "found no duplicates" }
        default: break
        }
        return nil
    }

    /// In order, on one company (a sandbox, as `rolo demo` opens), as `help` reads top to bottom
    /// (later examples use earlier ones').
    @Test func helpExamplesFindRows() throws {
        let engine = try SampleDatabase.sandboxEngine()
        for topic in HelpCommand.topics {
            for example in topic.examples {
                let result = run(engine, example)
                #expect(result.error == nil, "help \(topic.name): \(example) → \(result.error?.message ?? "")")
                if let why = Self.emptiness(of: example, output: result.output) {
                    Issue.record("help \(topic.name): `\(example)` \(why)")
                }
            }
        }
    }

    /// Lines of the README's and docs/language.md's code blocks that are Rolo commands (they parse)
    /// and read or change records.
    static func documentedExamples() throws -> [(file: String, command: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var examples: [(String, String)] = []
        for file in ["README.md", "docs/language.md"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            var inBlock = false
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if raw.hasPrefix("```") {
                    inBlock.toggle()
                    continue
                }
                guard inBlock else { continue }
                var line = String(raw)
                if let prompt = line.range(of: "> "), line.hasPrefix("admin@") { line = String(line[prompt.upperBound...]) }
                if let comment = line.range(of: "  ") { line = String(line[..<comment.lowerBound]) }
                line = line.trimmingCharacters(in: .whitespaces)
                let verb = line.split(separator: " ").first.map(String.init) ?? ""
                // A script's lines with `$name` need the script's parameters: the transcripts run those.
                guard line.range(of: #"\$[A-Za-z_]"#, options: .regularExpression) == nil else { continue }
                // A dedupe writing a plan file is left to the transcripts (it would write beside the docs).
                guard Self.checkedVerbs.contains(verb), !(verb == "dedupe" && line.contains(" to \"")), (try? Parser.parse(line)) != nil
                else { continue }
                examples.append((file, line))
            }
        }
        return examples
    }

    /// The commands whose examples must find something.
    static let checkedVerbs: Set<String> = [
        "find", "count", "sum", "avg", "min", "max", "update", "delete", "assign", "verify", "merge", "normalize", "dedupe",
    ]
    /// Of those, the ones that change records: run as dry-runs.
    static let changingVerbs: Set<String> = ["update", "delete", "assign", "verify", "merge", "normalize"]

    @Test func documentedExamplesFindRows() throws {
        let examples = try Self.documentedExamples()
        #expect(examples.count >= 15)
        // In order, as a reader tries them; changes as dry-runs, so each example meets the sample
        // company as the docs describe it.
        let engine = try SampleDatabase.engine()
        for (file, command) in examples {
            let verb = command.split(separator: " ").first.map(String.init) ?? ""
            let result = run(engine, command + (Self.changingVerbs.contains(verb) && !command.contains("--dry-run") ? " --dry-run" : ""))
            if let error = result.error {
                Issue.record("\(file): `\(command)` → \(error.code.rawValue) \(error.message)")
            } else if let why = Self.emptiness(of: command, output: result.output) {
                Issue.record("\(file): `\(command)` \(why)")
            }
        }
    }
}
