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
    private(set) var pendingRejects: (file: ExportFile, path: Located<String>, overwrite: Bool)? = nil

    static let staging = "rolo_import"
    /// The fields an update may change, one row each (`ord`, `name`), for its history.
    static let fieldList = "rolo_import_fields"
    /// The staging table's key (the row's line in the file) and the record a row matched.
    static let lineColumn = "line"
    static let targetColumn = "target"

    private var file: String { command.path.value }
    private var duplicates: ImportCommand.Duplicates
    private var problems = ProblemLog()

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

    private func diagnostic(_ code: DiagnosticCode, _ message: String, help: String? = nil) -> Diagnostic {
        Diagnostic(code, message, at: command.path.range, help: help)
    }

    /// Maps the header to columns: by name and synonym, `map` first; refuses unknown and repeated ones.
    private func plan(header: [String]) throws -> (columns: [Column], ignored: [String]) {
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
        let auditFields = engine.decide(.setAuditFields, on: entity.name).isAllowed
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
                    near.map { "did you mean \($0)? add map \"\(header)\" = \($0)" }
                    ?? "add map \"\(header)\" = FIELD, or map \"\(header)\" = skip"
                if header.contains(";") || header.contains("\t") {
                    let named = header.contains(";") ? "\";\"" : "tab"
                    help = "the file looks separated by \(named == "tab" ? "tabs" : "semicolons"): add separator \(named)"
                }
                throw Diagnostic(
                    .unmappedColumn, "\(file):1: column \"\(header)\" matches no field of \(entity.name)", at: command.path.range,
                    help: help)
            }
            if let earlier = columns.first(where: { $0.field === field }) {
                throw diagnostic(
                    .unmappedColumn,
                    "\(file):1: columns \"\(earlier.header)\" and \"\(header)\" both mean \(field.relationName ?? field.name)",
                    help: "map one of them to skip: map \"\(header)\" = skip")
            }
            if field.system {
                // Rolo's own fields: the number only to match by (`key id`), the dates with set_audit_fields.
                let isID = field.name == "id"
                guard isID ? command.key?.value == "id" : (field.name == "created_at" || field.name == "updated_at") && auditFields else {
                    ignored.append(
                        "\"\(header)\" "
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
            _ = try engine.require(.create, target, at: missing.range)
            table.createsMissing = true
        }
        return (columns, ignored)
    }

    /// Reads the readable records of `target` by natural key (and number).
    private func loadReferences(_ target: EntityDefinition) throws -> ReferenceTable {
        let table = ReferenceTable(target)
        let key = target.naturalKey.first
        var columns = [Sql.id("t0")]
        if let key { columns.append(Sql.column("t0", key)) }
        if target.name == "users" { columns.append(Sql.column("t0", "team_id")) }
        let query = Select(columns, from: target.name, as: "t0").where(engine.readFilter(target))
        let cursor = try Row.fetchCursor(db, query.sql)
        while let row = try cursor.next() {
            let id: Int64 = row[0]
            table.ids.insert(id)
            if key != nil, let name: String = row[1] {
                let folded = name.lowercased()
                if table.byKey.updateValue(id, forKey: folded) != nil { table.ambiguous.insert(folded) }
            }
            if target.name == "users", let team: Int64 = row[2] { table.teams[id] = team }
        }
        return table
    }

    // MARK: - Run

    mutating func run(output: OutputSink) throws -> ChangeOutcome {
        try ChangeCommands(engine: engine, db: db, recorder: recorder).requireWritable(entity, at: command.entity.range)
        _ = try engine.require(.import, entity, at: command.entity.range)
        let reader = try openReader()
        guard let headerRecord = try read(reader) else {
            throw diagnostic(
                .importFileMalformed, "\(file) is empty; nothing was imported",
                help: "the first line names the columns, e.g. first_name,last_name,email")
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
        var values = [DatabaseValue](repeating: .null, count: columns.count + 1)
        let keyOffset = keyField.flatMap { key in columns.firstIndex { $0.field === key } }
        var repeatedKeys = RepeatedKeys(foldsCase: keyField?.type.isTextual ?? false)
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? nil
        let meter = engine.progressLine.map { ProgressMeter(draw: $0) }
        defer { meter?.finish() }
        rowLoop: while let record = try read(reader) {
            if record.fields.count == 1, record.fields[0].isEmpty, header.count > 1 { continue }  // a blank line
            rows += 1
            if rows & 4095 == 0 {
                if engine.interruption.isRequested {
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
                            "has \(record.fields.count) \(record.fields.count == 1 ? "column" : "columns"); the header has \(header.count)"),
                    file: file, at: command.path.range)
                continue
            }
            values[0] = record.line.databaseValue
            for (offset, column) in columns.enumerated() {
                let raw = record.fields[column.index]
                let converted: CellValue
                if let reference = column.reference {
                    converted = try resolve(raw, in: reference, column: column, rights: rights)
                } else {
                    converted = column.converter.convert(raw)
                }
                switch converted {
                case .value(let value):
                    values[offset + 1] = value
                case .invalid(let reason):
                    try problems.add(
                        Problem(line: record.line, column: column.header, value: raw, code: .invalidValue, reason: reason),
                        file: file, at: command.path.range)
                    continue rowLoop
                }
            }
            if let keyOffset { repeatedKeys.note(values[keyOffset + 1], line: record.line) }
            try insert.bind(values)
            _ = try insert.step()
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
            // A dry-run without --skip-bad: the real import would fail at the first bad row.
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

    private func columnsCreatingMissing(_ columns: [Column]) -> [(String, ReferenceTable)] {
        columns.compactMap { column in column.reference.flatMap { $0.createsMissing ? (column.header, $0) : nil } }
    }

    private func openReader() throws -> CSVFileReader {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) else {
            throw diagnostic(.fileUnreadable, "there is no file \(file); nothing was imported")
        }
        if isFolder.boolValue { throw diagnostic(.fileUnreadable, "\(file) is a folder, not a CSV file") }
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

    private func read(_ reader: CSVFileReader) throws -> CSVFileReader.Record? {
        do {
            return try reader.next()
        } catch let failure as CSVFileReader.Failure {
            throw describe(failure)
        }
    }

    private func describe(_ failure: CSVFileReader.Failure) -> Diagnostic {
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
        case .unreadable(let reason):
            return diagnostic(.fileUnreadable, "cannot read \(file): \(reason)")
        }
    }

    /// Ctrl-C between two statements of the writes (SQLite's interrupt stops one that runs).
    private func stopIfInterrupted() throws {
        if engine.interruption.isRequested {
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

    private func keyField(_ columns: [Column]) throws -> FieldDefinition? {
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
        guard columns.contains(where: { $0.field === field }) || field.name == "id" && columns.contains(where: { $0.field.name == "id" })
        else {
            throw Diagnostic(
                .unmappedColumn, "no column of \(file) holds \(key.value), the key", at: key.range, help: "map \"Header\" = \(key.value)")
        }
        return columns.first(where: { $0.field.name == field.name })?.field
    }

    private func checkRights(_ columns: [Column], keyField: FieldDefinition?) throws -> Rights {
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
        let assign = engine.decide(.assign, on: entity.name)
        if assign.deniedBy == nil { rights.assignLevel = assign.scope }
        return rights
    }

    /// A related record named in a cell: by natural key, or by number; owners within the assign right.
    private func resolve(_ raw: String, in table: ReferenceTable, column: Column, rights: Rights) throws -> CellValue {
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
                let readable = engine.readFilter(table.entity) == nil ? "" : " that \(engine.actor.handle) may read"
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
        if ChangeCommands.assignmentFields.contains(column.field.name), id != engine.actor.id {
            switch rights.assignLevel {
            case nil:
                return .invalid("is someone else; \(engine.actor.handle) may not assign \(entity.name)")
            case .own:
                return .invalid("is someone else; \(engine.actor.handle) may only give records to themselves")
            case .team:
                if table.teams[id] == nil || table.teams[id] != engine.actor.teamID {
                    return .invalid("is outside \(engine.actor.handle)'s team; they may only give records to their team")
                }
            case .all:
                break
            }
        }
        return .value(id.databaseValue)
    }

    /// Rows matching a record outside the user's update scope are bad rows, named by line (and
    /// the record's owner, where it has one), not a refusal of the whole file.
    private mutating func checkUpdateScope(_ rights: Rights, keyField: FieldDefinition) throws {
        guard rights.updateLevel != .all, let scoped = engine.policy.scopeFilter(rights.updateLevel, on: entity, alias: "t0") else {
            return
        }
        var columns = [line, Sql.column(Self.staging, keyField.name), Sql.id("t0")]
        var query = Select(columns, from: Self.staging)
            .joining(Sql.innerJoin(entity.name, as: "t0", on: Sql.equals(Sql.id("t0"), target)))
        if entity.hasOwner {
            columns.append(Sql.column("u", "handle"))
            query = Select(columns, from: Self.staging)
                .joining(Sql.innerJoin(entity.name, as: "t0", on: Sql.equals(Sql.id("t0"), target)))
                .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.id("u"), Sql.column("t0", "owner_id"))))
        }
        let (actor, level) = (engine.actor.handle, rights.updateLevel.name)
        try reportKeyProblems(query.where(Sql.notTrue(scoped)).ordered(by: line), keyField, .permissionDenied) { [entity] row in
            let owner = entity.hasOwner ? (row[3] as String?).map { "belongs to \($0), " } ?? "is " : "is "
            return "matches \(entity.singular) \(row[2] as Int64), which \(owner)outside \(actor)'s \(level) scope for updates"
        }
    }

    /// `create missing`: a new record named `name`, owned by the importer — unless it would break
    /// one of its entity's validation rules; then nothing is created, and this row and every
    /// other naming it are bad rows saying which rule (nil).
    private func createMissing(_ name: String, in table: ReferenceTable) throws -> Int64? {
        if table.rules == nil { table.rules = try ValidationRule.load(db, entity: table.entity) }
        let rules = table.rules ?? []
        _ = try recorder.changeSetID  // opened outside the savepoint, so it outlives a refused record
        var created: Int64? = nil
        try db.inSavepoint {
            let id = try recorder.insert(
                table.entity, values: [(table.entity.naturalKey[0], name.databaseValue), ("owner_id", engine.actor.id.databaseValue)])
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

    private func requireUpdateScope(_ rights: Rights) throws {
        let matched = Sql.in(
            Sql.id("t0"), Select(Sql.name(Self.targetColumn), from: Self.staging).where(Sql.isNotNull(Sql.name(Self.targetColumn))))
        try engine.requireAllInScope(
            entity, filter: matched, action: .update, scope: rights.updateLevel, rule: rights.updateRule, db: db,
            at: command.entity.range)
    }

    // MARK: - Set-based checks

    private func count(_ condition: SQLFragment) throws -> Int {
        try Int.fetchOne(db, Select(Sql.countAll, from: Self.staging).where(condition).sql) ?? 0
    }

    private var target: SQLFragment { Sql.column(Self.staging, Self.targetColumn) }
    private var line: SQLFragment { Sql.column(Self.staging, Self.lineColumn) }

    /// Matches rows to records by the key (case-insensitively for text): the record's number, or
    /// minus the count when several records match. Reports rows whose key an earlier row has,
    /// looking only at the `candidates` (`RepeatedKeys`: no other row can repeat a key).
    private mutating func match(keyField: FieldDefinition?, candidates: [Int]) throws -> Int {
        guard let keyField else { return 0 }
        let keyHeader = command.key?.value ?? keyField.name
        let stagedKey = Sql.column(Self.staging, keyField.name)
        let recordKey = Sql.column("t0", keyField.name)
        let textual = keyField.type.isTextual
        let same = textual ? Sql.caseInsensitiveEquals(recordKey, stagedKey) : Sql.equals(recordKey, stagedKey)
        let matches = Select(
            Sql.when(
                [
                    (Sql.equals(Sql.countAll, Sql.value(1)), Sql.aggregate(.min, Sql.id("t0"))),
                    (Sql.compare(Sql.countAll, .greater, Sql.value(1)), Sql.negate(Sql.countAll)),
                ], else: Sql.null),
            from: entity.name, as: "t0"
        ).where(same).where(engine.readFilter(entity))
        try db.execute(
            Update(Self.staging, set: [(Self.targetColumn, Sql.subquery(matches))]).where(Sql.isNotNull(stagedKey)).sql)
        // Several records with that key.
        let ambiguous = Select(line, stagedKey, Sql.negate(target), from: Self.staging).where(Sql.compare(target, .less, Sql.value(0)))
        try reportKeyProblems(ambiguous.ordered(by: line), keyField, .invalidValue) { [entity] row in
            "matches \(row[2] as Int) \(entity.name); the key must pick one"
        }
        // Rows repeating an earlier row's key: of the candidates, those with an earlier line
        // holding an equal key.
        if !candidates.isEmpty {
            try db.execute(SchemaSQL.createTemporaryIndex(Self.staging, column: keyField.name, noCase: textual))
            let earlierKey =
                textual
                ? Sql.caseInsensitiveEquals(Sql.column("s2", keyField.name), stagedKey)
                : Sql.equals(Sql.column("s2", keyField.name), stagedKey)
            let earlier = Select(Sql.aggregate(.min, Sql.column("s2", Self.lineColumn)), from: Self.staging, as: "s2")
                .where(earlierKey).where(Sql.compare(Sql.column("s2", Self.lineColumn), .less, line))
            for start in stride(from: 0, to: candidates.count, by: 500) {
                let part = candidates[start..<min(start + 500, candidates.count)]
                let repeated = Select(line, stagedKey, Sql.subquery(earlier), from: Self.staging)
                    .where(Sql.in(line, part.map { Sql.value($0) })).where(Sql.isNotNull(Sql.subquery(earlier)))
                try reportKeyProblems(repeated.ordered(by: line), keyField, .duplicateRow) { row in
                    "repeats row \(row[2] as Int)'s \(keyHeader)"
                }
            }
        }
        if duplicates == .error {
            let existing = Select(line, stagedKey, target, from: Self.staging).where(Sql.compare(target, .greater, Sql.value(0)))
            try reportKeyProblems(existing.ordered(by: line), keyField, .duplicateRow) { [entity] row in
                "is already \(entity.singular) \(row[2] as Int64)'s (on duplicate error)"
            }
        }
        return try count(Sql.compare(target, .greater, Sql.value(0)))
    }

    /// Logs a problem with the key for each row of `query` (line, key, detail), in its order.
    private mutating func reportKeyProblems(
        _ query: Select, _ keyField: FieldDefinition, _ code: DiagnosticCode, reason: (Row) -> String
    ) throws {
        for row in try Row.fetchAll(db, query.sql) {
            try problems.add(
                Problem(line: row[0], column: header(of: keyField), value: row[1], code: code, reason: reason(row)),
                file: file, at: command.path.range)
        }
    }

    private var headers: [String: String] = [:]
    private func header(of field: FieldDefinition) -> String { headers[field.name] ?? field.relationName ?? field.name }

    /// New records need their required fields: rows that match nothing and leave one empty.
    private mutating func checkNewRows(columns: [Column], keyField: FieldDefinition?) throws {
        let fresh = Sql.isNull(target)
        if let keyField, keyField.name == "id" {
            // Matching by number only updates: a number no record has is a mistake, not a new record.
            let unknown = Select(line, Sql.column(Self.staging, "id"), from: Self.staging).where(fresh)
            for row in try Row.fetchAll(db, unknown.ordered(by: line).sql) {
                try problems.add(
                    Problem(
                        line: row[0], column: header(of: keyField), value: (row[1] as Int64?).map(String.init), code: .unknownRecord,
                        reason: "is no \(entity.singular)'s number"),
                    file: file, at: command.path.range)
            }
            return
        }
        let required = entity.fields.filter { $0.required && !$0.system && $0.sqlDefault == nil && $0.name != "owner_id" }
        for field in required {
            let name = field.relationName ?? field.name
            guard let column = columns.first(where: { $0.field === field }) else {
                // No column at all: only an error if some row would be created.
                if try count(fresh) > 0 {
                    let first =
                        try Int.fetchOne(db, Select(Sql.aggregate(.min, Sql.name(Self.lineColumn)), from: Self.staging).where(fresh).sql)
                        ?? 0
                    throw diagnostic(
                        .requiredField,
                        "\(file)\(keyField == nil ? "" : ":\(first)"): a new \(entity.singular) needs \(name), and the file has no column for it; nothing was imported",
                        help: "add a column \(name) (or map \"Header\" = \(name))")
                }
                continue
            }
            let empty = Select(line, from: Self.staging).where(fresh).where(Sql.isNull(Sql.column(Self.staging, field.name)))
            for row in try Row.fetchAll(db, empty.ordered(by: line).sql) {
                try problems.add(
                    Problem(
                        line: row[0], column: column.header, value: nil, code: .requiredField,
                        reason: "is empty, and a new \(entity.singular) needs \(name)"),
                    file: file, at: command.path.range)
            }
        }
    }

    /// Writes the staged rows: the new records, then the matched records' changes, in chunks of
    /// lines (`WriteProgress`).
    ///
    /// With validation rules on the entity the writes go into a savepoint and the records they
    /// leave are checked (the records the change path checks: those with history in this
    /// statement, so a skipped or unchanged record is not one). Clean, they are kept; otherwise
    /// each breaking record's row is logged as a problem, in file order (thrown at once unless
    /// collecting), the writes are rolled back, those rows taken out, and the rest written again.
    /// New records are numbered past the highest in file order, so the k-th new number is the
    /// k-th new row; a matched record's row is the one that names it. `engine.performChange`
    /// checks the rules again after, as for every change.
    private mutating func write(
        columns: [Column], keyField: FieldDefinition?, updating: Bool, meter: ProgressMeter?
    ) throws -> (created: Int, updated: Int, perField: [(String, Int)]) {
        let rules = try ValidationRule.load(db, entity: entity)
        let write = { [self] () throws -> (created: Int, updated: Int, perField: [(String, Int)]) in
            let progress = try WriteProgress(db: db, meter: meter, passes: updating ? 3 : 1, stop: stopIfInterrupted)
            let created = try createRecords(columns: columns, progress: progress)
            guard updating else { return (created, 0, []) }
            let (updated, perField) = try updateRecords(columns: columns, keyField: keyField, progress: progress)
            return (created, updated, perField)
        }
        guard !rules.isEmpty else { return try write() }
        _ = try recorder.changeSetID  // opened outside the savepoint, so it outlives a rolled-back try
        while true {
            let highest = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: entity.name).sql) ?? 0
            var written = (created: 0, updated: 0, perField: [(String, Int)]())
            var breaking: [(id: Int64, rule: ValidationRule)] = []
            try db.inSavepoint {
                written = try write()
                if let touched = recorder.touchedIDs(of: entity) {
                    let scope = engine.ruleScope(entity)
                    for rule in rules {
                        let ids = try Int64.fetchAll(db, try engine.recordsBreaking(rule, db: db, scope: scope, within: touched).sql)
                        breaking += ids.map { ($0, rule) }
                    }
                }
                return breaking.isEmpty ? .commit : .rollback
            }
            if breaking.isEmpty { return written }
            let rejected = problems.rejected
            try logRowsBreakingRules(breaking, highest: highest)
            // A record no row can be blamed for: written as it is, the change path's own check refuses it.
            if problems.rejected == rejected { return try write() }
            try dropRejected()
        }
    }

    /// Logs each record that breaks a rule as a problem of its row.
    private mutating func logRowsBreakingRules(_ breaking: [(id: Int64, rule: ValidationRule)], highest: Int64) throws {
        let freshLines = try Int.fetchAll(
            db,
            Select(Sql.name(Self.lineColumn), from: Self.staging).where(Sql.isNull(Sql.name(Self.targetColumn)))
                .ordered(by: Sql.name(Self.lineColumn)).sql)
        let matchedIDs = breaking.map(\.id).filter { $0 <= highest }
        var matchedLines: [Int64: Int] = [:]
        for chunk in stride(from: 0, to: matchedIDs.count, by: 500) {
            let part = matchedIDs[chunk..<min(chunk + 500, matchedIDs.count)]
            let rows = try Row.fetchAll(
                db,
                Select(Select.columns([Self.targetColumn, Self.lineColumn]), from: Self.staging)
                    .where(Sql.in(Sql.name(Self.targetColumn), part.map { Sql.value($0) })).sql)
            for row in rows { matchedLines[row[0]] = row[1] }
        }
        let found: [(line: Int, rule: ValidationRule)] = breaking.compactMap { id, rule in
            if id > highest {
                let index = Int(id - highest) - 1
                return index < freshLines.count ? (freshLines[index], rule) : nil
            }
            return matchedLines[id].map { ($0, rule) }
        }
        for (line, rule) in found.sorted(by: { ($0.line, $0.rule.id) < ($1.line, $1.rule.id) }) {
            let column = rule.field.flatMap { entity.field(named: $0) }.map { header(of: $0) }
            try problems.add(
                Problem(
                    line: line, column: column, value: nil, code: .ruleBroken,
                    reason: "breaks rule \(rule.id): \(rule.message ?? rule.text)"),
                file: file, at: command.path.range)
        }
    }

    /// Removes rows found bad by the set-based checks from the staging table.
    private func dropRejected() throws {
        let lines = problems.reasons.keys.sorted()
        guard !lines.isEmpty else { return }
        for chunk in stride(from: 0, to: lines.count, by: 500) {
            let part = lines[chunk..<min(chunk + 500, lines.count)]
            try db.execute(Delete(from: Self.staging).where(Sql.in(Sql.name(Self.lineColumn), part.map { Sql.value($0) })).sql)
        }
    }

    // MARK: - Writing

    /// The new records, in file order, each recorded as created as `create` records it.
    private func createRecords(columns: [Column], progress: WriteProgress) throws -> Int {
        let fresh = Sql.isNull(Sql.column("s", Self.targetColumn))
        let now = Sql.value(recorder.now)
        var names: [String] = []
        var values: [SQLFragment] = []
        for column in columns where column.field.name != "id" {
            names.append(column.field.name)
            let staged = Sql.column("s", column.field.name)
            switch column.field.name {
            case "owner_id": values.append(Sql.coalesce([staged, Sql.value(engine.actor.id)]))
            case "created_at", "updated_at": values.append(Sql.coalesce([staged, now]))
            default:
                // An empty cell takes the field's default (a lead's status `new`), as a missing column does.
                if let fallback = Self.defaultValue(of: column.field) {
                    values.append(Sql.coalesce([staged, Sql.value(fallback)]))
                } else {
                    values.append(staged)
                }
            }
        }
        var defaults: [(String, SQLFragment)] = []
        if entity.hasOwner, !names.contains("owner_id") { defaults.append(("owner_id", Sql.value(engine.actor.id))) }
        for system in ["created_at", "updated_at"] where entity.field(named: system) != nil && !names.contains(system) {
            defaults.append((system, now))
        }
        if entity.name == "tickets", !names.contains("opened_at") { defaults.append(("opened_at", now)) }
        if entity.name == "activities", !names.contains("occurred_at") { defaults.append(("occurred_at", now)) }
        for (name, value) in defaults {
            names.append(name)
            values.append(value)
        }
        let fields = names.filter { entity.field(named: $0) != nil }
        var created = 0
        try progress.pass { lines in
            let before = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: entity.name).sql) ?? 0
            let newRows = Select(values, from: Self.staging, as: "s").where(fresh).where(lines(Sql.column("s", Self.lineColumn)))
                .ordered(by: Sql.column("s", Self.lineColumn))
            try db.execute(Insert(into: entity.name, columns: names, select: newRows).sql)
            guard db.changesCount > 0 else { return }
            created += db.changesCount
            // Under the write lock, the new records are exactly those numbered past the old
            // highest: one creation row each, with the fields the import wrote (`HistoryRows`).
            try recorder.recordSnapshot(
                entity, .create, fields: fields, conditions: [Sql.compare(Sql.id("t0"), .greater, Sql.value(before))])
        }
        return created
    }

    /// A field's declared default as a value (`'new'` → new, `0` → 0), to bind.
    static func defaultValue(of field: FieldDefinition) -> DatabaseValue? {
        guard let text = field.sqlDefault else { return nil }
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 {
            return String(text.dropFirst().dropLast()).databaseValue
        }
        return Int64(text)?.databaseValue
    }

    /// The matched records' fields that the file gives and that differ, with their history as
    /// `update` writes it (old → new, before the change); empty cells leave a field alone.
    /// The key is left as the record has it: it matched (for text, whatever its case).
    ///
    /// The history is one pass over the matched rows crossed with the file's fields, record by
    /// record; the `UPDATE … FROM` then sets only the fields that changed somewhere (a field set
    /// to itself would still rewrite each index on it).
    private func updateRecords(columns: [Column], keyField: FieldDefinition?, progress: WriteProgress) throws -> (Int, [(String, Int)]) {
        let updatable = columns.filter { !$0.field.system && $0.field !== keyField }.map(\.field)
        guard !updatable.isEmpty else {
            progress.skipPass(2)
            return (0, [])
        }
        let staged = { (field: FieldDefinition) in Sql.column("s", field.name) }
        let current = { (field: FieldDefinition) in Sql.column("t0", field.name) }
        let differs = { (field: FieldDefinition) in Sql.all([Sql.isNotNull(staged(field)), Sql.isDistinct(staged(field), current(field))]) }
        let joined = Sql.innerJoin(Self.staging, as: "s", on: Sql.equals(Sql.column("s", Self.targetColumn), Sql.id("t0")))
        let before = try Int64.fetchOne(db, Select(Sql.maximum(Sql.name("id")), from: "field_history").sql) ?? 0
        try db.execute(SchemaSQL.dropTemporaryTable(Self.fieldList))
        try db.execute(SchemaSQL.createTemporaryTable(Self.fieldList, key: "ord", columns: ["name"]))
        for (index, field) in updatable.enumerated() {
            try db.execute(Insert(into: Self.fieldList, [("ord", (index + 1).databaseValue), ("name", field.name.databaseValue)]).sql)
        }
        let byField = { (make: (FieldDefinition) -> SQLFragment) in
            Sql.when(
                updatable.enumerated().map { index, field in (Sql.equals(Sql.column("f", "ord"), Sql.value(index + 1)), make(field)) },
                else: Sql.null)
        }
        var rows = Select(
            [
                Sql.value(try recorder.changeSetID), Sql.value(entity.name), Sql.id("t0"), Sql.value(HistoryOp.update.rawValue),
                Sql.column("f", "name"), byField(current), byField(staged), Sql.value(recorder.userID), Sql.value(recorder.now),
            ], from: entity.name, as: "t0"
        ).joining(joined).joining(Sql.crossJoin(Self.fieldList, as: "f"))
        try progress.pass { lines in
            rows.conditions = [lines(Sql.column("s", Self.lineColumn)), byField(differs)]
            try db.execute(Insert(into: "field_history", columns: ChangeRecorder.historyColumns, select: rows).sql)
        }
        try db.execute(SchemaSQL.dropTemporaryTable(Self.fieldList))
        let counts = try Row.fetchAll(
            db,
            Select(Sql.name("field"), Sql.countAll, from: "field_history")
                .where(Sql.equals(Sql.name("change_set_id"), Sql.value(try recorder.changeSetID)))
                .where(Sql.compare(Sql.name("id"), .greater, Sql.value(before)))
                .grouped(by: [Sql.name("field")]).ordered(by: Sql.descending(Sql.countAll), Sql.name("field")).sql
        ).map { row -> (field: String, count: Int) in (row[0], row[1]) }
        let changed = updatable.filter { field in counts.contains { $0.field == field.name } }
        guard !changed.isEmpty else {
            progress.skipPass()
            return (0, [])
        }
        var sets = changed.map { field in (column: field.name, value: Sql.coalesce([staged(field), current(field)])) }
        if entity.hasUpdatedAt {
            let kept = columns.contains { $0.field.name == "updated_at" }
            sets.append(
                ("updated_at", kept ? Sql.coalesce([Sql.column("s", "updated_at"), Sql.value(recorder.now)]) : Sql.value(recorder.now)))
        }
        var updated = 0
        try progress.pass { lines in
            try db.execute(
                Update(entity.name, as: "t0", set: sets).from(Self.staging, as: "s")
                    .where(Sql.equals(Sql.column("s", Self.targetColumn), Sql.id("t0"))).where(lines(Sql.column("s", Self.lineColumn)))
                    .where(Sql.any(changed.map(differs))).sql)
            updated += db.changesCount
        }
        return (updated, counts.map { (entity.field(named: $0.field)?.relationName ?? $0.field, $0.count) })
    }

    /// The rejected rows, as they were, each with an `error` column: fixed, the file imports again.
    /// Written to a temporary file that takes its name only when the import is kept.
    private func writeRejects(
        to path: Located<String>, header: [String], separator: UInt8
    ) throws -> (file: ExportFile, path: Located<String>, overwrite: Bool) {
        let overwrite = statement.hasOption("force")
        let out: ExportFile
        do {
            out = try ExportFile(path: path.value, overwrite: overwrite)
        } catch {
            throw error.diagnostic(path, outcome: "nothing was imported", example: "rejects.csv")
        }
        func line(_ fields: [String]) -> String {
            fields.map { ValueFormatter.csvField($0, separator: separator) }.joined(separator: String(UnicodeScalar(separator))) + "\n"
        }
        do {
            out.write(line(header + ["error"]))
            let again = try CSVFileReader(path: file, separator: separator)
            _ = try again.next()
            while let record = try again.next() {
                if let reason = problems.reasons[record.line] { out.write(line(record.fields + [reason])) }
            }
        } catch {
            out.abandon()
            throw error
        }
        return (out, path, overwrite)
    }
}

