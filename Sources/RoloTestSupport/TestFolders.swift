import Foundation

/// Where tests keep their files: one folder per test process (`rolo-tests-PID` in the temporary
/// directory), removed when the process exits. A process that was killed leaves its folder; the
/// next test process removes the folders nobody holds. Before this, every test's copy of the
/// sample company stayed behind, and repeated test runs filled the disk (65 GB in 20,000 folders
/// on the development machine).
///
/// A folder is held by a lock on its `.lock` file for as long as its process lives, not judged by
/// its process number: a container sharing the temporary directory may see other processes'
/// numbers as free, and numbers are reused.
public enum TestFolders {
    static let prefix = "rolo-tests-"
    /// Names older versions gave test folders (one per test), swept when more than an hour old.
    static let olderPrefixes = ["rolo-tests-", "rolo-export-", "rolo-store-"]
    static let lockName = ".lock"

    /// This process's folder, made and locked (and the leftovers of ended runs removed) on first use.
    public static let run: String = {
        let base = NSTemporaryDirectory()
        removeLeftovers(in: base)
        let folder = base + prefix + String(getpid())
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Held until the process ends; the descriptor is never closed.
        let lock = open(folder + "/" + lockName, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        atexit { TestFolders.removeRun() }
        return folder
    }()

    private static func removeRun() {
        try? FileManager.default.removeItem(atPath: run)
    }

    /// Test folders whose lock nobody holds, and unlocked ones (older names, or a folder being
    /// made this instant) more than an hour old.
    static func removeLeftovers(in base: String) {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: base) else { return }
        for name in names where olderPrefixes.contains(where: name.hasPrefix) {
            let path = base + name
            let lock = open(path + "/" + lockName, O_RDWR | O_CLOEXEC)
            if lock >= 0 {
                defer { close(lock) }
                if flock(lock, LOCK_EX | LOCK_NB) == 0 { try? manager.removeItem(atPath: path) }
            } else if let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                modified < Date().addingTimeInterval(-3600)
            {
                try? manager.removeItem(atPath: path)
            }
        }
    }
}
