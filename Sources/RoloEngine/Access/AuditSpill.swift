import Foundation

/// Audit entries of a long transaction that are already in the log, kept for a rollback.
///
/// A rollback takes the transaction's inserted entries out of the log again, and they are then
/// written as `rolled_back`; so they must be kept somewhere until the transaction ends. The first
/// few thousand stay in memory; later ones go, as JSON lines, to a temporary file that is
/// unlinked as soon as it is made (mode 0600: nobody else can open it, and it vanishes with the
/// process), so a million-statement script does not hold a million entries. Read back in
/// batches, in order, only when the transaction rolls back.
final class AuditSpill {
    private var descriptor: Int32 = -1
    private(set) var count = 0
    private let encoder = JSONEncoder()

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Appends `entries`; false (nothing kept) when no temporary file can be made or written,
    /// and the caller keeps them in memory instead.
    func append(_ entries: ArraySlice<AuditEntry>) -> Bool {
        if descriptor < 0 {
            var template = Array((NSTemporaryDirectory() + "/rolo-audit-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { return false }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            descriptor = fd
        }
        var data = Data()
        for entry in entries {
            guard let line = try? encoder.encode(entry) else { return false }
            data.append(line)
            data.append(UInt8(ascii: "\n"))
        }
        let written = data.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let n = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        if written { count += entries.count }
        return written
    }

    /// Calls `body` with the kept entries, in order, `batch` at a time; then forgets them.
    func drain(batch: Int, _ body: ([AuditEntry]) -> Void) {
        defer { reset() }
        guard descriptor >= 0, count > 0, lseek(descriptor, 0, SEEK_SET) == 0 else { return }
        let decoder = JSONDecoder()
        var pending = Data()
        var entries: [AuditEntry] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            pending.append(contentsOf: buffer[0..<n])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                if let entry = try? decoder.decode(AuditEntry.self, from: pending[pending.startIndex..<newline]) {
                    entries.append(entry)
                }
                pending.removeSubrange(pending.startIndex...newline)
                if entries.count == batch {
                    body(entries)
                    entries = []
                }
            }
        }
        if !entries.isEmpty { body(entries) }
    }

    /// Forgets the kept entries (after a commit, or once drained).
    func reset() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        count = 0
    }
}
