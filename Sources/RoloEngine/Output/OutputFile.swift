import Foundation
import RoloStore
import RoloSyntax

/// The one policy for every file Rolo writes — an export, an import's rejects file, and any
/// later kind (plans, lesson recordings, checkpoints): the kind's ending; never the open
/// database or a file SQLite or Rolo keeps beside it (compared by device and inode, and by
/// folder and name for those not there yet, so another spelling or a hard link is caught too);
/// never through a symbolic link, onto a FIFO, a device or a folder; no overwrite without
/// `--force`; written to a temporary file beside the target, synced, then renamed.
///
/// Rows go to the temporary file, which takes the target's name only when every row is written
/// and synced: a failure, Ctrl-C or a crash leaves no half file under the target's name.
final class OutputFile: OutputSink {
    /// What a file holds, and so which endings it may have.
    struct Kind: Sendable {
        /// The kind in the user's words ("an export", "a rejects file").
        let name: String
        /// The endings it may have, lower case, without the dot; the first is the one suggested.
        let endings: [String]

        static let export = Kind(name: "an export", endings: ["csv", "json", "jsonl"])
        static let rejects = Kind(name: "a rejects file", endings: ["csv", "tsv", "txt"])
        static let plan = Kind(name: "a plan file", endings: ["plan"])
        /// A sandbox's checkpoint: SQLite writes the temporary file itself (`VACUUM INTO` its
        /// path, see `Sandbox.keep`), then `commit` syncs and renames it like any other.
        static let checkpoint = Kind(name: "a checkpoint", endings: ["db"])
        /// `record FILE`: a lesson file, played back by `play`.
        static let recording = Kind(name: "a recording", endings: ["rolo"])
        /// Where a learner is in a lesson (Rolo's own, under the state folder).
        static let lessonProgress = Kind(name: "a lesson's progress", endings: ["progress"])
    }

    /// Files no command may write: the open database and its companions.
    struct Protected: Sendable {
        /// Each file as (device, inode) where it exists.
        let identities: [FileIdentity]
        /// Each file as (its folder's device and inode, its name), existing or not.
        let names: [NamedEntry]

        /// `paths[0]` is the database itself.
        init(paths: [String]) {
            identities = paths.compactMap { FileIdentity(path: $0) }
            names = paths.compactMap { NamedEntry(path: $0) }
        }

        static let none = Protected(paths: [])
    }

    /// A file as the file system knows it, however its path is spelled.
    struct FileIdentity: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64

        /// The file at `path`, following symbolic links; nil if there is none.
        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// A name in a folder, the folder known by its identity.
    struct NamedEntry: Equatable, Sendable {
        let folder: FileIdentity
        let name: String

        init?(path: String) {
            let url = URL(fileURLWithPath: path)
            guard let folder = FileIdentity(path: url.deletingLastPathComponent().path) else { return nil }
            self.folder = folder
            name = url.lastPathComponent
        }
    }

    let path: String
    let temporaryPath: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0
    /// The first write error (a full disk), reported when the file is committed.
    private var failure: Int32? = nil

    let isTerminal = false
    let colors = false

    /// Checks `path` against the policy and creates the temporary file beside it.
    init(path: String, kind: Kind, overwrite: Bool, protected: Protected) throws(OutputFileError) {
        try Self.check(path: path, kind: kind, overwrite: overwrite, protected: protected)
        self.path = path
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        temporaryPath = directory + "/." + url.lastPathComponent + ".rolo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotWrite(String(cString: strerror(errno))) }
        buffer.reserveCapacity(1 << 16)
    }

