import Foundation

/// Reads a database file's 100-byte SQLite header without opening it through SQLite,
/// so a file that is not ours is never touched (no -wal or -shm files, no journal).
struct DatabaseFileCheck {
    enum Verdict: Equatable {
        case absent
        case empty
        case rolo(schemaVersion: Int)
        case foreign(reason: String)
    }

    static func inspect(path: String) -> Verdict {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .absent }
        if isDirectory.boolValue { return .foreign(reason: "it is a folder") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .foreign(reason: "it cannot be read")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        if header.isEmpty { return .empty }
        let magic = Array("SQLite format 3".utf8) + [0]
        guard header.count == 100, Array(header.prefix(16)) == magic else {
            return .foreign(reason: "it is not an SQLite database")
        }
        let bytes = [UInt8](header)
        func bigEndian(at offset: Int) -> Int32 {
            Int32(
                bitPattern: UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
                    | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3]))
        }
        let applicationID = bigEndian(at: 68)
        guard applicationID == CRMSchema.applicationID else {
            return .foreign(reason: "it is an SQLite database of another application")
        }
        return .rolo(schemaVersion: Int(bigEndian(at: 60)))
    }
}
