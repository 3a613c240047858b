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

    // MARK: - Columns

    /// A column of the file that goes into a field.
    struct Column {
        let index: Int
        let header: String
        let field: FieldDefinition
        let converter: CellConverter
        let reference: ReferenceTable?
    }

    /// A related entity's records by natural key (lower-cased), read once: `account` by name, `owner` by handle.
    final class ReferenceTable {
        let entity: EntityDefinition
        var byKey: [String: Int64] = [:]
        var ambiguous: Set<String> = []
        var ids: Set<Int64> = []
        /// `create missing accounts`: unknown names become new records.
        var createsMissing = false
        var created = 0
        /// The entity's validation rules, read at the first record to create.
        var rules: [ValidationRule]? = nil
        /// Names whose record could not be created (lower-cased), and why.
        var refused: [String: String] = [:]
        /// users only: each user's team, for the assign scope.
        var teams: [Int64: Int64] = [:]

        init(_ entity: EntityDefinition) { self.entity = entity }
    }

    func diagnostic(_ code: DiagnosticCode, _ message: String, help: String? = nil) -> Diagnostic {
        Diagnostic(code, message, at: command.path.range, help: help)
    }

    /// Maps the header to columns: by name and synonym, `map` first; refuses unknown and repeated ones.
    func plan(header: [String]) throws -> (columns: [Column], ignored: [String]) {
        var mapped: [String: String] = [:]  // normalized header → field or "skip"
        for mapping in command.mappings {
            guard header.contains(where: { $0 == mapping.header.value }) else {
                let near = Suggestions.nearest(to: mapping.header.value, in: header)
                throw Diagnostic(
                    .unmappedColumn, "\(file) has no column \"\(mapping.header.value)\"", at: mapping.header.range,
                    help: near.map { "did you mean \"\($0)\"?" } ?? "its columns are " + header.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            if mapping.field.value != "skip" {
                guard entity.field(named: mapping.field.value) ?? entity.relation(named: mapping.field.value) != nil else {
                    let near = Suggestions.nearest(to: mapping.field.value, in: Catalog.fieldNames(of: entity))
                    throw Diagnostic(
                        .unknownField, "unknown field '\(mapping.field.value)' on \(entity.name)", at: mapping.field.range,
                        help: near.map { "did you mean '\($0)'?" } ?? "map a column to `skip` to leave it out")
                }
            }
            mapped[mapping.header.value] = mapping.field.value
        }
        let auditFields = engine.access.decide(.setAuditFields, on: entity.name).isAllowed
        var columns: [Column] = []
        var ignored: [String] = []
        var references: [String: ReferenceTable] = [:]
        let order = command.dates.flatMap { CellConverter.DateOrder(rawValue: $0.value) }
        for (index, header) in header.enumerated() {
            let field: FieldDefinition?
            if let name = mapped[header] {
                if name == "skip" { continue }
                field = entity.field(named: name) ?? entity.relation(named: name)
            } else {
                field = HeaderMatching.field(for: header, in: entity)
            }
            guard let field else {
                if header.trimmingCharacters(in: .whitespaces).isEmpty, columns.isEmpty, index == 0 {
                    throw diagnostic(.importFileMalformed, "\(file):1: the header's first column has no name")
                }
                let near = Suggestions.nearest(to: HeaderMatching.normalized(header), in: Catalog.fieldNames(of: entity))
                var help =
                    near.map { "did you mean \($0)? add map \"\(header.clippedForMessage)\" = \($0)" }
                    ?? "add map \"\(header.clippedForMessage)\" = FIELD, or map \"\(header.clippedForMessage)\" = skip"
                if header.contains(";") || header.contains("\t") {
                    let named = header.contains(";") ? "\";\"" : "tab"
                    help = "the file looks separated by \(named == "tab" ? "tabs" : "semicolons"): add separator \(named)"
                }
                throw Diagnostic(
                    .unmappedColumn, "\(file):1: column \"\(header.clippedForMessage)\" matches no field of \(entity.name)", at: command.path.range,
                    help: help)
            }
            if let earlier = columns.first(where: { $0.field === field }) {
                throw diagnostic(
                    .unmappedColumn,
                    "\(file):1: columns \"\(earlier.header.clippedForMessage)\" and \"\(header.clippedForMessage)\" both mean \(field.relationName ?? field.name)",
                    help: "map one of them to skip: map \"\(header.clippedForMessage)\" = skip")
            }
            if field.system {
                // Rolo's own fields: the number only to match by (`key id`), the dates with set_audit_fields.
                let isID = field.name == "id"
                guard isID ? command.key?.value == "id" : (field.name == "created_at" || field.name == "updated_at") && auditFields else {
                    ignored.append(
                        "\"\(header.clippedForMessage)\" "
                            + (isID
                                ? "(record numbers are Rolo's; key id matches by number)"
                                : "(\(field.name) is set by Rolo; keeping it needs set_audit_fields)"))
                    continue
                }
                columns.append(
                    Column(
                        index: index, header: header, field: field, converter: CellConverter(field: field, dateOrder: order),
                        reference: nil))
                continue
            }
            var reference: ReferenceTable? = nil
            if let target = field.referencedEntity, let targetEntity = CRMSchema.entity(named: target) {
                if let known = references[target] {
                    reference = known
                } else {
                    reference = try loadReferences(targetEntity)
                    references[target] = reference
                }
            }
            columns.append(
                Column(
                    index: index, header: header, field: field, converter: CellConverter(field: field, dateOrder: order),
                    reference: reference))
        }
        if let missing = command.createMissing {
            let target = try Catalog.entity(missing)
            guard let table = references[target.name] else {
                throw Diagnostic(
                    .invalidValue, "no column of \(file) names \(target.name), so there are none to create", at: missing.range)
            }
            guard target.naturalKey.count == 1, target.field(named: target.naturalKey[0])?.type == .text,
                target.kind == .domain
            else {
                throw Diagnostic(.invalidValue, "missing \(target.name) cannot be created from a name", at: missing.range)
            }
            // A name and an owner are all a created record gets: an entity needing more (a
            // campaign's channel, a deal's stage) is imported first, on its own.
            let needed = target.fields.filter {
                $0.required && !$0.system && $0.sqlDefault == nil && $0.name != target.naturalKey[0] && $0.name != "owner_id"
            }
            if !needed.isEmpty {
                throw Diagnostic(
                    .invalidValue,
                    "missing \(target.name) cannot be created from a name alone: a new \(target.singular) needs "
                        + needed.map { $0.relationName ?? $0.name }.joined(separator: " and "), at: missing.range,
                    help: "import the \(target.name) first (import \(target.name) from FILE), then this file")
            }
            _ = try engine.access.require(.create, target, at: missing.range)
            table.createsMissing = true
        }
        return (columns, ignored)
    }

    /// Reads the readable records of `target` by natural key (and number).
    func loadReferences(_ target: EntityDefinition) throws -> ReferenceTable {
        let table = ReferenceTable(target)
        let key = target.naturalKey.first
        var columns = [Sql.id("t0")]
        if let key { columns.append(Sql.column("t0", key)) }
        if target.name == "users" { columns.append(Sql.column("t0", "team_id")) }
        let query = Select(columns, from: target.name, as: "t0").where(engine.access.readFilter(target))
        let cursor = try Row.fetchCursor(db, query.sql)
        while let row = try cursor.next() {
            let id: Int64 = try row.decode(atIndex: 0)
            table.ids.insert(id)
            if key != nil, let name: String = try row.decode(atIndex: 1) {
                let folded = name.lowercased()
                if table.byKey.updateValue(id, forKey: folded) != nil { table.ambiguous.insert(folded) }
            }
            if target.name == "users", let team: Int64 = try row.decode(atIndex: 2) { table.teams[id] = team }
        }
        return table
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

    // MARK: - Rights

    struct Rights {
        var updateLevel: GrantedRule.Scope = .all
        var updateRule: GrantedRule? = nil
        /// The assign right's scope, nil when the user has none (then every row must be theirs).
        var assignLevel: GrantedRule.Scope? = nil
    }

    func keyField(_ columns: [Column]) throws -> FieldDefinition? {
        guard let key = command.key else {
            if command.onDuplicate != nil {
                throw Diagnostic(
                    .usage, "on duplicate needs a key: which field matches records", at: command.onDuplicate?.range,
                    help: "add key email (or another field)")
            }
            return nil
        }
        guard let field = entity.field(named: key.value) ?? entity.relation(named: key.value) else {
            let near = Suggestions.nearest(to: key.value, in: Catalog.fieldNames(of: entity))
            throw Diagnostic(
                .unknownField, "unknown field '\(key.value)' on \(entity.name)", at: key.range, help: near.map { "did you mean '\($0)'?" })
        }
        // Matching by a field tells which record holds a value: like a filter, the key is a field
        // the user may read.
        if engine.access.readVisibility(entity).hiddenFields.contains(field.name) {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not read \(entity.name).\(key.value), so it cannot be the key",
                at: key.range, help: "match by a field \(engine.access.actor.handle) may read, e.g. key id")
        }
        guard columns.contains(where: { $0.field === field }) || field.name == "id" && columns.contains(where: { $0.field.name == "id" })
        else {
            throw Diagnostic(
                .unmappedColumn, "no column of \(file) holds \(key.value), the key", at: key.range, help: "map \"Header\" = \(key.value)")
        }
        return columns.first(where: { $0.field.name == field.name })?.field
    }

    func checkRights(_ columns: [Column], keyField: FieldDefinition?) throws -> Rights {
        let commands = ChangeCommands(engine: engine, db: db, recorder: recorder)
        let plain = columns.filter { !ChangeCommands.assignmentFields.contains($0.field.name) && !$0.field.system }
        var rights = Rights()
        if command.key?.value != "id" {
            _ = try commands.allowedScope(.create, entity, fields: plain.map { ($0.field, command.path.range) }, at: command.entity.range)
        }
        if keyField != nil, duplicates == .update {
            let updatable = plain.filter { $0.field !== keyField }
            (rights.updateLevel, rights.updateRule, _) = try commands.allowedScope(
                .update, entity, fields: updatable.map { ($0.field, command.path.range) }, at: command.entity.range)
        }
        let assign = engine.access.decide(.assign, on: entity.name)
        if assign.deniedBy == nil { rights.assignLevel = assign.scope }
        return rights
    }

    /// A related record named in a cell: by natural key, or by number; owners within the assign right.
    func resolve(_ raw: String, in table: ReferenceTable, column: Column, rights: Rights) throws -> CellValue {
        let text = CellConverter.unneutralized(raw).trimmingCharacters(in: .whitespaces)
        // Empty: a new record's owner is the importer (`createRecords`); a matched one keeps its own.
        if text.isEmpty { return .value(.null) }
        let folded = text.lowercased()
        var id = table.byKey[folded]
        if table.ambiguous.contains(folded) {
            return .invalid("names several \(table.entity.name); use the number instead")
        }
        if id == nil, let number = Int64(text), table.ids.contains(number) { id = number }
        if id == nil {
            guard table.createsMissing else {
                let key = table.entity.naturalKey.first ?? "number"
                let readable = engine.access.readFilter(table.entity) == nil ? "" : " that \(engine.access.actor.handle) may read"
                return .invalid("names no \(table.entity.singular)\(readable) (by \(key))")
            }
            if let refusal = table.refused[folded] { return .invalid(refusal) }
            guard let newID = try createMissing(text, in: table) else { return .invalid(table.refused[folded] ?? "") }
            table.byKey[folded] = newID
            table.ids.insert(newID)
            table.created += 1
            id = newID
        }
        guard let id else { return .value(.null) }
        if ChangeCommands.assignmentFields.contains(column.field.name), id != engine.access.actor.id {
            switch rights.assignLevel {
            case nil:
                return .invalid("is someone else; \(engine.access.actor.handle) may not assign \(entity.name)")
            case .own:
                return .invalid("is someone else; \(engine.access.actor.handle) may only give records to themselves")
            case .team:
                if table.teams[id] == nil || table.teams[id] != engine.access.actor.teamID {
                    return .invalid("is outside \(engine.access.actor.handle)'s team; they may only give records to their team")
                }
            case .all:
                break
            }
        }
        return .value(id.databaseValue)
    }

    /// `create missing`: a new record named `name`, owned by the importer — unless it would break
    /// one of its entity's validation rules; then nothing is created, and this row and every
    /// other naming it are bad rows saying which rule (nil).
    func createMissing(_ name: String, in table: ReferenceTable) throws -> Int64? {
        if table.rules == nil { table.rules = try ValidationRule.load(db, entity: table.entity) }
        let rules = table.rules ?? []
        _ = try recorder.changeSetID  // opened outside the savepoint, so it outlives a refused record
        var created: Int64? = nil
        try db.inSavepoint {
            let id = try recorder.insert(
                table.entity, values: [(table.entity.naturalKey[0], name.databaseValue), ("owner_id", engine.access.actor.id.databaseValue)])
            for rule in rules {
                let breaking = try engine.recordsBreaking(
                    rule, db: db, scope: engine.ruleScope(table.entity), within: Select(value: Sql.value(id)).sql)
                if try Bool.fetchOne(db, breaking.limited(1).sql) != nil {
                    table.refused[name.lowercased()] =
                        "would be a new \(table.entity.singular) breaking rule \(rule.id): \(rule.message ?? rule.text)"
                    return .rollback
                }
            }
            created = id
            return .commit
        }
        return created
    }
}
