import Foundation
import RoloStore
import RoloSyntax

/// `export`: records to a file, streamed, written whole or not at all.
///
///     export := 'export' entity [ path { ',' path } ] { 'where' condition | 'order' 'by' order { ',' order }
///               | 'limit' NUMBER [ 'offset' NUMBER ] } 'to' (STRING | PATH)
///               [ --force ] [ --raw ] [ --bom ]
///
/// The format follows the file's extension: `.csv`, `.json` (an array) or `.jsonl` (one object
/// per line). Like `find … as csv`, it needs the export right and leaves hidden fields hidden;
/// rows are limited to the export right's scope. CSV text cells that a spreadsheet would run as a
/// formula get a leading apostrophe unless `--raw`; `--bom` starts a CSV file with a UTF-8 byte
/// order mark for spreadsheet programs that need it. An existing file is refused unless `--force`.
struct ExportCommand: Command {
    var query: FindQuery
    var path: Located<String>

    static let name = "export"
    static let forms = [
        form("export") { parser, _ throws(Diagnostic) in
            let query = try parser.parseFindQuery(stopWords: ["to"])
            if query.format != nil {
                throw Diagnostic(
                    .usage, "export takes its format from the file's name", at: query.format?.range,
                    help: "export \(query.entity.value) to \"\(query.entity.value).csv\" (or .json, .jsonl)")
            }
            guard parser.acceptWord("to") else {
                throw parser.failure(expected: "'to' and a file, e.g. export contacts to \"contacts.csv\"")
            }
            return ExportCommand(query: query, path: try parser.parseFilePath())
        }
    ]
    static let synopsis =
        "export ENTITY [FIELD, …] [where CONDITION] [order by FIELD, …] [limit N] to FILE.csv|FILE.json|FILE.jsonl [--force] [--raw] [--bom]"
    static let summary =
        "Write records to a file (CSV, JSON or JSON lines), whole or not at all; refuses to overwrite without --force."
    static let examples = [
        #"export contacts first_name, last_name, email where account.name = "Acme" to "/tmp/rolo-example-acme.csv" --force"#
    ]
    static let actions: [PermissionAction] = [.export]
    static let arguments: [ArgumentHint] = [.entities(singular: false)]

    enum FileFormat: String { case csv, json, jsonl }

    func run(_ context: CommandContext) throws -> CommandResult {
        let (engine, statement, output) = (context.engine, context.statement, context.output)
        let fileName = URL(fileURLWithPath: path.value).lastPathComponent
        guard let format = FileFormat(rawValue: URL(fileURLWithPath: path.value).pathExtension.lowercased()) else {
            throw Diagnostic(
                .usage, "export writes .csv, .json or .jsonl files, not '\(fileName)'", at: path.range,
                help: "name the file with one of those endings, e.g. \"\(query.entity.value).csv\"")
        }
        let entity = try Catalog.entity(query.entity)
        _ = try engine.access.require(.export, entity, at: query.entity.range)
        if entity === CRMSchema.auditLog { try engine.writeTransactionAudit() }
        let overwrite = statement.hasOption("force")
        let file: OutputFile
        do {
            file = try OutputFile(path: path.value, kind: .export, overwrite: overwrite, protected: engine.protectedFiles)
        } catch {
            throw diagnostic(error)
        }
        let count: Int
        do {
            if format == .csv, statement.hasOption("bom") { file.write("\u{FEFF}") }
            var writer: any ResultWriter
            switch format {
            case .csv: writer = CSVWriter(output: file, neutralizesFormulas: !statement.hasOption("raw"))
            case .json: writer = JSONWriter(output: file)
            case .jsonl: writer = JSONLinesWriter(output: file)
            }
            count = try engine.store.inDatabase { db in
                let runner = FindRunner(engine: engine, db: db)
                let compiled = try runner.compile(query, extra: engine.access.exportFilter(entity))
                return try stream(compiled, into: &writer, db: db)
            }
            try file.commit(overwrite: overwrite)
        } catch let error as OutputFileError {
            throw diagnostic(error)
        } catch {
            file.abandon()
            throw error
        }
        let noun = count == 1 ? entity.singular : entity.name
        output.line("exported \(count.formatted()) \(noun) to \(path.value) (\(Self.size(file.bytesWritten)))")
        var result = CommandResult()
        result.rows = count
        return result
    }

    private func diagnostic(_ error: OutputFileError) -> Diagnostic {
        error.diagnostic(path, outcome: "nothing was written", example: "\(query.entity.value).csv")
    }

    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        if bytes < 1024 * 1024 { return "\((bytes + 512) / 1024) KB" }
        return String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}

extension Parser {
    /// A file name: a string, or the words and symbols up to the end of the command
    /// (`contacts.csv`, `exports/acme.csv`).
    mutating func parseFilePath() throws(Diagnostic) -> Located<String> {
        if case .string(let s) = current.kind { return Located(s, advance().range) }
        guard !atStatementEnd else { throw failure(expected: "a file name, e.g. \"contacts.csv\"") }
        let first = advance().range
        var last = first
        while !atStatementEnd { last = advance().range }
        let range = first.union(last)
        return Located(text(of: range), range)
    }
}
