import Foundation

/// A unified diff of two texts (through `diff -u`), for transcript failures.
public enum TextDiff {
    public static func unified(expected: String, actual: String, label: String) -> String {
        guard let folder = try? SampleDatabase.temporaryFolder() else { return "(could not write a diff)" }
        let a = folder + "/expected", b = folder + "/actual"
        _ = FileManager.default.createFile(atPath: a, contents: Data(expected.utf8))
        _ = FileManager.default.createFile(atPath: b, contents: Data(actual.utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/diff")
        process.arguments = ["-u", "--label", "\(label) (expected)", "--label", "\(label) (actual)", a, b]
        let pipe = Pipe()
        process.standardOutput = pipe
        do {
            try process.run()
        } catch {
            return "(diff unavailable: \(error))"
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
