import GRDB
import RoloStore
import RoloSyntax

/// Binds `field = value` assignments for create and update: the field must exist and be
/// writable, the value must fit its type, and a named record (account = "Acme") must exist.
struct AssignmentBinder {
    let engine: Engine
    let db: Database
    let entity: EntityDefinition
    let binder: ExpressionBinder
    /// `--raw`: a text value keeps the spaces around it (by default they are taken off).
    var keepsSpaces = false

    struct Bound {
        let field: FieldDefinition
        let value: SQLFragment
        let range: SourceRange
        /// The constant value, when the expression has no field in it.
        let constant: DatabaseValue?
        /// The value as given had spaces around it, which were taken off.
        var trimmed = false
    }

    /// `text` without the white space around it (spaces, tabs, line breaks, no-break spaces), or
    /// nil when there is none to take off. Only the ends are looked at when they are plain
    /// characters: most values pay two byte comparisons.
    static func trimmed(_ text: String) -> String? {
        let bytes = text.utf8
        guard let first = bytes.first, let last = bytes.last else { return nil }
        func plain(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x80 }
        if plain(first), plain(last) { return nil }
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        return start == scalars.startIndex && end == scalars.endIndex ? nil : String(scalars[start..<end])
    }

    func field(_ name: Located<String>) throws -> FieldDefinition {
        guard let field = entity.field(named: name.value) ?? entity.relation(named: name.value) else {
            let near = Suggestions.nearest(to: name.value, in: Catalog.fieldNames(of: entity))
            throw Diagnostic(
                .unknownField, "unknown field '\(name.value)' on \(entity.name)", at: name.range,
                help: near.map { "did you mean '\($0)'?" } ?? "\(entity.name) has "
                    + entity.fields.filter { !$0.system }.map(\.name).joined(separator: ", "))
        }
        if field.system {
            throw Diagnostic(.readOnlyField, "\(field.name) is set by Rolo and cannot be changed", at: name.range)
        }
        return field
    }

    func bind(_ assignment: Assignment) throws -> Bound {
        let field = try self.field(assignment.field)
        let label = field.relationName ?? field.name
        let bound: BoundExpression
        let columnsBefore = binder.scope.referenced.count
        do {
            bound = try binder.bind(assignment.value, expecting: field.type)
        } catch let diagnostic as Diagnostic where diagnostic.code == .typeMismatch && diagnostic.message.hasPrefix("expected ") {
            throw Diagnostic(
                .typeMismatch, "\(label) " + "expects " + diagnostic.message.dropFirst("expected ".count),
                at: diagnostic.range, help: diagnostic.help)
        }
        var sql: SQLFragment
        var type: FieldType?
        switch bound {
        case .null:
            if field.required {
                throw Diagnostic(.requiredField, "\(label) is required on \(entity.name) and cannot be empty", at: assignment.value.range)
            }
            return Bound(field: field, value: Sql.null, range: assignment.value.range, constant: .null)
        case .ids(let subquery):
            let ids = try Int64.fetchAll(db, Sql.firstRows(subquery, 3))
            guard let target = field.referencedEntity, let targetEntity = CRMSchema.entity(named: target) else {
                throw Diagnostic(.typeMismatch, "\(label) does not name records", at: assignment.value.range)
            }
            if ids.count != 1 {
                let key = targetEntity.naturalKey.first ?? "name"
                throw Diagnostic(
                    .unknownRecord,
                    ids.isEmpty
                        ? "no \(targetEntity.singular) has that \(key)"
                        : "several \(targetEntity.name) have that \(key): " + ids.map(String.init).joined(separator: ", "),
                    at: assignment.value.range,
                    help: ids.isEmpty ? "find \(targetEntity.name) where \(key) contains \"…\" lists candidates" : "use the number instead")
            }
            return Bound(
                field: field, value: Sql.value(ids[0]), range: assignment.value.range, constant: ids[0].databaseValue
            )
        default:
            (sql, type) = try binder.valueSQL(bound, at: assignment.value.range, for: field.type)
        }
        try check(type, against: field, label: label, at: assignment.value.range)
        // A computed number goes in whole, or is refused past the limits (rolo_int), never stored
        // as a REAL or clamped.
        if field.type == .money || field.type == .integer, case .computed = bound {
            sql = Sql.checkedInteger(sql)
        }
        if case .reference(let target) = field.type, case .constant(let value, _) = bound, !value.isNull {
            // A record the acting user may not read cannot be linked to (nor told apart from a missing one).
            let targetEntity = CRMSchema.entity(named: target)
            let record = Select(Sql.true, from: target, as: "t0").where(Sql.idEquals("t0", value))
            if try Bool.fetchOne(db, record.where(targetEntity.flatMap { engine.access.readFilter($0) }).sql) != true {
                let scoped = targetEntity.map { engine.access.readFilter($0) != nil } ?? false
                if scoped, try Bool.fetchOne(db, record.sql) == true {
                    engine.access.lookupRefused = true  // a refusal in the audit log, a missing record to the user
                }
                throw Diagnostic(
                    .unknownRecord,
                    "there is no \(targetEntity?.singular ?? target) \(value)\(scoped ? " that \(engine.access.actor.handle) may read" : "")",
                    at: assignment.value.range, help: scoped ? targetEntity.map { engine.access.readScopeHelp($0) } : nil)
            }
        }
        var constant: DatabaseValue? = nil
        var wasTrimmed = false
        if case .column = bound {
        } else if binder.scope.referenced.count == columnsBefore, scopeFree(bound) {
            constant = try DatabaseValue.fetchOne(db, Select(value: sql).sql) ?? .null
            if !keepsSpaces, field.type == .text || field.type == .email, let text = constant.flatMap(String.fromDatabaseValue),
                let trimmed = Self.trimmed(text)
            {
                // " ana@acme.io " is the address; a value of spaces alone is no value.
                let value = trimmed.isEmpty ? DatabaseValue.null : trimmed.databaseValue
                constant = value
                sql = Sql.value(value)
                wasTrimmed = true
            }
            if field.required, constant?.isNull == true {
                throw Diagnostic(.requiredField, "\(label) is required on \(entity.name) and cannot be empty", at: assignment.value.range)
            }
            if field.type == .email, let text = constant.flatMap(String.fromDatabaseValue), !Self.isValidEmail(text) {
                throw Diagnostic(
                    .invalidValue, "\"\(text)\" is not a valid email address", at: assignment.value.range,
                    help: "an email looks like name@example.com")
            }
        }
        if let max = field.maxLength, let text = constant.flatMap(String.fromDatabaseValue), text.count > max {
            throw Self.tooLong(label, count: text.count, max: max, at: assignment.value.range)
        }
        return Bound(field: field, value: sql, range: assignment.value.range, constant: constant, trimmed: wasTrimmed)
    }

