import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Undo in every order over three overlapping change sets. The oracle is independent of undo:
/// the data tables (every table but the audit log, the change sets and the field history, read
/// by raw SQL) after each successful undo must equal those of a fresh company on which only the
/// change sets still in force were run, in order; and an undo is refused exactly when a change
/// set still in force after it wrote a field it wrote (or touched a record it created or deleted),
/// by the footprints written out by hand here.
@Suite("Undo in every order")
struct UndoOrderTests {
    struct Scenario: CustomTestStringConvertible, Sendable {
        let name: String
        /// Three change sets, each one or more statements (several run in `begin … commit`).
        let changes: [[String]]
        /// What each change set writes: `RECORD.FIELD`, or `RECORD.*` for a created or deleted record.
        let footprints: [Set<String>]
        var testDescription: String { name }

        func overlaps(_ a: Int, _ b: Int) -> Bool {
            for x in footprints[a] {
                for y in footprints[b] {
                    let (rx, fx) = split(x)
                    let (ry, fy) = split(y)
                    if rx == ry && (fx == fy || fx == "*" || fy == "*") { return true }
                }
            }
            return false
        }

        private func split(_ s: String) -> (String, String) {
            let parts = s.split(separator: ".", maxSplits: 1).map(String.init)
            return (parts[0], parts[1])
        }
    }

    static let scenarios: [Scenario] = [
        Scenario(
            name: "one field three times",
            changes: [
                ["update contact 5 set title = \"A\""], ["update contact 5 set title = \"B\""], ["update contact 5 set title = \"C\""],
            ],
            footprints: [["c5.title"], ["c5.title"], ["c5.title"]]),
        Scenario(
            name: "overlapping fields and records",
            changes: [
                ["update contacts where id in (5, 6) set title = \"A\", city = \"X\""],
                ["update contact 6 set city = \"Y\", company = \"Q\""],
                ["update contacts where id in (5, 7) set company = \"Z\", title = \"T\""],
            ],
            footprints: [
                ["c5.title", "c5.city", "c6.title", "c6.city"], ["c6.city", "c6.company"], ["c5.company", "c7.company", "c5.title", "c7.title"],
            ]),
        Scenario(
            name: "a create, an update of it and a delete of it",
            changes: [
                ["create contact first_name = \"Una\", last_name = \"Doe\", email = \"una@example.com\""],
                ["update contacts where email = \"una@example.com\" or id = 5 set title = \"T\""],
                ["delete contacts where email = \"una@example.com\" or id = 8 --yes"],
            ],
            footprints: [["una.*"], ["una.title", "c5.title"], ["una.*", "c8.*"]]),
        Scenario(
            name: "a script of several statements, a delete and an update",
            changes: [
                ["begin", "update contact 5 set title = \"A\"", "update contact 9 set city = \"Oslo\"", "commit"],
                ["delete contact 9 --yes"],
                ["update contacts where id in (5, 6) set city = \"Rome\""],
            ],
            footprints: [["c5.title", "c9.city"], ["c9.*"], ["c5.city", "c6.city"]]),
        Scenario(
            name: "a number freed and given again",
            changes: [
                ["create contact first_name = \"Una\", last_name = \"Doe\", email = \"una@example.com\""],
                ["delete contacts where email = \"una@example.com\" --yes"],
                ["create contact first_name = \"Vic\", last_name = \"Roe\", email = \"vic@example.com\""],
            ],
            footprints: [["new.*"], ["new.*"], ["new.*"]]),
    ]

