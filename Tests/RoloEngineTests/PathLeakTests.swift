import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// A generated oracle for reads through relation paths.
///
/// For every built-in role, every entity (domain and security tables; the system tables are left
/// out because every command appends to them), every relation path of one or two hops from it and
/// every field at the end of the path (its id and each plain field), it compares what a user holding
/// exactly that role sees through the path with what independent SQL over the raw tables says they
/// may see:
///
/// - a related record outside the user's read scope for its entity, or a field the user may not
///   read, shows as `(hidden)` in json, csv and tables;
/// - it counts as empty in conditions (`PATH is empty`, `PATH.field is not empty`, `PATH.n > 0`),
///   is left out of `sum` and `max`, falls into the empty group of `count … by PATH`, and sorting
///   on it gives no order information;
/// - the root entity's rows are limited to the user's read scope.
///
/// The expectations come from a literal transcription of docs/roles.md below and hand-written SQL
/// over owner_id / assignee_id / users.team_id, never from BuiltinRoles or the engine's policy.
/// The schema (CRMSchema) is used only to enumerate paths and fields.
@Suite("Path leaks")
struct PathLeakTests {
    // MARK: - docs/roles.md, transcribed by hand

    enum Reach: String, Sendable { case own, team, all }

    static let securityRead: [String: Reach] = ["teams": .all, "users": .all, "roles": .all]

    /// Each role's read scope per entity, from the matrices in docs/roles.md. An entity missing
    /// from a role's row has no read right at all.
    static let readScope: [String: [String: Reach]] = [
        "admin": [
            "teams": .all, "users": .all, "roles": .all, "role_permissions": .all, "user_roles": .all,
            "accounts": .all, "contacts": .all, "campaigns": .all, "leads": .all, "deals": .all,
            "tickets": .all, "activities": .all, "tasks": .all, "campaign_members": .all,
        ],
        "sales_manager": securityRead.merging([
            "accounts": .all, "contacts": .all, "campaigns": .all, "leads": .all, "deals": .all,
            "tickets": .all, "activities": .all, "tasks": .all, "campaign_members": .all,
        ]) { $1 },
        "sales_rep": securityRead.merging([
            "accounts": .all, "contacts": .all, "campaigns": .all, "leads": .own, "deals": .own,
            "tickets": .all, "activities": .all, "tasks": .own,
        ]) { $1 },
        "support_rep": securityRead.merging([
            "accounts": .all, "contacts": .all, "deals": .all, "tickets": .all, "activities": .all,
            "tasks": .own,
        ]) { $1 },
        "marketing_manager": securityRead.merging([
            "accounts": .all, "contacts": .all, "campaigns": .all, "leads": .all, "deals": .all,
            "activities": .all, "tasks": .own, "campaign_members": .all,
        ]) { $1 },
        "marketing_rep": securityRead.merging([
            "accounts": .all, "contacts": .all, "campaigns": .all, "leads": .all, "tasks": .own,
            "campaign_members": .all,
        ]) { $1 },
        "data_analyst": [
            "teams": .all, "users": .all, "roles": .all, "role_permissions": .all, "user_roles": .all,
            "accounts": .all, "contacts": .all, "campaigns": .all, "leads": .all, "deals": .all,
            "tickets": .all, "activities": .all, "tasks": .all, "campaign_members": .all,
        ],
        "cfo": securityRead.merging(["accounts": .all, "contacts": .all, "deals": .all]) { $1 },
        "executive": securityRead.merging([
            "accounts": .all, "contacts": .all, "campaigns": .all, "leads": .all, "deals": .all, "tickets": .all,
        ]) { $1 },
    ]

    /// Field-limited read denies (docs/roles.md: "all but not email,phone").
    static let deniedReadFields: [String: [String: Set<String>]] = [
        "cfo": ["contacts": ["email", "phone"]],
        "executive": ["contacts": ["email", "phone"], "leads": ["email", "phone"]],
    ]

    /// Who owns a record (docs/roles.md: "records the user owns or is assigned (tasks and tickets
    /// have assignees)"): either column naming the user puts it in their own scope.
    static let ownerColumns: [String: [String]] = [
        "accounts": ["owner_id"], "contacts": ["owner_id"], "campaigns": ["owner_id"], "leads": ["owner_id"],
        "deals": ["owner_id"], "activities": ["owner_id"], "campaign_members": ["owner_id"],
        "tickets": ["owner_id", "assignee_id"], "tasks": ["owner_id", "assignee_id"],
    ]

