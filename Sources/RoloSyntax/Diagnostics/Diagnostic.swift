/// A problem found in the user's input or while running it: a stable code, a message,
/// the source range it points at, and help.
///
/// Every error a user can see is a `Diagnostic`, so every error can be drawn with a caret
/// and carries a code documented in docs/errors.md.
public struct Diagnostic: Error, Sendable, Equatable {
    public let code: DiagnosticCode
    public let message: String
    /// Where in the statement's source it points; nil for errors about no particular token.
    public let range: SourceRange?
    public let help: String?
    /// The input ended where more was expected: the shell asks for a continuation line.
    public let isUnfinished: Bool
    /// The file the range points into when it is not the text being run: an error inside an
    /// included (or `run`) script file carries that file and its text, so its caret is drawn there.
    public private(set) var origin: Origin?

    /// A script file and its text.
    public struct Origin: Sendable, Equatable {
        public let file: String
        public let source: String

        public init(file: String, source: String) {
            self.file = file
            self.source = source
        }
    }

    public init(
        _ code: DiagnosticCode, _ message: String, at range: SourceRange? = nil, help: String? = nil,
        unfinished: Bool = false
    ) {
        self.code = code
        self.message = message
        self.range = range
        self.help = help
        self.isUnfinished = unfinished
        self.origin = nil
    }

    /// This diagnostic, pointing into `origin` — unless it already points into a file (an error
    /// in a file included from an included file keeps the innermost).
    public func located(in origin: Origin) -> Diagnostic {
        guard self.origin == nil else { return self }
        var copy = self
        copy.origin = origin
        return copy
    }
}

/// A stable error code, `E` and three digits, grouped by hundreds: 1xx syntax, 2xx names, 3xx values
/// and types, 4xx permissions, 5xx execution and data, 6xx files and databases, 7xx usage.
///
/// Codes live with the module that raises them, as static members in an `extension DiagnosticCode`
/// of its own (so `Diagnostic(.permissionDenied, …)` reads the same everywhere): this module declares
/// only the language's — the lexer's, the parser's and its limits. Each module lists its codes
/// (`DiagnosticCode.language` here) so that tests can check they are distinct and documented in
/// docs/errors.md.
public struct DiagnosticCode: Hashable, Sendable, CustomStringConvertible {
    /// `E101`…
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}

extension DiagnosticCode {
    // Syntax
    public static let unterminatedString = DiagnosticCode("E101")
    public static let unexpectedCharacter = DiagnosticCode("E102")
    public static let unexpectedToken = DiagnosticCode("E103")
    public static let unexpectedEnd = DiagnosticCode("E104")
    public static let unclosedParenthesis = DiagnosticCode("E105")
    public static let invalidNumber = DiagnosticCode("E106")
    public static let invalidDate = DiagnosticCode("E107")
    public static let unknownCommand = DiagnosticCode("E108")
    public static let unknownOption = DiagnosticCode("E109")
    public static let unknownEscape = DiagnosticCode("E110")
    public static let nulCharacter = DiagnosticCode("E111")
    public static let nestingTooDeep = DiagnosticCode("E112")
    // Limits of the language's values (the lexer refuses an amount past them)
    public static let valueOutOfRange = DiagnosticCode("E308")

    /// The codes this module raises.
    public static let language: [DiagnosticCode] = [
        .unterminatedString, .unexpectedCharacter, .unexpectedToken, .unexpectedEnd, .unclosedParenthesis, .invalidNumber,
        .invalidDate, .unknownCommand, .unknownOption, .unknownEscape, .nulCharacter, .nestingTooDeep, .valueOutOfRange,
    ]
}
