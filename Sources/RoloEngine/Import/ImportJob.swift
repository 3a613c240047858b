import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// One import, run inside `performChange`: reads the file once, converts and validates each row
/// in Swift with converters built once per column, stages the good rows in a temporary table with
/// one prepared statement, then matches, creates and updates set-based — an `INSERT … SELECT` for
/// the new records and an `UPDATE … FROM` for the matched ones, with their field history written
/// from the same tables exactly as `create` and `update` write it — so undo and `history` work
/// unchanged and a million rows are a few statements, not a million.
struct ImportJob {
    let command: ImportCommand
    let engine: Engine
    let db: Database
    let recorder: ChangeRecorder
    let statement: ParsedStatement
    let entity: EntityDefinition
    let dryRun: Bool
    /// `--skip-bad FILE`: where rejected rows go.
    let rejectsPath: Located<String>?
    /// What the audit entry says of the import (file, counts, digest).
    private(set) var auditNote: String? = nil
    /// The rejects file, written but not yet in place: `ImportCommand` puts it there once the
    /// import is kept, and drops it otherwise (a refusal after the rows, a declined confirmation).
    private(set) var pendingRejects: (file: OutputFile, path: Located<String>, overwrite: Bool)? = nil

    static let staging = "rolo_import"
    /// The fields an update may change, one row each (`ord`, `name`), for its history.
    static let fieldList = "rolo_import_fields"
    /// The staging table's key (the row's line in the file) and the record a row matched.
    static let lineColumn = "line"
    static let targetColumn = "target"

    var file: String { command.path.value }
    var duplicates: ImportCommand.Duplicates
    var problems = ProblemLog()
    /// Each field's column header, for problems (`header(of:)`).
    var headers: [String: String] = [:]

    init(command: ImportCommand, engine: Engine, db: Database, recorder: ChangeRecorder, statement: ParsedStatement) throws {
        self.command = command
        self.engine = engine
        self.db = db
        self.recorder = recorder
        self.statement = statement
        self.entity = try Catalog.entity(command.entity)
        self.dryRun = engine.isDryRun(statement)
        self.rejectsPath = statement.option("skip-bad")?.value
        self.duplicates = command.onDuplicate.flatMap { ImportCommand.Duplicates(rawValue: $0.value) } ?? .update
        self.problems.collecting = dryRun || rejectsPath != nil
    }

    // MARK: - Run