    /// How a relation column names its record (docs/language.md: `owner` → alice; a deal by its
    /// name, a contact or lead by first and last name, a ticket by its subject).
    static func title(_ entity: String, _ record: Record) -> String? {
        func text(_ name: String) -> String? { record[name].flatMap { String.fromDatabaseValue($0) } }
        switch entity {
        case "users": return text("handle")
        case "contacts", "leads":
            return ((text("first_name") ?? "") + " " + (text("last_name") ?? "")).trimmingCharacters(in: CharacterSet(charactersIn: " "))
        case "tickets", "activities": return text("subject")
        case "tasks": return text("title")
        default: return text("name")
        }
    }

    /// A raw row: column → stored value.
    typealias Record = [String: DatabaseValue]

    /// Long free text, skipped at the end of paths.
    static let longText: Set<String> = ["tickets.description", "activities.body"]

    static let roles = [
        "admin", "sales_manager", "sales_rep", "support_rep", "marketing_manager", "marketing_rep", "data_analyst", "cfo",
        "executive",
    ]

    /// Rows compared per path in `find` (the first N the user may read, by id).
    static let sampleRows = 60

    // MARK: - Paths, from the schema

    struct Hop {
        let relation: String
        let column: String
        let target: String
    }

    struct PathSpec {
        let hops: [Hop]
        var name: String { hops.map(\.relation).joined(separator: ".") }
        var target: String { hops[hops.count - 1].target }
    }

    static func hops(from entity: String) -> [Hop] {
        guard let definition = CRMSchema.entity(named: entity) else { return [] }
        return definition.fields.compactMap { field in
            guard let target = field.referencedEntity else { return nil }
            return Hop(relation: field.relationName ?? field.name, column: field.name, target: target)
        }
    }

    static func paths(from root: String) -> [PathSpec] {
        var paths: [PathSpec] = []
        for first in hops(from: root) {
            paths.append(PathSpec(hops: [first]))
            for second in hops(from: first.target) { paths.append(PathSpec(hops: [first, second])) }
        }
        return paths
    }

    /// The id and every plain (non-reference) field, long text left out.
    static func endFields(_ entity: String) -> [FieldDefinition] {
        guard let definition = CRMSchema.entity(named: entity) else { return [] }
        return definition.fields.filter { $0.referencedEntity == nil && !longText.contains("\(entity).\($0.name)") }
    }

    static var rootEntities: [String] { CRMSchema.entities.filter { $0.kind != .system }.map(\.name) }

    // MARK: - Cells

    enum Cell: Equatable, CustomStringConvertible {
        case hidden, empty
        case value(String)
        var description: String {
            switch self {
            case .hidden: return "(hidden)"
            case .empty: return "empty"
            case .value(let s): return "\"\(s)\""
            }
        }
    }

    /// A stored value as the comparison sees it: money in cents, booleans as true/false, blank as empty.
    static func canonical(_ value: DatabaseValue, _ type: FieldType) -> Cell {
        switch value.storage {
        case .null: return .empty
        case .int64(let i): return type == .boolean ? .value(i != 0 ? "true" : "false") : .value(String(i))
        case .double(let d): return .value(String(Int64(d.rounded())))
        case .string(let s): return isBlank(s) ? .empty : .value(s)
        case .blob: return .value("<blob>")
        }
    }

