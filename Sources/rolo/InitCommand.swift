import ArgumentParser
import Foundation
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax

/// `rolo init FILE --admin HANDLE`: an empty CRM with its first admin — or, on a database whose
/// admins are all gone, a new admin (the recovery path).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty CRM database with its first admin (or recover one that has no active admin).",
        discussion: """
            Examples:
              rolo init crm.db --admin ana --name "Ana Ruiz"   a new CRM; ana is its admin
            """)

    @Argument(help: "The database file.")
    var file: String

    @Option(name: .long, help: "The admin's handle.")
    var admin: String

    @Option(name: .long, help: "The admin's full name.")
    var name: String?

    func run() throws {
        let existed = FileManager.default.fileExists(atPath: file)
        do {
            // Held while this runs, so `rolo demo --fresh` leaves the file alone.
            let lock = existed ? DatabaseLock.shared(file) : nil
            let store = try CRMStore.open(path: file, mode: .createIfMissing)
            if lock == nil { _ = DatabaseLock.shared(file) }
            try Engine.bootstrapAdmin(store: store, handle: admin, name: name, clock: Launcher.clockFromEnvironment())
            try store.checkpoint()
            print(existed ? "\(admin) is now an admin of \(file)" : "created \(file) with \(admin) as its admin")
            print("open it with: rolo --db \(file) --user \(admin)")
        } catch {
            if !existed {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
            throw ExitCode(Launcher.fail(error).rawValue)
        }
    }
}
