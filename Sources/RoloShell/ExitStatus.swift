/// Exit statuses of `rolo`, documented in docs/language.md. Which error gives which status is
/// `ErrorPresenter`'s table, and nowhere else.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// A command failed: bad input, unknown name, failed assertion, database error.
    case failure = 1
    /// The command line itself was wrong (unknown flag, missing file, no database or user given).
    case usage = 2
    /// The acting user was refused.
    case refused = 3
    /// `--exit-code`: a dry-run found changes.
    case dryRunChanges = 4
}
