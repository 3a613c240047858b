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

    public init(
        _ code: DiagnosticCode, _ message: String, at range: SourceRange? = nil, help: String? = nil,
        unfinished: Bool = false
    ) {
        self.code = code
        self.message = message
        self.range = range
        self.help = help
        self.isUnfinished = unfinished
    }
}

/// Stable error codes, grouped by hundreds: 1xx syntax, 2xx names, 3xx values and types,
/// 4xx permissions, 5xx execution and data, 6xx files and databases, 7xx shell usage.
public enum DiagnosticCode: String, Sendable, CaseIterable {
    // Syntax
    case unterminatedString = "E101"
    case unexpectedCharacter = "E102"
    case unexpectedToken = "E103"
    case unexpectedEnd = "E104"
    case unclosedParenthesis = "E105"
    case invalidNumber = "E106"
    case invalidDate = "E107"
    case unknownCommand = "E108"
    case unknownOption = "E109"
    case unknownEscape = "E110"
    case nulCharacter = "E111"
    case nestingTooDeep = "E112"
    // Names
    case unknownEntity = "E201"
    case unknownField = "E202"
    case unknownRelation = "E203"
    case unknownRecord = "E204"
    case unknownUser = "E205"
    case unknownRole = "E206"
    case unknownTeam = "E207"
    case unknownValue = "E208"
    case unknownFunction = "E209"
    case unknownParameter = "E210"
    // Values and types
    case typeMismatch = "E301"
    case invalidComparison = "E302"
    case invalidAggregate = "E303"
    case invalidValue = "E304"
    case requiredField = "E305"
    case readOnlyField = "E306"
    case divisionByZero = "E307"
    case valueOutOfRange = "E308"
    case textTooLong = "E309"
    // Permissions
    case permissionDenied = "E401"
    case escalation = "E402"
    // Execution and data
    case constraintViolated = "E501"
    case noTransaction = "E502"
    case transactionOpen = "E503"
    case nothingToUndo = "E504"
    case undoConflict = "E505"
    case alreadyUndone = "E506"
    case invalidMerge = "E507"
    case assertionFailed = "E508"
    case interrupted = "E509"
    case auditBroken = "E510"
    case transactionLeftOpen = "E511"
    // Files and databases
    case databaseUnavailable = "E601"
    case fileNotFound = "E602"
    case fileUnreadable = "E603"
    case fileExists = "E608"
    case fileUnwritable = "E609"
    // Shell usage
    case usage = "E701"
}
