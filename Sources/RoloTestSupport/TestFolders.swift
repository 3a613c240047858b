import Foundation

/// Where tests keep their files: one folder per test process (`rolo-tests-PID` in the temporary
/// directory), removed when the process exits. A process that was killed leaves its folder; the
/// next test process removes the folders of processes that are gone. Before this, every test's
/// copy of the sample company stayed behind, and repeated test runs filled the disk (65 GB in
/// 20,000 folders on the development machine).
public enum TestFolders {
    static let prefix = "rolo-tests-"

    /// This process's folder, made (and the leftovers of ended processes removed) on first use.
    public static let run: String = {
        let base = NSTemporaryDirectory()
        removeLeftovers(in: base)
        let folder = base + prefix + String(getpid())
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        atexit { TestFolders.removeRun() }
        return folder
    }()

    private static func removeRun() {
        try? FileManager.default.removeItem(atPath: run)
    }

    /// Folders of test processes that no longer run, and those of the older one-folder-per-test
    /// naming (a UUID after the prefix) more than an hour old.
    static func removeLeftovers(in base: String) {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: base) else { return }
        for name in names where name.hasPrefix(prefix) {
            let path = base + name
            if let pid = Int32(name.dropFirst(prefix.count)) {
                if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { try? manager.removeItem(atPath: path) }
            } else if let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                modified < Date().addingTimeInterval(-3600)
            {
                try? manager.removeItem(atPath: path)
            }
        }
    }
}
