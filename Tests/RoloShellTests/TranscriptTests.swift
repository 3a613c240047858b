import Foundation
import RoloTestSupport
import Testing

/// Golden transcripts: Tests/Transcripts/NNN-topic.rolo beside NNN-topic.out, each run on a
/// fresh sample company with the fixed clock. `ROLO_RECORD=1 scripts/test` rewrites the .out files.
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

    @Test(arguments: names)
    func transcript(_ name: String) throws {
        let script = try String(contentsOf: Self.folder.appendingPathComponent(name + ".rolo"), encoding: .utf8)
        let expectedURL = Self.folder.appendingPathComponent(name + ".out")
        let actual = try TranscriptRunner().run(script, databasePath: try SampleDatabase.freshCopy())
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
}