    static func isBlank(_ s: String) -> Bool { s.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" } }

    static func cents(_ text: String) -> String? {
        var s = Substring(text)
        var negative = false
        if s.hasPrefix("-") {
            negative = true
            s = s.dropFirst()
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int64(parts[0].isEmpty ? "0" : String(parts[0])) else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : "0"
        if fraction.count == 1 { fraction += "0" }
        guard fraction.count == 2, let f = Int64(fraction) else { return nil }
        return String((negative ? -1 : 1) * (whole * 100 + f))
    }

    static func fromCSV(_ text: String, _ type: FieldType) -> Cell {
        if text == "(hidden)" { return .hidden }
        if isBlank(text) { return .empty }
        switch type {
        // CSV writes money as a plain decimal with two places (1234.56); anything else is kept
        // as written, so it cannot match.
        case .money: return .value(text.split(separator: ".").last?.count == 2 ? (cents(text) ?? text) : text)
        case .boolean: return .value(text == "1" ? "true" : text == "0" ? "false" : text)
        default: return .value(text)
        }
    }

    static func fromJSON(_ any: Any?, _ type: FieldType) -> Cell {
        guard let any, !(any is NSNull) else { return .empty }
        if let s = any as? String {
            if s == "(hidden)" { return .hidden }
            if isBlank(s) { return .empty }
            return .value(type == .money ? (cents(s) ?? s) : s)
        }
        switch type {
        case .boolean:
            if let b = any as? Bool { return .value(b ? "true" : "false") }
            if let n = any as? NSNumber { return .value(n.boolValue ? "true" : "false") }
        case .money:
            if let n = any as? NSNumber { return .value(String(Int64((n.doubleValue * 100).rounded()))) }
        default:
            if let n = any as? NSNumber { return .value(String(n.int64Value)) }
        }
        return .value("\(any)")
    }

    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        while let c = pending {
            pending = scalars.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = scalars.next()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.unicodeScalars.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }

    static func parseJSON(_ text: String) -> [[String: Any]]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) as? [[String: Any]]
    }

