import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// Sandboxes: the databases `rolo demo` makes, for trying things and for training
/// (docs/training.md). A sandbox is marked in `rolo_meta` (`SandboxMark`); its states can be kept
/// as named checkpoints (`checkpoint NAME`) and returned to (`reset NAME`); the state `rolo demo`
/// made is kept as the checkpoint `fresh`, where `reset` with no name returns.
///
/// A checkpoint is a file `FILE.checkpoints/NAME.db` beside the database: a consistent copy SQLite
/// writes with `VACUUM INTO` (never a copy of the live file), into the temporary file of the one
/// output-file policy (`OutputFile`), labelled with its name, time and taker, synced and renamed.
public enum Sandbox {
    /// The checkpoint every sandbox starts with, and `reset` with no name returns to.
    public static let freshName = "fresh"
    /// The longest name a checkpoint may have.
    static let maxNameLength = 64
    /// Who took the fresh checkpoint, as its label says.
    static let maker = "rolo demo"

    /// The folder of the checkpoints of the database at `databasePath`: `FILE.checkpoints`.
    public static func folder(for databasePath: String) -> String { databasePath + ".checkpoints" }

    /// The file of the checkpoint `name`.
    public static func path(of name: String, databasePath: String) -> String { folder(for: databasePath) + "/" + name + ".db" }

    /// Makes the store a sandbox: marks it, then keeps its state as the checkpoint `fresh` (taken
    /// after the mark, so a reset sandbox is still one). `rolo demo` calls it on the file it has
    /// just made, and so do the tests' sample sandboxes (`SampleDatabase.sandboxCopy`).
    public static func make(store: CRMStore, clock: any CRMClock) throws {
        try store.dbQueue.write { db in try SandboxMark.mark(db) }
        let label = CheckpointLabel(name: freshName, takenAt: clock.now().description, takenBy: maker)
        _ = try keep(store: store, label: label, overwrite: true, protected: Engine.protectedFiles(of: store.path), at: nil)
    }

    /// Whether `name` may name a checkpoint: 1 to 64 letters, digits, `-` and `_`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= maxNameLength
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_")
            }
    }

    /// `name` if it can name a checkpoint, else the error (E516) pointing at it.
    static func checkedName(_ name: Located<String>) throws -> String {
        guard isValidName(name.value) else {
            throw Diagnostic(
                .badCheckpoint, "'\(name.value)' cannot name a checkpoint", at: name.range,
                help: "a checkpoint's name is letters, digits, - and _ (up to \(maxNameLength)), e.g. before-class")
        }
        return name.value
    }

    /// Writes a checkpoint of the store's database: `VACUUM INTO` the output-file policy's
    /// temporary file, labelled, synced, then renamed to `FILE.checkpoints/NAME.db` (made if
    /// missing; a symbolic link or anything but a folder there is refused).
    /// - Returns: the file's size in bytes.
    static func keep(
        store: CRMStore, label: CheckpointLabel, overwrite: Bool, protected: OutputFile.Protected, at range: SourceRange?
    ) throws -> Int {
        let folder = folder(for: store.path)
        let shown = Located(displayPath(of: label.name, databasePath: store.path), range ?? SourceRange(.start, .start))
        func failure(_ error: OutputFileError) -> Diagnostic {
            if case .exists = error {
                return Diagnostic(
                    .fileExists, "checkpoint '\(label.name)' already exists; nothing was written", at: range,
                    help: "add --force to replace it, or choose another name")
            }
            var diagnostic = error.diagnostic(shown, outcome: "nothing was written", example: "before-class")
            if range == nil { diagnostic = Diagnostic(diagnostic.code, diagnostic.message, help: diagnostic.help) }
            return diagnostic
        }
        var info = stat()
        if lstat(folder, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw Diagnostic(
                    .fileUnwritable, "\(URL(fileURLWithPath: folder).lastPathComponent) is not a folder (a checkpoint folder must be a folder of its own, not a link); nothing was written",
                    at: range, help: "move it away; the next checkpoint makes the folder")
            }
        } else if mkdir(folder, 0o755) != 0, errno != EEXIST {
            throw failure(.cannotWrite(String(cString: strerror(errno))))
        }
        let file: OutputFile
        do {
            file = try OutputFile(
                path: path(of: label.name, databasePath: store.path), kind: .checkpoint, overwrite: overwrite, protected: protected)
        } catch {
            throw failure(error)
        }
        do {
            try store.inDatabase { db in try db.execute(SnapshotSQL.vacuumInto(file.temporaryPath)) }
            try CheckpointFile.writeLabel(label, path: file.temporaryPath)
        } catch {
            file.abandon()
            unlink(file.temporaryPath + "-journal")
            // Ctrl-C is the engine's to tell (E509); a full disk or the like is the file's (E609).
            if let error = error as? DatabaseError, error.resultCode == .SQLITE_INTERRUPT { throw error }
            throw failure(.cannotWrite((error as? DatabaseError)?.message ?? "\(error)"))
        }
        do {
            try file.commit(overwrite: overwrite)
        } catch {
            throw failure(error)
        }
        var written = stat()
        return stat(file.path, &written) == 0 ? Int(written.st_size) : 0
    }

    /// The checkpoint's file as the user sees it: `FILE.checkpoints/NAME.db`, the database's
    /// folder left out.
    static func displayPath(of name: String, databasePath: String) -> String {
        URL(fileURLWithPath: databasePath).lastPathComponent + ".checkpoints/" + name + ".db"
    }

    /// A size in bytes for people: `812 KB`, `3.3 MB`, `1.2 GB`.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return String(format: "%.1f GB", Double(bytes) / Double(1 << 30)) }
        return ExportCommand.size(bytes)
    }
}