/// A row that cannot be imported: its line, the column and value at fault, and why.
struct Problem {
    let line: Int
    let column: String?
    let value: String?
    let code: DiagnosticCode
    let reason: String

    /// `column "Email": "not-an-email" is not an email address`.
    var text: String {
        var text = column.map { "column \"\($0)\": " } ?? "the row "
        if let value { text += ChangeRecorder.quoted(value) + " " }
        return text + reason
    }

    /// What problems of one kind share: the column and the reason, without the value.
    var kind: String { (column.map { "column \"\($0)\": " } ?? "row ") + reason }

    func diagnostic(file: String, at range: SourceRange, more: Int = 0, listed: Bool = false) -> Diagnostic {
        let others = "\(more.formatted()) more \(more == 1 ? "row has" : "rows have") problems"
        let help: String
        if more > 0 {
            help =
                others
                + (listed ? "; --skip-bad FILE imports the good rows" : "; --dry-run lists the commonest, --skip-bad FILE imports the rest")
        } else {
            help = "fix the row, or add --skip-bad FILE to import the other rows"
        }
        return Diagnostic(code, "\(file):\(line): \(text); nothing was imported", at: range, help: help)
    }
}

/// The rows rejected so far: the first (for the error), each line's reason (for the rejects file),
/// and tallies by kind (for the summary).
struct ProblemLog {
    /// Keep going after a problem (a dry-run or --skip-bad); otherwise the first one is thrown.
    var collecting = false
    private(set) var first: Problem? = nil
    private(set) var reasons: [Int: String] = [:]
    /// Problems by kind, in the order each kind was first met.
    private var tallies: [(kind: String, count: Int, examples: [Problem])] = []
    private var tallyIndex: [String: Int] = [:]

