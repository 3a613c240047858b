import RoloEngine
import RoloStore
import RoloSyntax

/// The one place an error becomes text and an exit status: the shell's and scripts' errors, the
/// store's refusals to open a file, the launcher's, `rolo init`'s and `rolo demo`'s, and the command
/// line's.
///
/// Every error is first a `Diagnostic` (a store error keeps its code; anything else — a database
/// error the engine did not translate — is E501), then text in one format: the caret block where
/// there is source text to point into, otherwise `rolo: error[CODE]: message` and its help line.
/// The status comes from the code, through `status(of:)`.
public struct ErrorPresenter: Sendable {
    public var colors: Bool

    public init(colors: Bool = false) {
        self.colors = colors
    }

    /// An error as the person at the keyboard reads it, and the status it ends `rolo` with.
    public struct Presentation: Equatable, Sendable {
        public let text: String
        public let status: ExitStatus

        public init(text: String, status: ExitStatus) {
            self.text = text
            self.status = status
        }
    }

    /// - Parameters:
    ///   - source: the text the error's range points into (a line, or a whole script), if any.
    ///   - file: the script's name, or nil for interactive input, `-c` and the command line.
    public func present(_ error: any Error, source: String? = nil, file: String? = nil) -> Presentation {
        let diagnostic = Self.diagnostic(for: error)
        let text = DiagnosticRenderer(colors: colors).render(diagnostic, source: source, file: file)
        return Presentation(text: text, status: Self.status(of: diagnostic.code))
    }

    /// Any error as a diagnostic.
    public static func diagnostic(for error: any Error) -> Diagnostic {
        switch error {
        case let diagnostic as Diagnostic: return diagnostic
        case let storeError as StoreError: return Diagnostic(storeError.code, storeError.description)
        default: return Diagnostic(.constraintViolated, "\(error)")
        }
    }

    /// The exit status of each code that does not mean a failed command (status 1).
    static let statuses: [DiagnosticCode: ExitStatus] = [
        .permissionDenied: .refused, .escalation: .refused,
        .usage: .usage, .commandLine: .usage, .noDatabase: .usage, .noUser: .usage,
        .fileNotFound: .usage, .fileUnreadable: .usage,
    ]

    /// The status `rolo` ends with after an error with `code`.
    public static func status(of code: DiagnosticCode) -> ExitStatus {
        statuses[code] ?? .failure
    }
}
