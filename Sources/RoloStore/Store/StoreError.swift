import RoloSyntax

/// Errors from opening or migrating a database, worded for the person at the keyboard.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case folderMissing(path: String, folder: String)
    case fileMissing(path: String)
    case notARoloDatabase(path: String, reason: String)
    case newerSchema(path: String, found: Int, supported: Int)
    case alreadyExists(path: String)
    case readOnly(path: String)
    case locked(path: String)
    case sqlite(String)

    public var description: String {
        switch self {
        case .folderMissing(let path, let folder):
            return "cannot open database '\(path)': the folder '\(folder)' does not exist"
        case .fileMissing(let path):
            return
                "no database at '\(path)': create a sample one with `rolo demo \(path)` or an empty one with `rolo init \(path) --admin HANDLE`"
        case .notARoloDatabase(let path, let reason):
            return "'\(path)' is not a Rolo database (\(reason)); it was left untouched"
        case .newerSchema(let path, let found, let supported):
            return
                "'\(path)' was written by a newer Rolo (schema version \(found); this build understands up to \(supported)); upgrade Rolo to open it"
        case .alreadyExists(let path):
            return "'\(path)' already exists; choose another file or remove it first"
        case .readOnly(let path):
            return
                "cannot open '\(path)': the file is read-only, and Rolo writes to every database it opens (each command's audit entry, and schema upgrades); get write access to it, or work on a copy"
        case .locked(let path):
            return
                "cannot open '\(path)': another program is writing to it (Rolo waited \(Int(CRMStore.defaultBusyTimeout)) seconds); try again when it has finished — a `begin` left open in another rolo session holds the file until commit or rollback"
        case .sqlite(let message):
            return message
        }
    }
}

extension StoreError {
    /// E602 for a file or folder that is not there (the command line named the wrong one), E601 for
    /// the rest.
    public var code: DiagnosticCode {
        switch self {
        case .folderMissing, .fileMissing: return .fileNotFound
        default: return .databaseUnavailable
        }
    }
}

/// The codes this module raises: opening and writing databases.
extension DiagnosticCode {
    public static let databaseUnavailable = DiagnosticCode("E601")
    public static let fileNotFound = DiagnosticCode("E602")

    /// The codes this module raises.
    public static let store: [DiagnosticCode] = [.databaseUnavailable, .fileNotFound]
}
