import RoloEngine
import RoloStore
import RoloSyntax

/// The codes the shell and the `rolo` launcher raise (docs/errors.md).
extension DiagnosticCode {
    /// `rolo demo FILE --fresh` while another rolo process has the file open.
    public static let databaseInUse = DiagnosticCode("E604")
    /// The command line is wrong: an unknown flag, a missing or bad value, a script parameter.
    public static let commandLine = DiagnosticCode("E702")
    /// No `--db` and no `ROLO_DB`.
    public static let noDatabase = DiagnosticCode("E703")
    /// No acting user: none given and none named after the login, or an unknown `--user`/`ROLO_USER`.
    public static let noUser = DiagnosticCode("E704")

    /// The codes this module (and the launcher) raise.
    public static let shell: [DiagnosticCode] = [.databaseInUse, .commandLine, .noDatabase, .noUser]

    /// Every code of every module, for the tests that keep them distinct and documented.
    public static let all: [DiagnosticCode] = language + store + engine + shell
}