    var rejected: Int { reasons.count }

    mutating func add(_ problem: Problem, file: String, at range: SourceRange) throws {
        guard reasons[problem.line] == nil else { return }
        guard collecting else { throw problem.diagnostic(file: file, at: range) }
        if let earlier = first, earlier.line < problem.line {
        } else {
            first = problem
        }
        reasons[problem.line] = problem.text
        let index = tallyIndex[problem.kind] ?? tallies.count
        if index == tallies.count {
            tallyIndex[problem.kind] = index
            tallies.append((problem.kind, 0, []))
        }
        tallies[index].count += 1
        if tallies[index].examples.count < 3 { tallies[index].examples.append(problem) }
    }

    /// The five commonest reasons, with example rows (ties in the order they were met).
    func summary(file: String) -> [String] {
        guard !tallies.isEmpty else { return [] }
        let commonest = tallies.enumerated().sorted { ($0.element.count, -$0.offset) > ($1.element.count, -$1.offset) }.map(\.element)
        var lines = ["commonest reasons:"]
        for tally in commonest.prefix(5) {
            let examples = tally.examples.map { problem in
                "row \(problem.line)" + (problem.value.map { " " + ChangeRecorder.quoted($0) } ?? "")
            }.joined(separator: ", ")
            lines.append("  \(tally.count.formatted())× \(tally.kind) (e.g. \(examples))")
        }
        return lines
    }
}
