import RoloSyntax

/// Exit statuses of `rolo -c` and scripts, documented in docs/language.md.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// A command failed: bad input, unknown name, failed assertion, database error.
    case failure = 1
    /// The command line itself was wrong (unknown flag, missing file).
    case usage = 2
    /// The acting user was refused.
    case refused = 3
    /// `--exit-code`: a dry-run found changes.
    case dryRunChanges = 4

    /// The status for an error, in one place.
    public static func of(_ diagnostic: Diagnostic) -> ExitStatus {
        switch diagnostic.code {
        case .permissionDenied, .escalation: return .refused
        case .usage, .fileNotFound, .fileUnreadable: return .usage
        default: return .failure
        }
    }
}
