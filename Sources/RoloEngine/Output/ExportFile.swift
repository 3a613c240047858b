import Foundation
import RoloSyntax

/// An export's file, written whole or not at all: rows go to a temporary file beside the target,
/// which takes the target's name only when every row is written and synced. A failure, Ctrl-C or
/// a crash leaves no half file under the target's name.
final class ExportFile: OutputSink {
    let path: String
    let temporaryPath: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0
    /// The first write error (a full disk), reported when the export ends.
    private var failure: Int32? = nil

    let isTerminal = false
    let colors = false

    /// Creates the temporary file; refuses an existing target unless `overwrite`.
    init(path: String, overwrite: Bool) throws(ExportFileError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .noFolder(directory)
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw .isFolder }
            if !overwrite { throw .exists }
        }
        temporaryPath = directory + "/." + url.lastPathComponent + ".rolo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotWrite(String(cString: strerror(errno))) }
        buffer.reserveCapacity(1 << 16)
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
    func commit(overwrite: Bool) throws(ExportFileError) {
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

enum ExportFileError: Error {
    case noFolder(String)
    case isFolder
    case exists
    case cannotWrite(String)
}

extension ExportFileError {
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
        case .noFolder(let folder):
            return Diagnostic(.fileUnwritable, "there is no folder \(folder) to write \(path.value) in; \(outcome)", at: path.range)
        case .cannotWrite(let reason):
            return Diagnostic(.fileUnwritable, "cannot write \(path.value): \(reason); \(outcome)", at: path.range)
        }
    }
}