    /// Whether a bound value can be computed without a record (no column in it).
    private func scopeFree(_ bound: BoundExpression) -> Bool {
        switch bound {
        case .column: return false
        case .computed(let sql, _): return !sql.sql.contains("t0.")
        default: return true
        }
    }

    private func check(_ type: FieldType?, against field: FieldDefinition, label: String, at range: SourceRange) throws {
        guard let type else { return }
        let ok: Bool
        switch (field.type, type) {
        case (.money, .money), (.money, .integer), (.integer, .integer), (.integer, .money): ok = true
        case (.money, _), (.integer, _): ok = false
        case (.date, .date), (.date, .timestamp), (.timestamp, .timestamp), (.timestamp, .date): ok = true
        case (.date, _), (.timestamp, _): ok = false
        case (.boolean, .boolean), (.boolean, .integer): ok = true
        case (.boolean, _): ok = false
        case (.reference, .reference), (.reference, .integer): ok = true
        case (.reference, _): ok = false
        case (.enumeration, .enumeration), (.enumeration, .text): ok = true
        case (.enumeration, _): ok = false
        case (.text, .date), (.text, .timestamp): ok = true
        default: ok = true
        }
        if !ok {
            throw Diagnostic(.typeMismatch, "\(label) expects \(field.type.displayName), got \(type.displayName)", at: range)
        }
    }

    static func tooLong(_ label: String, count: Int, max: Int, at range: SourceRange?) -> Diagnostic {
        Diagnostic(
            .textTooLong, "\(label) would be \(count) characters; it takes at most \(max)", at: range,
            help: "shorten it (docs/data-model.md lists each field's limit)")
    }

    /// A pragmatic email check: one @, a dot in the domain, no spaces.
    /// One `@` with something before it, a domain holding a dot but not starting or ending with
    /// one, and no space: the rule `validEmailSQL` states in SQL. One pass over the UTF-8 bytes
    /// (`@`, `.` and space are ASCII, never inside a longer character's bytes): an import checks
    /// a million of them, and Foundation's substring search cost 6% of its time.
    static func isValidEmail(_ text: String) -> Bool {
        var ats = 0
        var local = 0
        var domainFirst: UInt8? = nil
        var domainLast: UInt8 = 0
        var domainDot = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: " "): return false
            case UInt8(ascii: "@"):
                ats += 1
                if ats > 1 { return false }
            default:
                if ats == 0 {
                    local += 1
                } else {
                    if domainFirst == nil { domainFirst = byte }
                    domainLast = byte
                    if byte == UInt8(ascii: ".") { domainDot = true }
                }
            }
        }
        return ats == 1 && local > 0 && domainDot && domainFirst != UInt8(ascii: ".") && domainLast != UInt8(ascii: ".")
    }

    /// SQL true when `value` is a valid email (for bulk checks that run inside the database).
    static func validEmailSQL(_ value: SQLFragment) -> SQLFragment {
        Sql.all(
            [Sql.like(value, "%_@_%._%")] + ["%@%@%", "% %", "%.", "%@.%"].map { Sql.not(Sql.like(value, $0)) })
    }
}