    /// A table's cells (header excluded), split on the column rule.
    static func parseTable(_ text: String) -> (header: [String], rows: [[String]]) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 2 else { return ([], []) }
        let split: (Substring) -> [String] = { line in
            line.unicodeScalars.split(separator: "│", omittingEmptySubsequences: false).map {
                String(String.UnicodeScalarView($0)).trimmingCharacters(in: .whitespaces)
            }
        }
        let header = split(lines[0])
        var rows: [[String]] = []
        for line in lines.dropFirst(2) {
            if line.hasPrefix("(") || line.isEmpty { break }
            var cells = split(line)
            while cells.count < header.count { cells.append("") }
            rows.append(cells)
        }
        return (header, rows)
    }

    // MARK: - The independent side

    struct World {
        let role: String
        let userID: Int64
        let teamID: Int64?
        /// Raw rows per entity, by id.
        var rows: [String: [Int64: Record]] = [:]
        /// Ids the user may read, per entity.
        var visible: [String: Set<Int64>] = [:]

        func denied(_ entity: String, _ field: String) -> Bool {
            PathLeakTests.deniedReadFields[role]?[entity]?.contains(field) ?? false
        }

        enum Reached {
            case empty, hidden
            case record(Record)
        }

        func follow(_ row: Record, _ path: PathSpec) -> Reached {
            var current = row
            for hop in path.hops {
                guard let value = current[hop.column], let key = Int64.fromDatabaseValue(value), let next = rows[hop.target]?[key]
                else { return .empty }
                guard visible[hop.target]?.contains(key) ?? false else { return .hidden }
                current = next
            }
            return .record(current)
        }

        func expected(_ reached: Reached, _ path: PathSpec, _ field: FieldDefinition) -> Cell {
            switch reached {
            case .empty: return .empty
            case .hidden: return .hidden
            case .record(let target):
                if denied(path.target, field.name) { return .hidden }
                return PathLeakTests.canonical(target[field.name] ?? .null, field.type)
            }
        }

        func expectedTitle(_ reached: Reached, _ path: PathSpec) -> Cell {
            switch reached {
            case .empty: return .empty
            case .hidden: return .hidden
            case .record(let target):
                guard let title = PathLeakTests.title(path.target, target), !PathLeakTests.isBlank(title) else { return .empty }
                return .value(title)
            }
        }
    }

    /// Hand-written SQL for the ids a user may read: all, own (owner or assignee), team (owner or
    /// assignee in the user's team), or none.
    static func visibleIDs(_ role: String, _ entity: String, user: Int64, team: Int64?, db: Database) throws -> Set<Int64> {
        guard let reach = readScope[role]?[entity] else { return [] }
        switch reach {
        case .all:
            return Set(try Int64.fetchAll(db, sql: "SELECT id FROM \"\(entity)\""))
        case .own:
            if entity == "users" { return [user] }
            let columns = ownerColumns[entity] ?? []
            let filter = columns.map { "\($0) = :user" }.joined(separator: " OR ")
            return Set(try Int64.fetchAll(db, sql: "SELECT id FROM \"\(entity)\" WHERE \(filter)", arguments: ["user": user]))
        case .team:
            let columns = ownerColumns[entity] ?? []
            let filter = columns.map { "\($0) IN (SELECT id FROM users WHERE team_id = :team)" }.joined(separator: " OR ")
            return Set(try Int64.fetchAll(db, sql: "SELECT id FROM \"\(entity)\" WHERE \(filter)", arguments: ["team": team]))
        }
    }

    /// Links activities and tasks to deals, leads and tickets (the sample company has none), gives
    /// some tasks an assignee other than their owner, and leaves some references empty, so every
    /// path has visible, hidden and empty ends. Raw SQL on the test's own copy, before the engine opens.
    static func addFixtures(_ db: Database) throws {
        let deals = try Int64.fetchAll(db, sql: "SELECT id FROM deals ORDER BY id")
        let leads = try Int64.fetchAll(db, sql: "SELECT id FROM leads ORDER BY id")
        let tickets = try Int64.fetchAll(db, sql: "SELECT id FROM tickets ORDER BY id")
        let users = try Int64.fetchAll(db, sql: "SELECT id FROM users ORDER BY id")
        for table in ["activities", "tasks"] {
            let statement = try db.makeStatement(sql: "UPDATE \(table) SET deal_id = ?, lead_id = ?, ticket_id = ? WHERE id = ?")
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM \(table)") {
                let i = Int(id)
                try statement.execute(arguments: [
                    i % 3 == 0 ? nil : deals[(i * 17) % deals.count], i % 4 == 1 ? nil : leads[(i * 13) % leads.count],
                    i % 5 == 2 ? nil : tickets[(i * 29) % tickets.count], id,
                ])
            }
        }
        let assign = try db.makeStatement(sql: "UPDATE tasks SET assignee_id = ? WHERE id = ?")
        for id in try Int64.fetchAll(db, sql: "SELECT id FROM tasks WHERE id % 6 IN (0, 3)") {
            try assign.execute(arguments: [id % 6 == 0 ? users[Int(id) % users.count] : nil, id])
        }
        try db.execute(sql: "UPDATE deals SET contact_id = NULL WHERE id % 10 = 0")
        try db.execute(sql: "UPDATE deals SET account_id = NULL WHERE id % 15 = 0")
        try db.execute(sql: "UPDATE contacts SET account_id = NULL WHERE id % 20 = 0")
        try db.execute(sql: "UPDATE tickets SET contact_id = NULL WHERE id % 11 = 0")
        try db.execute(sql: "UPDATE tickets SET assignee_id = NULL WHERE id % 9 = 0")
        try db.execute(sql: "UPDATE campaign_members SET contact_id = NULL WHERE id % 7 = 0 AND lead_id IS NOT NULL")
    }

    // MARK: - Mismatches

    struct Report {
        var mismatches: [(kind: String, detail: String)] = []
        var fieldCases = 0
        var checks = 0

        mutating func check(_ ok: Bool, _ kind: @autoclosure () -> String, _ detail: @autoclosure () -> String) {
            checks += 1
            if !ok { mismatches.append((kind(), detail())) }
        }

        static func kind(expected: Cell, actual: Cell) -> String {
            switch (expected, actual) {
            case (.hidden, .value): return "LEAK: related value shown where (hidden) is due"
            case (.hidden, .empty): return "shows empty where (hidden) is due"
            case (.value, .hidden): return "over-hidden: readable value shown as (hidden)"
            case (.empty, .hidden): return "(hidden) where the path is empty"
            default: return "wrong value"
            }
        }

        var summary: String {
            var kinds: [String: Int] = [:]
            for m in mismatches { kinds[m.kind, default: 0] += 1 }
            let byKind = kinds.sorted { $0.value > $1.value }.map { "  \($0.value) × \($0.key)" }.joined(separator: "\n")
            // The first two of each kind, then the rest in order, up to 20.
            var shown: [Int] = []
            var perKind: [String: Int] = [:]
            for (index, m) in mismatches.enumerated() where perKind[m.kind, default: 0] < 2 {
                perKind[m.kind, default: 0] += 1
                shown.append(index)
            }
            for index in mismatches.indices where shown.count < 20 && !shown.contains(index) { shown.append(index) }
            let first = shown.prefix(20).sorted().map { "  - [\(mismatches[$0].kind)] \(mismatches[$0].detail)" }.joined(separator: "\n")
            return
                "\(mismatches.count) of \(checks) checks failed (\(fieldCases) role×entity×path×field cases)\nby kind:\n\(byKind)\nfirst 20:\n\(first)"
        }
    }

    static func errorKind(_ error: Diagnostic) -> String {
        "command failed with \(error.code.rawValue) where the rule expects an answer"
    }

    // MARK: - The test

    @Test(arguments: roles)
    func pathsShowOnlyWhatTheRoleMayRead(role: String) throws {
        let start = Date()
        let store = try CRMStore.open(path: try SampleDatabase.freshCopy())
        try store.dbQueue.write { try Self.addFixtures($0) }

        // A user holding exactly this role (a sample user; created if the sample has none).
        let admin = try Engine(store: store, clock: SampleDatabase.clock, user: "admin")
        let pickSQL = """
            SELECT u.handle FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
            WHERE r.name = ? AND u.active = 1 AND (SELECT count(*) FROM user_roles x WHERE x.user_id = u.id) = 1
            ORDER BY u.id LIMIT 1
            """
        var handle = try store.dbQueue.read { try String.fetchOne($0, sql: pickSQL, arguments: [role]) }
        if handle == nil {
            let made = "x_\(role)"
            try #require(run(admin, #"create user \#(made) name="Path \#(role)" team=Leadership"#).error == nil)
            try #require(run(admin, "grant \(role) to \(made)").error == nil)
            handle = made
        }
        let user = try #require(handle)
        // Export does not change what is readable; it only lets the test read machine output.
        try #require(run(admin, "create role exporter").error == nil)
        for entity in Self.rootEntities {
            let result = run(admin, "allow exporter export \(entity) scope all")
            try #require(result.error == nil, "allow exporter export \(entity): \(result.error?.message ?? "")")
        }
        try #require(run(admin, "grant exporter to \(user)").error == nil)
        let roles = try store.dbQueue.read { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id JOIN users u ON u.id = ur.user_id WHERE u.handle = ? ORDER BY r.name",
                arguments: [user])
        }
        try #require(roles == [role, "exporter"].sorted(), "\(user) holds \(roles)")

        // The independent side: raw rows and visible ids.
        var world = try store.dbQueue.read { db -> World in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT id, team_id FROM users WHERE handle = ?", arguments: [user]))
            var world = World(role: role, userID: row["id"], teamID: row["team_id"])
            for entity in Self.rootEntities {
                var byID: [Int64: Record] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(entity)\"") {
                    var record: Record = [:]
                    for (column, value) in row { record[column] = value }
                    byID[row["id"]] = record
                }
                world.rows[entity] = byID
            }
            return world
        }
        for entity in Self.rootEntities {
            world.visible[entity] = try store.dbQueue.read {
                try Self.visibleIDs(role, entity, user: world.userID, team: world.teamID, db: $0)
            }
        }
        // Sanity of the fixtures: activities link to deals and leads, and for a role that reads
        // only its own, some of the linked ones are its own and some are not.
        for (column, target) in [("deal_id", "deals"), ("lead_id", "leads")] {
            let linked = Set((world.rows["activities"] ?? [:]).values.compactMap { $0[column].flatMap { Int64.fromDatabaseValue($0) } })
            try #require(!linked.isEmpty, "no activity links to \(target)")
            if Self.readScope[role]?[target] == .own {
                let mine = world.visible[target] ?? []
                try #require(
                    !linked.isDisjoint(with: mine) && !linked.isSubset(of: mine), "\(user): activities' \(target) are all or none theirs")
            }
        }

        let engine = try Engine(store: store, clock: SampleDatabase.clock, user: user)
        var report = Report()
        for root in Self.rootEntities {
            check(root: root, world: world, engine: engine, report: &report)
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
        print(
            "PathLeak[\(role) as \(user)]: \(report.fieldCases) field cases, \(report.checks) checks, \(report.mismatches.count) failed, \(seconds) s"
        )
        if !report.mismatches.isEmpty {
            Issue.record("\(role) (as \(user)): \(report.summary)")
        }
    }

    func check(root: String, world: World, engine: Engine, report: inout Report) {
        let role = world.role
        // A root the role may not read at all stays refused, as today.
        guard Self.readScope[role]?[root] != nil else {
            for command in ["count \(root)", "find \(root) id limit 1 as json"] {
                let result = run(engine, command)
                report.check(
                    result.error?.code == .permissionDenied, "root readable without a read right",
                    "\(role): `\(command)` → \(result.error?.code.rawValue ?? result.output.prefix(80).description)")
            }
            return
        }
        let rootRows = world.rows[root] ?? [:]
        let visibleRoot = (world.visible[root] ?? []).sorted()
        let sample = Array(visibleRoot.prefix(Self.sampleRows))

        // The root's own rows: limited to the read scope.
        let total = countOf(engine, "count \(root) as json", report: &report)
        report.check(
            total == visibleRoot.count, "root rows outside the read scope",
            "\(role): count \(root) = \(total.map(String.init) ?? "error"), expected \(visibleRoot.count)")

        for path in Self.paths(from: root) {
            let fields = Self.endFields(path.target)
            report.fieldCases += fields.count
            let headers = [path.name] + fields.map { path.name + "." + $0.name }
            let types: [FieldType] = [.text] + fields.map(\.type)
            var reachedByID: [Int64: World.Reached] = [:]
            for id in visibleRoot { if let row = rootRows[id] { reachedByID[id] = world.follow(row, path) } }
            let reached = reachedByID
            let allReached = visibleRoot.compactMap { reached[$0] }
            let expectedCell: (World.Reached, Int) -> Cell = { row, column in
                column == 0 ? world.expectedTitle(row, path) : world.expected(row, path, fields[column - 1])
            }
            let list = "id, " + headers.joined(separator: ", ")
            let base = "find \(root) \(list) order by id limit \(Self.sampleRows)"

            // json
            do {
                let command = base + " as json"
                let result = run(engine, command)
                if let error = result.error {
                    report.check(false, Self.errorKind(error), "\(role): `\(command)` → \(error.message)")
                } else if let objects = Self.parseJSON(result.output) {
                    let ids = objects.map { ($0["id"] as? NSNumber)?.int64Value ?? -1 }
                    report.check(
                        ids == sample, "row set differs",
                        "\(role): `\(command)` returned ids \(ids.prefix(8))…, expected \(sample.prefix(8))…")
                    for (object, id) in zip(objects, ids) {
                        guard let row = reached[id] else { continue }
                        for (column, header) in headers.enumerated() {
                            let expected = expectedCell(row, column)
                            let actual = Self.fromJSON(object[header], types[column])
                            report.check(
                                expected == actual, Report.kind(expected: expected, actual: actual),
                                "\(role) json \(root) \(id) \(header): expected \(expected), got \(actual)")
                        }
                    }
                } else {
                    report.check(false, "unparseable json", "\(role): `\(command)`: \(result.output.prefix(120))")
                }
            }
            // csv
            do {
                let command = base + " as csv"
                let result = run(engine, command)
                if let error = result.error {
                    report.check(false, Self.errorKind(error), "\(role): `\(command)` → \(error.message)")
                } else {
                    let table = Self.parseCSV(result.output)
                    let header = table.first ?? []
                    report.check(header == ["id"] + headers, "csv header", "\(role): `\(command)` header \(header)")
                    let body = Array(table.dropFirst())
                    let ids = body.map { Int64($0.first ?? "") ?? -1 }
                    report.check(ids == sample, "row set differs", "\(role): `\(command)` returned ids \(ids.prefix(8))…")
                    for (cells, id) in zip(body, ids) where cells.count == headers.count + 1 {
                        guard let row = reached[id] else { continue }
                        for (column, header) in headers.enumerated() {
                            let expected = expectedCell(row, column)
                            let actual = Self.fromCSV(cells[column + 1], types[column])
                            report.check(
                                expected == actual, Report.kind(expected: expected, actual: actual),
                                "\(role) csv \(root) \(id) \(header): expected \(expected), got \(actual)")
                        }
                    }
                }
            }
            // table: which cells are (hidden)
            do {
                let result = run(engine, base)
                if let error = result.error {
                    report.check(false, Self.errorKind(error), "\(role): `\(base)` → \(error.message)")
                } else {
                    let (_, rows) = Self.parseTable(result.output)
                    for cells in rows where cells.count >= headers.count + 1 {
                        guard let id = Int64(cells[0]), let row = reached[id] else { continue }
                        for (column, header) in headers.enumerated() {
                            let hiddenDue = expectedCell(row, column) == .hidden
                            let shown = cells[column + 1] == "(hidden)"
                            report.check(
                                hiddenDue == shown,
                                hiddenDue
                                    ? "LEAK: related value shown where (hidden) is due" : "over-hidden: readable value shown as (hidden)",
                                "\(role) table \(root) \(id) \(header): \(hiddenDue ? "expected (hidden)" : "expected a value"), got \"\(cells[column + 1])\""
                            )
                        }
                    }
                }
            }

            // Conditions: PATH is empty + PATH is not empty = all; not empty = what is visible.
            let reachable = allReached.filter { if case .record = $0 { return true } else { return false } }.count
            emptinessChecks(
                engine, root: root, subject: path.name, expectedNotEmpty: reachable, total: visibleRoot.count, role: role,
                report: &report)
            let deniable = Set(Self.deniedReadFields.values.flatMap { $0[path.target] ?? [] })
            let counted = fields.enumerated().filter { index, field in
                field.name == "id" || field.type.isNumeric || deniable.contains(field.name)
                    || index == fields.firstIndex { $0.type.isTextual }
            }.map(\.element)
            for field in counted {
                let notEmpty = allReached.filter { if case .value = world.expected($0, path, field) { return true } else { return false } }
                    .count
                emptinessChecks(
                    engine, root: root, subject: path.name + "." + field.name, expectedNotEmpty: notEmpty, total: visibleRoot.count,
                    role: role, report: &report)
            }

            // Aggregates over numeric ends: hidden values are left out.
            for field in fields where field.type.isNumeric && field.name != "id" {
                let values = allReached.compactMap { row -> Int64? in
                    if case .value(let v) = world.expected(row, path, field) { return Int64(v) }
                    return nil
                }
                let subject = "\(root).\(path.name).\(field.name)"
                let sum = values.reduce(0, +)
                let gotSum = aggregate(engine, "sum \(subject) as json", type: field.type, report: &report)
                if case .some(let got) = gotSum {
                    report.check(
                        got == sum || (values.isEmpty && got == nil), "LEAK: sum includes hidden values",
                        "\(role): sum \(subject) = \(got.map(String.init) ?? "null"), expected \(sum)\(field.type == .money ? " cents" : "")"
                    )
                }
                let gotMax = aggregate(engine, "max \(subject) as json", type: field.type, report: &report)
                if case .some(let got) = gotMax {
                    report.check(
                        got == values.max(), "LEAK: max includes hidden values",
                        "\(role): max \(subject) = \(got.map(String.init) ?? "null"), expected \(values.max().map(String.init) ?? "null")")
                }
                let positive = values.filter { $0 > 0 }.count
                let command = "count \(root) where \(path.name).\(field.name) > 0 as json"
                let got = countOf(engine, command, report: &report)
                if let got {
                    report.check(
                        got == positive, "LEAK: condition true for a hidden value",
                        "\(role): `\(command)` = \(got), expected \(positive)")
                }
            }

            // Grouping: hidden records fall into the empty group.
            do {
                var expectedGroups: [String: Int] = [:]
                for row in allReached {
                    let key: String
                    if case .value(let title) = world.expectedTitle(row, path) { key = title } else { key = "" }
                    expectedGroups[key, default: 0] += 1
                }
                let command = "count \(root) by \(path.name) as json"
                let result = run(engine, command)
                if let error = result.error {
                    report.check(false, Self.errorKind(error), "\(role): `\(command)` → \(error.message)")
                } else if let objects = Self.parseJSON(result.output) {
                    var groups: [String: Int] = [:]
                    for object in objects {
                        let key: String
                        if case .value(let title) = Self.fromJSON(object[path.name], .text) {
                            key = title
                        } else if Self.fromJSON(object[path.name], .text) == .hidden {
                            key = "(hidden)"
                        } else {
                            key = ""
                        }
                        groups[key, default: 0] += (object["count"] as? NSNumber)?.intValue ?? 0
                    }
                    let wrong = Set(groups.keys).union(expectedGroups.keys).filter { groups[$0] != expectedGroups[$0] }.sorted()
                    report.check(
                        wrong.isEmpty, "LEAK: count by groups hidden records by their real value",
                        "\(role): `\(command)`: groups differ, e.g. "
                            + wrong.prefix(3).map {
                                "\"\($0)\": got \(groups[$0] ?? 0), expected \(expectedGroups[$0] ?? 0)"
                            }.joined(separator: "; "))
                } else {
                    report.check(false, "unparseable json", "\(role): `\(command)`: \(result.output.prefix(120))")
                }
            }

            // Ordering: hidden rows carry no order information — in the output they come in id
            // order, with only hidden or empty rows between them.
            do {
                let sortField = fields.first { $0.type.isNumeric && $0.name != "id" } ?? fields.first { $0.type.isTextual } ?? fields[0]
                let command = "find \(root) id order by \(path.name).\(sortField.name), id as csv"
                let result = run(engine, command)
                if let error = result.error {
                    report.check(false, Self.errorKind(error), "\(role): `\(command)` → \(error.message)")
                } else {
                    let ids = Self.parseCSV(result.output).dropFirst().map { Int64($0.first ?? "") ?? -1 }
                    report.check(
                        Set(ids) == Set(visibleRoot) && ids.count == visibleRoot.count, "row set differs",
                        "\(role): `\(command)` returned \(ids.count) rows, expected \(visibleRoot.count)")
                    let cells = ids.map { id in reached[id].map { world.expected($0, path, sortField) } ?? .empty }
                    let hiddenAt = cells.indices.filter { cells[$0] == .hidden }
                    if let first = hiddenAt.first, let last = hiddenAt.last {
                        let hiddenIDs = hiddenAt.map { ids[$0] }
                        let between = cells[first...last].filter { if case .value = $0 { return true } else { return false } }.count
                        report.check(
                            hiddenIDs == hiddenIDs.sorted() && between == 0, "ORDER LEAK: hidden rows sorted by their real values",
                            "\(role): `\(command)`: \(hiddenIDs.count) hidden rows not in id order or \(between) visible rows among them")
                    }
                }
            }
        }
    }

    func emptinessChecks(
        _ engine: Engine, root: String, subject: String, expectedNotEmpty: Int, total: Int, role: String, report: inout Report
    ) {
        let empty = countOf(engine, "count \(root) where \(subject) is empty as json", report: &report)
        let notEmpty = countOf(engine, "count \(root) where \(subject) is not empty as json", report: &report)
        guard let empty, let notEmpty else { return }
        report.check(
            empty + notEmpty == total, "metamorphic: is empty + is not empty ≠ count",
            "\(role): \(root) where \(subject): is empty \(empty) + is not empty \(notEmpty) ≠ \(total)")
        report.check(
            notEmpty == expectedNotEmpty,
            notEmpty > expectedNotEmpty ? "LEAK: `is not empty` true for hidden values" : "`is not empty` misses visible values",
            "\(role): count \(root) where \(subject) is not empty = \(notEmpty), expected \(expectedNotEmpty)")
    }

    /// A `count … as json` figure, nil (and a recorded failure) if the command failed.
    func countOf(_ engine: Engine, _ command: String, report: inout Report) -> Int? {
        let result = run(engine, command)
        if let error = result.error {
            report.check(false, Self.errorKind(error), "\(handle(engine)): `\(command)` → \(error.message)")
            return nil
        }
        guard let object = Self.parseJSON(result.output)?.first, let count = object["count"] as? NSNumber else {
            report.check(false, "unparseable json", "`\(command)`: \(result.output.prefix(120))")
            return nil
        }
        return count.intValue
    }

    /// A single `sum|max … as json` figure in cents (money) or units: .some(nil) for null, nil on failure.
    func aggregate(_ engine: Engine, _ command: String, type: FieldType, report: inout Report) -> Int64?? {
        let result = run(engine, command)
        if let error = result.error {
            report.check(false, Self.errorKind(error), "\(handle(engine)): `\(command)` → \(error.message)")
            return nil
        }
        guard let object = Self.parseJSON(result.output)?.first, let value = object.values.first else {
            report.check(false, "unparseable json", "`\(command)`: \(result.output.prefix(120))")
            return nil
        }
        switch Self.fromJSON(value, type) {
        case .value(let text): return .some(Int64(text))
        default: return .some(nil)
        }
    }

    func handle(_ engine: Engine) -> String { engine.access.actor.handle }
}
