import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// `import`: records from a CSV file, each row validated as `create` and `update` validate it,
/// written as one change set (undone as one), audited with the file's name, counts and SHA-256.
///
///     import := 'import' entity 'from' (STRING | PATH) { 'map' STRING '=' field { ',' STRING '=' field }
///               | 'key' field | 'on' 'duplicate' ('skip' | 'update' | 'error') | 'create' 'missing' entity
///               | 'separator' (STRING | 'comma' | 'semicolon' | 'tab') | 'dates' ('dmy' | 'mdy') }
///               [ --dry-run ] [ --skip-bad FILE [ --force ] ] [ --quiet ]
///
/// Headers map to fields by name (case, spaces and underscores aside) and common synonyms;
/// `map "Header" = field` overrides, `map "Header" = skip` leaves a column out. With `key FIELD`
/// rows matching a record update it (only the fields in the file, empty cells left alone) and the
/// others are created; `on duplicate` decides what a match does. All or nothing, unless
/// `--skip-bad FILE`, which imports the good rows and writes the others to FILE with an `error` column.
struct ImportCommand: Command {
    struct Mapping: Equatable {
        var header: Located<String>
        var field: Located<String>
    }

    enum Duplicates: String { case skip, update, error }

    var entity: EntityName
    var path: Located<String>
    var mappings: [Mapping] = []
    var key: Located<String>? = nil
    var onDuplicate: Located<String>? = nil
    var createMissing: EntityName? = nil
    var separator: Located<String>? = nil
    var dates: Located<String>? = nil

    static let clauseWords: Set<String> = ["map", "key", "on", "create", "separator", "dates"]

    static let name = "import"
    static let forms = [
        form("import") { parser, _ throws(Diagnostic) in
            let entity = try parser.parseEntity()
            guard parser.acceptWord("from") else {
                throw parser.failure(expected: "'from' and a file, e.g. import \(entity.value) from \"\(entity.value).csv\"")
            }
            var command = ImportCommand(entity: entity, path: try parser.parseImportPath(stopWords: clauseWords))
            while !parser.atStatementEnd {
                if parser.acceptWord("map") {
                    repeat {
                        guard case .string(let header) = parser.current.kind else {
                            throw parser.failure(expected: "a column's header in quotes, e.g. map \"E-mail\" = email")
                        }
                        let headerRange = parser.advance().range
                        guard parser.acceptSymbol(.equal) else { throw parser.failure(expected: "'=' and a field") }
                        command.mappings.append(Mapping(header: Located(header, headerRange), field: try parser.parseName("a field")))
                    } while parser.acceptSymbol(.comma)
                } else if parser.acceptWord("key") {
                    command.key = try parser.parseName("the field that matches records, e.g. key email")
                } else if parser.acceptWord("on") {
                    guard parser.acceptWord("duplicate") else { throw parser.failure(expected: "'duplicate'") }
                    let word = try parser.parseName("skip, update or error")
                    guard Duplicates(rawValue: word.value) != nil else {
                        throw Diagnostic(.unexpectedToken, "on duplicate takes skip, update or error", at: word.range)
                    }
                    command.onDuplicate = word
                } else if parser.acceptWord("create") {
                    guard parser.acceptWord("missing") else {
                        throw parser.failure(expected: "'missing' and an entity, e.g. create missing accounts")
                    }
                    command.createMissing = try parser.parseEntity()
                } else if parser.acceptWord("separator") {
                    if case .string(let text) = parser.current.kind {
                        command.separator = Located(text, parser.advance().range)
                    } else {
                        command.separator = try parser.parseName("a separator: comma, semicolon, tab or \";\"")
                    }
                } else if parser.acceptWord("dates") {
                    let word = try parser.parseName("dmy or mdy")
                    guard CellConverter.DateOrder(rawValue: word.value) != nil else {
                        throw Diagnostic(.unexpectedToken, "dates takes dmy (day first) or mdy (month first)", at: word.range)
                    }
                    command.dates = word
                } else {
                    throw parser.failure(expected: "map, key, on duplicate, create missing, separator or dates")
                }
            }
            return command
        }
    ]
    static let synopsis =
        "import ENTITY from FILE.csv [map \"Header\" = field, …] [key FIELD] [on duplicate skip|update|error] [create missing accounts] [separator \";\"] [dates dmy|mdy] [--dry-run] [--skip-bad REJECTS.csv]"
    static let summary =
        "Add or update records from a CSV file, all or nothing (or the good rows with --skip-bad), as one change set."
    static let examples = [
        #"export leads first_name, last_name, email, company where status = qualified to "/tmp/rolo-example-import.csv" --force"#,
        #"import contacts from "/tmp/rolo-example-import.csv" key email --dry-run"#,
    ]
    static let actions: [PermissionAction] = [.import, .create, .update, .assign, .setAuditFields]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        var note: String? = nil
        var rejects: (file: OutputFile, path: Located<String>, overwrite: Bool)? = nil
        var records = 0
        var result: CommandResult
        do {
            result = try context.engine.performChange(context.statement, output: context.output) { db, recorder in
                var job = try ImportJob(command: self, engine: context.engine, db: db, recorder: recorder, statement: context.statement)
                let outcome = try job.run(output: context.output)
                note = job.auditNote
                rejects = job.pendingRejects
                records = outcome.records
                return outcome
            }
        } catch {
            rejects?.file.abandon()
            throw error
        }
        // The rejected rows take their file's name only once every check has passed, just before
        // the change's transaction commits (a declined confirmation or a refusal keeps nothing,
        // and leaves no rejects file either); if the file cannot take its name, the command
        // fails and its transaction is rolled back.
        if let rejects {
            guard result.changeSetID != nil || records == 0 else {
                rejects.file.abandon()
                return result
            }
            do {
                try rejects.file.commit(overwrite: rejects.overwrite)
            } catch {
                throw error.diagnostic(
                    rejects.path, outcome: "nothing was imported", example: "rejects.csv")
            }
        }
        result.auditNote = note
        return result
    }
}

extension Parser {
    /// An import's file: a string, or the words and symbols up to a clause word that stands apart
    /// (`contacts.csv key email`; `data/map.csv` keeps its `map`).
    mutating func parseImportPath(stopWords: Set<String>) throws(Diagnostic) -> Located<String> {
        if case .string(let s) = current.kind { return Located(s, advance().range) }
        guard !atStatementEnd, !(current.word.map(stopWords.contains) ?? false) else {
            throw failure(expected: "a file name, e.g. \"contacts.csv\"")
        }
        let first = advance().range
        var last = first
        while !atStatementEnd {
            let adjacent = current.range.start.offset == last.end.offset
            if !adjacent, let word = current.word, stopWords.contains(word) { break }
            last = advance().range
        }
        let range = first.union(last)
        return Located(text(of: range), range)
    }
}