    mutating func run(output: OutputSink) throws -> ChangeOutcome {
        try ChangeCommands(engine: engine, db: db, recorder: recorder).requireWritable(entity, at: command.entity.range)
        _ = try engine.access.require(.import, entity, at: command.entity.range)
        if let rejectsPath {
            // Before any row is read: the rejects file is written last, and may not be written at all.
            do {
                try OutputFile.check(
                    path: rejectsPath.value, kind: .rejects, overwrite: statement.hasOption("force"), protected: engine.protectedFiles)
            } catch {
                throw error.diagnostic(rejectsPath, outcome: "nothing was imported", example: "rejects.csv")
            }
        }
        let reader = try openReader()
        guard let headerRecord = try read(reader) else {
            throw diagnostic(
                .importFileMalformed, "\(file) is empty; nothing was imported",
                help: "the first line names the columns, e.g. first_name,last_name,email")
        }
        if let field = headerRecord.nulField {
            throw diagnostic(
                .nulCharacter, "\(file):1: the header's column \(field + 1) holds a NUL character (\\0); nothing was imported",
                help: "NUL characters are never stored: save the file again as CSV UTF-8")
        }
        let header = headerRecord.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let (columns, ignored) = try plan(header: header)
        let fields = columns.map(\.field)
        for column in columns { headers[column.field.name] = column.header }
        let keyField = try keyField(columns)
        let rights = try checkRights(columns, keyField: keyField)

        try db.execute(SchemaSQL.dropTemporaryTable(Self.staging))
        try db.execute(
            SchemaSQL.createTemporaryTable(Self.staging, key: Self.lineColumn, columns: [Self.targetColumn] + fields.map(\.name)))
        let insert = DirectStatement(
            statement: try db.makeStatement(
                sql: Insert.prepared(into: Self.staging, columns: [Self.lineColumn] + fields.map(\.name)).sql))
        var rows = 0
        let trimsSpaces = !statement.hasOption("raw")
        var trimmedCells = 0
        var values = [DatabaseValue](repeating: .null, count: columns.count + 1)
        let keyOffset = keyField.flatMap { key in columns.firstIndex { $0.field === key } }
        var repeatedKeys = RepeatedKeys(foldsCase: keyField?.type.isTextual ?? false)
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? nil
        let meter = engine.session.progressLine.map { ProgressMeter(draw: $0) }
        defer { meter?.finish() }
        rowLoop: while let record = try read(reader) {
            if record.fields.count == 1, record.fields[0].isEmpty, header.count > 1 { continue }  // a blank line
            rows += 1
            if rows & 4095 == 0 {
                if engine.session.interruption.isRequested {
                    throw Diagnostic(
                        .interrupted, "interrupted at row \(record.line) of \(file); nothing was imported", at: command.path.range)
                }
                meter?.update(rows: rows, fraction: size.map { Double(reader.bytesRead) / Double(max($0, 1)) })
            }
            guard record.fields.count == header.count else {
                try problems.add(
                    Problem(
                        line: record.line, column: nil, value: nil, code: .importFileMalformed,
                        reason:
                            "has \(record.fields.count) \(record.fields.count == 1 ? "column" : "columns"); the header has \(header.count)",
                        kindReason: "has more or fewer columns than the header's \(header.count)"),
                    file: file, at: command.path.range)
                continue
            }
            if let field = record.nulField {
                // Every other path refuses NUL (E111): a value cut at it would hide its rest.
                let column = columns.first { $0.index == field }?.header ?? header[field]
                try problems.add(
                    Problem(
                        line: record.line, column: column, value: nil, code: .nulCharacter,
                        reason: "holds a NUL character (\\0), which Rolo never stores"),
                    file: file, at: command.path.range)
                continue
            }
            values[0] = record.line.databaseValue
            for (offset, column) in columns.enumerated() {
                var raw = record.fields[column.index]
                if trimsSpaces, let trimmed = AssignmentBinder.trimmed(raw) {
                    // A leading space in an email cell is the commonest reason a real export's rows
                    // were refused: the spaces go, and the summary counts the cells.
                    raw = trimmed
                    trimmedCells += 1
                }
                let converted: CellValue
                if let reference = column.reference {
                    converted = try resolve(raw, in: reference, column: column, rights: rights)
                } else {
                    converted = column.converter.convert(raw)
                }
                switch converted {
                case .value(let value):
                    values[offset + 1] = value
                case .invalid(let reason, let kind):
                    try problems.add(
                        Problem(
                            line: record.line, column: column.header, value: raw, code: .invalidValue, reason: reason,
                            kindReason: kind),
                        file: file, at: command.path.range)
                    continue rowLoop
                case .outOfRange(let reason):
                    try problems.add(
                        Problem(line: record.line, column: column.header, value: raw, code: .valueOutOfRange, reason: reason),
                        file: file, at: command.path.range)
                    continue rowLoop
                }
            }
            if let keyOffset { repeatedKeys.note(values[keyOffset + 1], line: record.line) }
            do {
                try insert.bind(values)
                _ = try insert.step()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT {
                // Ctrl-C also interrupts SQLite: between two checks of the flag it lands here.
                throw Diagnostic(
                    .interrupted, "interrupted at row \(record.line) of \(file); nothing was imported", at: command.path.range)
            }
        }
        insert.finish()
        meter?.phase("\(rows.formatted()) rows read; matching and writing…")
        guard rows > 0 else {
            throw diagnostic(
                .importFileMalformed, "\(file) has a header but no rows; nothing was imported",
                help: "add rows under the header line")
        }
        let matched = try match(keyField: keyField, candidates: repeatedKeys.candidates)
        try checkNewRows(columns: columns, keyField: keyField)
        let updating = keyField != nil && duplicates == .update && matched > 0
        if updating, let keyField { try checkUpdateScope(rights, keyField: keyField) }
        try dropRejected()
        var skipped = 0
        if keyField != nil, duplicates == .skip {
            skipped = try count(Sql.isNotNull(Sql.name(Self.targetColumn)))
            try db.execute(Delete(from: Self.staging).where(Sql.isNotNull(Sql.name(Self.targetColumn))).sql)
        }
        // Every row left is within the update scope (checkUpdateScope); this is the change path's
        // own check over the records, as every update makes it.
        if updating { try requireUpdateScope(rights) }
        let (created, updated, perField) = try write(columns: columns, keyField: keyField, updating: updating, meter: meter)
        // Matched rows still staged (none rejected since matching): those not updated were unchanged.
        let unchanged = updating ? try count(Sql.compare(Sql.name(Self.targetColumn), .greater, Sql.value(0))) - updated : 0
        try db.execute(SchemaSQL.dropTemporaryTable(Self.staging))

        let digest = reader.digest
        let rejected = problems.rejected
        if let rejectsPath, rejected > 0, !dryRun {
            pendingRejects = try writeRejects(to: rejectsPath, header: headerRecord.fields, separator: reader.separator)
        }
        // The summary, as the dry-run would say it and the real run then does.
        var details = perField.map { "\($0.0) \($0.1)" }
        if unchanged > 0 { details.append("\(unchanged) unchanged") }
        let would = dryRun ? "would " : ""
        var report = [
            "\(would)create \(created), update \(updated)" + (details.isEmpty ? "" : " (" + details.joined(separator: ", ") + ")")
                + ", skip \(skipped), reject \(rejected) of \(rows) \(rows == 1 ? "row" : "rows") in \(file)"
        ]
        if problems.rejected > 0, let first = problems.first, first.reason.hasPrefix("names no account"), command.createMissing == nil {
            report.append("create missing accounts would create the accounts named but not found")
        }
        for (name, table) in columnsCreatingMissing(columns) where table.created > 0 {
            report.append(
                "\(would)create \(table.created) \(table.created == 1 ? table.entity.singular : table.entity.name) named in column \"\(name)\""
            )
        }
        if !ignored.isEmpty { report.append("ignored columns: " + ignored.joined(separator: ", ")) }
        if let note = ChangeCommands.trimmedNote(trimmedCells, of: "cell") { report.append(note) }
        report += problems.summary(file: file)
        if rejected > 0, let rejectsPath {
            report.append(
                dryRun
                    ? "rejected rows would go to \(rejectsPath.value)"
                    : "rejected rows written to \(rejectsPath.value) with an error column")
        }
        auditNote =
            "\(file): \(rows) rows, created \(created), updated \(updated), skipped \(skipped), rejected \(rejected); sha256 \(digest)"
        if rejected > 0, rejectsPath == nil, let first = problems.first {
            // A dry-run without --skip-bad: the real import would fail at the first bad row, so it
            // would import nothing; the counts of a run with --skip-bad are not what it would do.
            let good = rows - rejected
            report[0] =
                "dry-run: \(rejected.formatted()) \(rejected == 1 ? "row has" : "rows have") problems; a run would import nothing"
                + (good > 0 ? " (use --skip-bad FILE to import the \(good.formatted()) good \(good == 1 ? "row" : "rows"))" : "")
            for line in report { output.line(line) }
            throw first.diagnostic(file: file, at: command.path.range, more: rejected - 1, listed: true)
        }
        var outcome = ChangeOutcome(records: created + updated, verb: .imported, entity: entity)
        outcome.report = report
        if created + updated == 0 {
            outcome.nothingNote = report
        }
        return outcome
    }

    func columnsCreatingMissing(_ columns: [Column]) -> [(String, ReferenceTable)] {
        columns.compactMap { column in column.reference.flatMap { $0.createsMissing ? (column.header, $0) : nil } }
    }

    func openReader() throws -> CSVFileReader {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) else {
            throw diagnostic(.fileUnreadable, "there is no file \(file); nothing was imported")
        }
        if isFolder.boolValue { throw diagnostic(.fileUnreadable, "\(file) is a folder, not a CSV file; nothing was imported") }
        var separator: UInt8? = nil
        if let given = command.separator {
            switch given.value {
            case ",", "comma": separator = CSVFileReader.comma
            case ";", "semicolon": separator = CSVFileReader.semicolon
            case "\t", "tab": separator = CSVFileReader.tab
            default:
                throw Diagnostic(.invalidValue, "the separator is a comma, a semicolon or a tab", at: given.range, help: "separator \";\"")
            }
        }
        do {
            return try CSVFileReader(path: file, separator: separator)
        } catch let failure as CSVFileReader.Failure {
            throw describe(failure)
        }
    }

