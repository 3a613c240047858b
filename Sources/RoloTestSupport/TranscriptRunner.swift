import Foundation
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax

/// Runs a `.rolo` transcript the way the shell would and produces its expected-output text,
/// psql regression style: each command echoed after a prompt, then its output or its error.
///
/// Input is split into commands exactly as the interactive shell does (a line, plus
/// continuation lines while the parser says the input is unfinished). Comment lines are
/// echoed. A line `# @user HANDLE` switches the acting user for what follows; `# @read-only HANDLE`
/// does too, on the same file opened read-only.
public struct TranscriptRunner {
    public init() {}

    public func run(_ source: String, databasePath: String) throws -> String {
        let store = try CRMStore.open(path: databasePath)
        var engine = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        let output = StringOutput()
        var transcript = ""
        var buffer: [String] = []

        func runBuffer() {
            let text = buffer.joined(separator: "\n")
            buffer = []
            transcript += "rolo> " + text.replacingOccurrences(of: "\n", with: "\n  ..> ") + "\n"
            let errors = StringOutput()
            let shell = Shell(engine: engine, output: output, errors: errors)
            let status = shell.runSource(text, file: nil)
            transcript += output.text + errors.text
            if status != .success { transcript += "(exit status \(status.rawValue))\n" }
            output.clear()
            transcript += "\n"
        }

        var lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if buffer.isEmpty {
                if trimmed.isEmpty { continue }
                if trimmed.hasPrefix("# @user ") {
                    let handle = String(trimmed.dropFirst("# @user ".count))
                    engine = try Engine(store: store, clock: SampleDatabase.clock, user: handle)
                    transcript += line + "\n\n"
                    continue
                }
                if trimmed.hasPrefix("# @read-only ") {
                    // The same file opened read-only, as a user without write permission would.
                    let handle = String(trimmed.dropFirst("# @read-only ".count))
                    let readOnly = try CRMStore.open(path: databasePath, readOnly: true)
                    engine = try Engine(store: readOnly, clock: SampleDatabase.clock, user: handle)
                    transcript += line + "\n\n"
                    continue
                }
                if trimmed.hasPrefix("#") {
                    transcript += line + "\n"
                    continue
                }
            }
            buffer.append(line)
            do {
                _ = try Parser.parse(buffer.joined(separator: "\n"))
            } catch  where error.isUnfinished {
                continue
            } catch {}
            runBuffer()
        }
        if !buffer.isEmpty { runBuffer() }
        return transcript
    }
}
