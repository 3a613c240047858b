import Foundation
import RoloEngine
import RoloStore

/// Sample-company databases for tests: generated once per test process with the fixed clock,
/// then copied, so every test starts from the same fresh company.
public enum SampleDatabase {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var template: String?
    nonisolated(unsafe) private static var sandboxTemplate: String?

    /// The fixed instant tests run at (2026-11-22 10:00 UTC).
    public static let clock = FixedClock.reference

    /// A fresh copy of the default sample company in a new temporary folder.
    public static func freshCopy() throws -> String {
        let source = try templatePath()
        let folder = try temporaryFolder()
        let path = folder + "/crm.db"
        try FileManager.default.copyItem(atPath: source, toPath: path)
        return path
    }

    /// An engine on a fresh copy, acting as `user`.
    public static func engine(user: String = "admin") throws -> Engine {
        let store = try CRMStore.open(path: try freshCopy())
        return try Engine(store: store, clock: clock, user: user)
    }

    /// A fresh copy of the default sample company made a sandbox the way `rolo demo` makes one
    /// (`Sandbox.make`: marked, its fresh state kept as the checkpoint `fresh`), with that
    /// checkpoint beside it (`crm.db.checkpoints/fresh.db`).
    public static func sandboxCopy() throws -> String {
        let source = try sandboxTemplatePath()
        let path = try temporaryFolder() + "/crm.db"
        try FileManager.default.copyItem(atPath: source, toPath: path)
        try FileManager.default.copyItem(atPath: Sandbox.folder(for: source), toPath: Sandbox.folder(for: path))
        return path
    }

    /// An engine on a fresh sandbox copy, acting as `user`.
    public static func sandboxEngine(user: String = "admin") throws -> Engine {
        let store = try CRMStore.open(path: try sandboxCopy())
        return try Engine(store: store, clock: clock, user: user)
    }

    /// A new empty folder for one test's files, inside the test process's own folder.
    public static func temporaryFolder() throws -> String {
        let folder = TestFolders.run + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    private static func templatePath() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let template { return template }
        let path = try temporaryFolder() + "/template.db"
        let store = try CRMStore.open(path: path, mode: .createIfMissing)
        var options = SampleCompany.Options()
        options.clock = clock
        _ = try SampleCompany.generate(into: store, options: options)
        try store.checkpoint()
        template = path
        return path
    }

    private static func sandboxTemplatePath() throws -> String {
        let plain = try templatePath()
        lock.lock()
        defer { lock.unlock() }
        if let sandboxTemplate { return sandboxTemplate }
        let path = try temporaryFolder() + "/crm.db"
        try FileManager.default.copyItem(atPath: plain, toPath: path)
        let store = try CRMStore.open(path: path)
        try Sandbox.make(store: store, clock: clock)
        try store.checkpoint()
        sandboxTemplate = path
        return path
    }
}
