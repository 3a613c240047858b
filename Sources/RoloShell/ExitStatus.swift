/// Exit statuses of `rolo`, documented in docs/language.md. Which error gives which status is
/// `ErrorPresenter`'s table, and nowhere else.
///
/// A struct rather than an enum: `--exit-code` on `apply` ends with 2 when it applied changes
/// (terraform's detailed exit code), the number a usage error also ends with.
public struct ExitStatus: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let success = ExitStatus(rawValue: 0)
    /// A command failed: bad input, unknown name, failed assertion, database error.
    public static let failure = ExitStatus(rawValue: 1)
    /// The command line itself was wrong (unknown flag, missing file, no database or user given).
    public static let usage = ExitStatus(rawValue: 2)
    /// The acting user was refused.
    public static let refused = ExitStatus(rawValue: 3)
    /// `--exit-code`: a dry-run found changes.
    public static let dryRunChanges = ExitStatus(rawValue: 4)
    /// `apply … --exit-code`: the plan's changes were applied.
    public static let applied = ExitStatus(rawValue: 2)
}