    func read(_ reader: CSVFileReader) throws -> CSVFileReader.Record? {
        do {
            return try reader.next()
        } catch let failure as CSVFileReader.Failure {
            throw describe(failure)
        }
    }

    func describe(_ failure: CSVFileReader.Failure) -> Diagnostic {
        switch failure {
        case .unclosedQuote(let line):
            return diagnostic(
                .importFileMalformed, "\(file):\(line): a quoted field is never closed; nothing was imported",
                help: "a quote inside a quoted field is written twice: \"\"")
        case .textAfterQuote(let line):
            return diagnostic(
                .importFileMalformed, "\(file):\(line): text after a closing quote; nothing was imported",
                help: "a quote inside a quoted field is written twice: \"\"")
        case .notUTF8(let line):
            return diagnostic(
                .importFileMalformed, "\(file):\(line): the file is not UTF-8; nothing was imported",
                help: "save it as CSV UTF-8 from the spreadsheet program")
        case .utf16(let encoding):
            return diagnostic(
                .importFileMalformed, "\(file): the file is not UTF-8: it looks like \(encoding); nothing was imported",
                help: "convert it, e.g. iconv -f \(encoding) -t UTF-8 \(file) > utf8.csv, or save it as CSV UTF-8 from the spreadsheet program")
        case .unreadable(let reason):
            return diagnostic(.fileUnreadable, "cannot read \(file): \(reason); nothing was imported")
        case .headerTooLong:
            return diagnostic(
                .importFileMalformed,
                "\(file):1: the header line runs past \(CSVFileReader.maximumHeader / (1 << 20)) MB; nothing was imported",
                help: "the first line names the columns, e.g. first_name,last_name,email: is this the right file?")
        case .notRegular(let what):
            return diagnostic(
                .fileUnreadable, "\(file) is \(what), not a CSV file; nothing was imported",
                help: "import reads regular files only: save the data to a file first")
        }
    }

    /// Ctrl-C between two statements of the writes (SQLite's interrupt stops one that runs).
    func stopIfInterrupted() throws {
        if engine.session.interruption.isRequested {
            throw Diagnostic(.interrupted, "interrupted while writing \(file); nothing was imported", at: command.path.range)
        }
    }
}