    static let orders: [[Int]] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]

    @Test(arguments: scenarios) func everyOrderOfUndo(_ scenario: Scenario) throws {
        var expected: [Set<Int>: String] = [:]
        func state(of live: Set<Int>) throws -> String {
            if let known = expected[live] { return known }
            let engine = try SampleDatabase.engine()
            for index in live.sorted() { try Self.apply(engine, scenario.changes[index]) }
            let text = try Self.dataTables(engine.store)
            expected[live] = text
            return text
        }
        let original = try state(of: [])
        for order in Self.orders {
            let engine = try SampleDatabase.engine()
            var changeSets: [Int64] = []
            for change in scenario.changes {
                try Self.apply(engine, change)
                changeSets.append(try #require(try Self.lastChangeSet(engine.store)))
            }
            var live: Set<Int> = [0, 1, 2]
            #expect(try Self.dataTables(engine.store) == state(of: live))
            // Each change set in this order, then whatever was refused, newest first: by then
            // nothing in force after it overlaps, so all of it must succeed.
            for (pass, sequence) in [order, [2, 1, 0]].enumerated() {
                for index in sequence where live.contains(index) {
                    let blocked = live.contains { $0 > index && scenario.overlaps(index, $0) }
                    let before = try Self.dataTables(engine.store)
                    let undo = run(engine, "undo change \(changeSets[index])")
                    let context = "\(scenario.name), order \(order), undo of change set \(index + 1)"
                    if blocked {
                        #expect(pass == 0, "\(context): refused in the last pass")
                        #expect(undo.error?.code == .undoConflict, "\(context): \(undo.error?.message ?? "succeeded")")
                        #expect(try Self.dataTables(engine.store) == before, "\(context): a refused undo changed data")
                    } else {
                        #expect(undo.error == nil, "\(context): \(undo.error?.message ?? "")")
                        if undo.error == nil { live.remove(index) }
                        let now = try Self.dataTables(engine.store)
                        let want = try state(of: live)
                        #expect(now == want, "\(context): data differs\n\(TextDiff.unified(expected: want, actual: now, label: "data"))")
                    }
                }
            }
            #expect(live.isEmpty)
            #expect(try Self.dataTables(engine.store) == original, "\(scenario.name), order \(order): not back to the start")
        }
    }

    /// A change set, its undo, and an undo of that undo (a redo) are one change set in force: the
    /// change set before them conflicts with the redo, and not once the redo is undone too.
    @Test func aRedoIsAChangeInForce() throws {
        let engine = try SampleDatabase.engine()
        let original = try Self.dataTables(engine.store)
        try Self.apply(engine, ["update contact 5 set title = \"A\""])
        let first = try #require(try Self.lastChangeSet(engine.store))
        let afterFirst = try Self.dataTables(engine.store)
        try Self.apply(engine, ["update contact 5 set title = \"B\""])
        let afterSecond = try Self.dataTables(engine.store)
        try Self.apply(engine, ["undo"])  // undoes the second
        let undo = try #require(try Self.lastChangeSet(engine.store))
        #expect(try Self.dataTables(engine.store) == afterFirst)
        try Self.apply(engine, ["undo change \(undo)"])  // redoes the second
        let redo = try #require(try Self.lastChangeSet(engine.store))
        #expect(try Self.dataTables(engine.store) == afterSecond)
        let refused = run(engine, "undo change \(first)")
        #expect(refused.error?.code == .undoConflict, "\(refused.error?.message ?? "succeeded")")
        #expect(refused.error?.message.contains("was changed again in change \(redo)") == true, "\(refused.error?.message ?? "")")
        try Self.apply(engine, ["undo change \(redo)"])
        #expect(try Self.dataTables(engine.store) == afterFirst)
        try Self.apply(engine, ["undo change \(first)"])
        #expect(try Self.dataTables(engine.store) == original)
    }

    /// `undo; undo` after two updates of one field: the second undo reverts the first update.
    @Test func undoTwiceInARow() throws {
        let engine = try SampleDatabase.engine()
        let original = try Self.dataTables(engine.store)
        for command in ["update contact 5 set title = \"A\"", "update contact 5 set title = \"B\"", "undo", "undo"] {
            let result = run(engine, command)
            #expect(result.error == nil, "\(command): \(result.error?.message ?? "")")
        }
        #expect(try Self.dataTables(engine.store) == original)
    }

    /// An undo that would lose a later value is still refused: a change set in force after it
    /// wrote the same field, even when an undone pair sits between them.
    @Test func aLaterValueStillConflictsPastAnUndonePair() throws {
        let engine = try SampleDatabase.engine()
        try Self.apply(engine, ["update contact 5 set title = \"A\""])
        let first = try #require(try Self.lastChangeSet(engine.store))
        try Self.apply(engine, ["update contact 5 set title = \"B\""])
        try Self.apply(engine, ["undo"])
        try Self.apply(engine, ["update contact 5 set title = \"C\""])
        let later = try #require(try Self.lastChangeSet(engine.store))
        let refused = run(engine, "undo change \(first)")
        #expect(refused.error?.message == "cannot undo change \(first): contact 5 title was changed again in change \(later) by admin")
    }

    // MARK: - Helpers

    static func apply(_ engine: Engine, _ statements: [String]) throws {
        for statement in statements {
            let result = run(engine, statement)
            try #require(result.error == nil, "\(statement): \(result.error?.message ?? "")")
        }
    }

    static func lastChangeSet(_ store: CRMStore) throws -> Int64? {
        try store.dbQueue.inDatabase { try Int64.fetchOne($0, sql: "SELECT max(id) FROM change_sets") }
    }

    /// Every row of every data table, by raw SQL: all but the audit log and undo's bookkeeping;
    /// `updated_at` too, which undo puts back (the clock is fixed, so every change writes the same).
    static func dataTables(_ store: CRMStore, keepUpdatedAt: Bool = true) throws -> String {
        try store.dbQueue.inDatabase { db in
            var text = ""
            let tables = try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                    AND name NOT IN ('audit_log', 'change_sets', 'field_history') ORDER BY name
                    """)
            for table in tables {
                let columns = try db.columns(in: table).map(\.name).filter { keepUpdatedAt || $0 != "updated_at" }
                // Each row as its columns' SQL literals (type and value exact), joined in SQLite.
                let row = columns.map { "'\($0)=' || quote(\"\($0)\")" }.joined(separator: " || ' ' || ")
                let rows = try String.fetchOne(
                    db, sql: "SELECT group_concat(r, char(10)) FROM (SELECT \(row) AS r FROM \"\(table)\" ORDER BY rowid)")
                text += "== \(table)\n" + (rows ?? "") + "\n"
            }
            return text
        }
    }
}
