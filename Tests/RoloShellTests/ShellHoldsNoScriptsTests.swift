import Foundation
import Testing

/// Scripts are run by the engine (RoloEngine/Scripts): the shell reads lines, renders and pages.
/// This fails when anything script-shaped comes back into RoloShell: parsing statements, opening
/// or ending transactions, running statements itself.
@Suite("The shell holds no script logic")
struct ShellHoldsNoScriptsTests {
    static let forbidden = [
        "Parser.parse", "Parser.Statements", "parseStatement(", "beginTransaction(", "endTransaction(", ".execute(",
        "engine.run(", "managesTransaction", "transactionNote", "Script.load", "parameterValues", "IncludeCommand",
        "RunCommand", ".included(", "engine.session.parameters",
    ]

    @Test func shellSourcesHandTextToTheRunner() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/RoloShell")
        // Every file, in the subfolders too (LineReading, Paging).
        let files = (FileManager.default.subpaths(atPath: folder.path) ?? []).filter { $0.hasSuffix(".swift") }
        #expect(files.contains("Shell.swift") && files.contains("LineReading/EditLineReader.swift"))
        var found: [String] = []
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.components(separatedBy: "//").first ?? ""
                for word in Self.forbidden where code.contains(word) { found.append("\(file):\(number + 1): \(word)") }
            }
        }
        #expect(found.isEmpty, "script logic in RoloShell: \(found)")
    }
}