/// A checkpoint on disk, as `checkpoints` lists it.
struct CheckpointListing {
    let name: String
    let path: String
    let bytes: Int
    /// What the checkpoint holds about itself; nil when the file cannot be read as one.
    let contents: CheckpointFile.Contents?
}

extension Engine {
    /// Refuses `command` on a database that is not a sandbox (E515), before anything is written:
    /// one line about the database, pointing at no word of the command.
    func requireSandbox(_ command: String) throws {
        guard session.isSandbox else {
            throw Diagnostic(
                .notSandbox,
                "\(URL(fileURLWithPath: store.path).lastPathComponent) is not a sandbox: \(command) works only in a database rolo demo made",
                help: "try it in one: rolo demo FILE")
        }
    }

    /// Checkpoints and resets are for admins: users who may grant on users with scope all, as `as`
    /// and `login` are (a reset puts back every grant the checkpoint held, so it is a grant too).
    func requireSandboxAdmin(_ command: String, at range: SourceRange?) throws {
        let decision = access.decide(.grant, on: "users")
        guard decision.deniedBy == nil, decision.scope == .all else {
            throw Diagnostic(
                .permissionDenied, "\(access.actor.handle) may not \(command) the sandbox", at: range,
                help: "checkpoints and resets are for admins (who may grant on users): ask the trainer")
        }
    }

    /// Refuses `command` inside `begin` … `commit` (E503): it works on the whole database, outside
    /// any transaction.
    func refuseInsideTransaction(_ command: String, at range: SourceRange?) throws {
        guard !transactions.isOpen else {
            throw Diagnostic(
                .transactionOpen, "\(command) cannot run inside a transaction", at: range,
                help: "commit or rollback first: \(command) works on the whole database")
        }
    }

    /// The checkpoints of this sandbox: `fresh` first, then by the time they were taken.
    func checkpointListings() -> [CheckpointListing] {
        let folder = Sandbox.folder(for: store.path)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var listings: [CheckpointListing] = []
        for file in names where file.hasSuffix(".db") {
            let name = String(file.dropLast(3))
            guard Sandbox.isValidName(name) else { continue }  // temporary files start with a dot
            let path = folder + "/" + file
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            let contents = try? CheckpointFile.open(path: path).read { db in try CheckpointFile.contents(of: db) }
            listings.append(CheckpointListing(name: name, path: path, bytes: Int(info.st_size), contents: contents))
        }
        return listings.sorted { a, b in
            if (a.name == Sandbox.freshName) != (b.name == Sandbox.freshName) { return a.name == Sandbox.freshName }
            let (ta, tb) = (a.contents?.label?.takenAt ?? "", b.contents?.label?.takenAt ?? "")
            return ta != tb ? ta < tb : a.name < b.name
        }
    }
}
