import RoloSyntax

/// The codes the engine raises: binding names and values, permissions, changes, undo and the audit
/// chain (docs/errors.md).
extension DiagnosticCode {
    // Names
    public static let unknownEntity = DiagnosticCode("E201")
    public static let unknownField = DiagnosticCode("E202")
    public static let unknownRelation = DiagnosticCode("E203")
    public static let unknownRecord = DiagnosticCode("E204")
    public static let unknownUser = DiagnosticCode("E205")
    public static let unknownRole = DiagnosticCode("E206")
    public static let unknownTeam = DiagnosticCode("E207")
    public static let unknownValue = DiagnosticCode("E208")
    public static let unknownFunction = DiagnosticCode("E209")
    public static let unknownParameter = DiagnosticCode("E210")
    /// A script's `param` with no value given and no default.
    public static let missingParameter = DiagnosticCode("E211")
    // Values and types (E308, past the limits, is the language's)
    public static let typeMismatch = DiagnosticCode("E301")
    public static let invalidComparison = DiagnosticCode("E302")
    public static let invalidAggregate = DiagnosticCode("E303")
    public static let invalidValue = DiagnosticCode("E304")
    public static let requiredField = DiagnosticCode("E305")
    public static let readOnlyField = DiagnosticCode("E306")
    public static let divisionByZero = DiagnosticCode("E307")
    public static let textTooLong = DiagnosticCode("E309")
    // Permissions
    public static let permissionDenied = DiagnosticCode("E401")
    public static let escalation = DiagnosticCode("E402")
    // Execution and data
    public static let constraintViolated = DiagnosticCode("E501")
    public static let noTransaction = DiagnosticCode("E502")
    public static let transactionOpen = DiagnosticCode("E503")
    public static let nothingToUndo = DiagnosticCode("E504")
    public static let undoConflict = DiagnosticCode("E505")
    public static let alreadyUndone = DiagnosticCode("E506")
    public static let invalidMerge = DiagnosticCode("E507")
    public static let assertionFailed = DiagnosticCode("E508")
    public static let interrupted = DiagnosticCode("E509")
    public static let auditBroken = DiagnosticCode("E510")
    /// A script, `-c` or standard input ended inside a `begin` that nothing committed.
    public static let transactionLeftOpen = DiagnosticCode("E511")
    public static let queryTooLarge = DiagnosticCode("E512")
    /// A keyed audit log, and a session without the key: it may read, not write.
    public static let auditKeyRequired = DiagnosticCode("E513")
    /// A script file including itself, directly or through others.
    public static let includeLoop = DiagnosticCode("E514")
    // Sandboxes
    /// `checkpoint`, `checkpoints` or `reset` on a database that is not a sandbox.
    public static let notSandbox = DiagnosticCode("E515")
    /// A checkpoint that cannot be: a bad or reserved name, none of that name, or one a reset
    /// cannot use (not of this sandbox, another schema, no such acting user in it).
    public static let badCheckpoint = DiagnosticCode("E516")
    // Training (Training/): a lesson's `expect` that cannot be checked, `record` while recording,
    // `stop` with nothing recording, a lesson file whose steps are not in order
    public static let uncheckableExpect = DiagnosticCode("E517")
    public static let alreadyRecording = DiagnosticCode("E518")
    public static let notRecording = DiagnosticCode("E519")
    public static let malformedLesson = DiagnosticCode("E523")
    // Validation rules (E520–E522)
    public static let ruleBroken = DiagnosticCode("E520")
    public static let invalidRule = DiagnosticCode("E521")
    public static let unknownRule = DiagnosticCode("E522")
    // Files: the audit key file (and, in the launcher, a script) that cannot be read
    public static let fileUnreadable = DiagnosticCode("E603")
    // Files an export writes: one that exists (without --force), one that cannot be written
    public static let fileExists = DiagnosticCode("E608")
    public static let fileUnwritable = DiagnosticCode("E609")
    // Files an import reads: malformed CSV (empty, header only, an unclosed quote, not UTF-8, a row
    // with the wrong number of columns), a column that matches no field, a row repeating another's key
    public static let importFileMalformed = DiagnosticCode("E610")
    public static let unmappedColumn = DiagnosticCode("E611")
    public static let duplicateRow = DiagnosticCode("E612")
    /// A plan file `apply` will not use: edited or damaged (its SHA-256), made on another database,
    /// with another schema, or its script changed since.
    public static let planRefused = DiagnosticCode("E613")
    /// Records a plan would change were changed since it was made (`apply` lists them).
    public static let planDrifted = DiagnosticCode("E614")
    // Usage
    public static let usage = DiagnosticCode("E701")

    /// The codes this module raises.
    public static let engine: [DiagnosticCode] = [
        .unknownEntity, .unknownField, .unknownRelation, .unknownRecord, .unknownUser, .unknownRole, .unknownTeam,
        .unknownValue, .unknownFunction, .unknownParameter, .missingParameter, .typeMismatch, .invalidComparison, .invalidAggregate,
        .invalidValue, .requiredField, .readOnlyField, .divisionByZero, .textTooLong, .permissionDenied, .escalation,
        .constraintViolated, .noTransaction, .transactionOpen, .nothingToUndo, .undoConflict, .alreadyUndone,
        .invalidMerge, .assertionFailed, .interrupted, .auditBroken, .transactionLeftOpen, .queryTooLarge, .auditKeyRequired, .includeLoop, .notSandbox, .badCheckpoint,
        .uncheckableExpect, .alreadyRecording, .notRecording, .malformedLesson, .ruleBroken, .invalidRule, .unknownRule,
        .fileUnreadable, .fileExists, .fileUnwritable, .importFileMalformed, .unmappedColumn, .duplicateRow, .planRefused, .planDrifted, .usage,
    ]
}