    /// Whether `path` may be written as a file of `kind`; throws why not. Commands that write
    /// late (an import's rejects file) check first, before any work.
    static func check(path: String, kind: Kind, overwrite: Bool, protected: Protected) throws(OutputFileError) {
        let url = URL(fileURLWithPath: path)
        guard kind.endings.contains(url.pathExtension.lowercased()) else { throw .wrongEnding(kind) }
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .noFolder(directory)
        }
        if let entry = NamedEntry(path: path), protected.names.contains(entry) { throw .protected }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .isFolder
        case S_IFLNK: throw .notRegular("a symbolic link")
        case S_IFIFO: throw .notRegular("a FIFO")
        case S_IFCHR, S_IFBLK: throw .notRegular("a device")
        default: throw .notRegular("not a regular file")
        }
        if let identity = FileIdentity(path: path), protected.identities.contains(identity) { throw .protected }
        if !overwrite { throw .exists }
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    private func flush() {
        var offset = 0
        while offset < buffer.count, failure == nil {
            let written = buffer.withUnsafeBytes { raw -> Int in
                Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        bytesWritten += offset
        buffer.removeAll(keepingCapacity: true)
        #if os(Linux)
            // Start writing the file to disk as it grows, so the fsync before the rename waits
            // only for the last few megabytes (POSIX_FADV_DONTNEED begins write-back on Linux).
            if bytesWritten - writeBackFrom >= 8 << 20 {
                _ = posix_fadvise(descriptor, off_t(writeBackFrom), off_t(bytesWritten - writeBackFrom), POSIX_FADV_DONTNEED)
                writeBackFrom = bytesWritten
            }
        #endif
    }

    /// Where the part of the file not yet handed to the disk's write-back begins (`flush`).
    private var writeBackFrom = 0

    /// Syncs the temporary file and gives it the target's name. With `overwrite` false the name is
    /// taken only if still free (link, then unlink): a file that appeared meanwhile is kept.
    func commit(overwrite: Bool) throws(OutputFileError) {
        flush()
        if let failure {
            abandon()
            throw .cannotWrite(String(cString: strerror(failure)))
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            descriptor = -1
            abandon()
            throw .cannotWrite(reason)
        }
        descriptor = -1
        if overwrite {
            guard rename(temporaryPath, path) == 0 else {
                let reason = String(cString: strerror(errno))
                abandon()
                throw .cannotWrite(reason)
            }
        } else {
            guard link(temporaryPath, path) == 0 else {
                let exists = errno == EEXIST
                let reason = String(cString: strerror(errno))
                abandon()
                throw exists ? .exists : .cannotWrite(reason)
            }
            unlink(temporaryPath)
        }
    }

    /// Removes the temporary file: nothing of the export is left.
    func abandon() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        unlink(temporaryPath)
    }

    deinit {
        if descriptor >= 0 { abandon() }
    }
}

enum OutputFileError: Error {
    case wrongEnding(OutputFile.Kind)
    case noFolder(String)
    case isFolder
    /// A symbolic link, a FIFO, a device: what it is.
    case notRegular(String)
    /// The open database or a file beside it.
    case protected
    case exists
    case cannotWrite(String)
}

extension OutputFileError {
    /// The error in the user's words, pointing at the file's name; `outcome` says what was kept
    /// ("nothing was written", "nothing was imported"), `example` names a file for the help.
    func diagnostic(_ path: Located<String>, outcome: String, example: String) -> Diagnostic {
        switch self {
        case .exists:
            return Diagnostic(
                .fileExists, "\(path.value) already exists; \(outcome)", at: path.range,
                help: "add --force to replace it, or choose another name")
        case .isFolder:
            return Diagnostic(
                .fileUnwritable, "\(path.value) is a folder; \(outcome)", at: path.range,
                help: "give a file name, e.g. \"\(path.value)/\(example)\"")
        case .wrongEnding(let kind):
            let name = URL(fileURLWithPath: path.value).lastPathComponent
            let endings = kind.endings.map { "." + $0 }
            let listed = endings.count == 1 ? endings[0] : endings.dropLast().joined(separator: ", ") + " or " + endings[endings.count - 1]
            return Diagnostic(
                .usage, "\(kind.name) is a \(listed) file, not '\(name)'; \(outcome)", at: path.range,
                help: "name the file with one of those endings, e.g. \"\(example)\"")
        case .notRegular(let what):
            return Diagnostic(
                .fileUnwritable, "\(path.value) is \(what), not a regular file; \(outcome)", at: path.range,
                help: "Rolo writes only regular files and never follows a link: give the file's own path, or another name")
        case .protected:
            return Diagnostic(
                .fileUnwritable, "\(path.value) is the open database or a file it keeps beside it; \(outcome)", at: path.range,
                help: "choose another name, e.g. \"\(example)\"")
        case .noFolder(let folder):
            return Diagnostic(.fileUnwritable, "there is no folder \(folder) to write \(path.value) in; \(outcome)", at: path.range)
        case .cannotWrite(let reason):
            return Diagnostic(.fileUnwritable, "cannot write \(path.value): \(reason); \(outcome)", at: path.range)
        }
    }
}

extension Engine {
    /// The files no command may write: the open database, the files SQLite keeps beside it and
    /// the audit spool.
    var protectedFiles: OutputFile.Protected { Self.protectedFiles(of: store.path) }

    /// The same files for the database at `path` (a sandbox's fresh checkpoint is written before
    /// any session opens it).
    static func protectedFiles(of path: String) -> OutputFile.Protected {
        guard path != ":memory:" else { return .none }
        var paths = [path] + CRMStore.companionSuffixes.map { path + $0 }
        if let spool = AuditSpool(databasePath: path).path { paths.append(spool) }
        return OutputFile.Protected(paths: paths)
    }
}
