import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// Who `history` and `changes` say acted under `as`, and `history … where field …`.
@Suite("Undo, history and changes")
struct UndoHistoryTests {
    // MARK: - Impersonation

    /// `as ivan …` shows as `admin as ivan` in `history` and `changes`; `changes by ivan` and
    /// `changes by admin` both list it; a change admin made as herself is only admin's.
    @Test func impersonatedChangesNameBothUsers() throws {
        let engine = try SampleDatabase.engine()
        try UndoOrderTests.apply(engine, ["as ivan update contact 42 set phone = \"+1 555 000 1111\""])
        try UndoOrderTests.apply(engine, ["update contact 44 set title = \"Buyer\""])
        let history = run(engine, "history contact 42 --format csv")
        #expect(history.error == nil)
        #expect(history.output.contains(",admin as ivan,1,update,phone,"), "\(history.output)")
        let changes = run(engine, "changes --format csv")
        #expect(changes.output.contains("1,2026-11-22T10:00:00Z,admin as ivan,1,"), "\(changes.output)")
        #expect(changes.output.contains("2,2026-11-22T10:00:00Z,admin,1,"), "\(changes.output)")
        let numbers = { (command: String) -> [String] in
            let result = run(engine, command)
            #expect(result.error == nil, "\(command): \(result.error?.message ?? "")")
            return result.output.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }
        }
        #expect(numbers("changes by ivan --format csv") == ["1"])
        #expect(numbers("changes by admin --format csv") == ["2", "1"])
        #expect(numbers("changes by sam --format csv") == [])
        #expect(numbers("changes 1 by admin --format csv") == ["2"])
        let unknown = run(engine, "changes by ivna")
        #expect(unknown.error?.message.contains("ivna") == true)
        #expect(unknown.error?.help?.contains("ivan") == true, "\(unknown.error?.help ?? "")")
    }

    /// Ivan himself, who may not read every change set, sees his own under `changes by ivan`.
    @Test func theImpersonatedUserSeesTheChangeAsTheirs() throws {
        let engine = try SampleDatabase.engine()
        try UndoOrderTests.apply(engine, ["as ivan update contact 42 set phone = \"+1 555 000 1111\""])
        let ivan = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "ivan")
        let changes = run(ivan, "changes by ivan")
        #expect(changes.error == nil, "\(changes.error?.message ?? "")")
        #expect(changes.output.contains("admin as ivan"), "\(changes.output)")
    }

    // MARK: - history … where field …

    @Test func historyFilteredByField() throws {
        let engine = try SampleDatabase.engine()
        try UndoOrderTests.apply(engine, [
            "update contact 42 set title = \"A\", phone = \"+1 555 000 1111\"", "update contact 42 set city = \"Porto\"",
        ])
        let fields = { (command: String) -> [String] in
            let result = run(engine, command + " --format csv")
            #expect(result.error == nil, "\(command): \(result.error?.message ?? "")")
            return result.output.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[4]) }
        }
        #expect(fields("history contact 42") == ["title", "phone", "city"])
        #expect(fields("history contact 42 where field = title") == ["title"])
        #expect(fields("history contact 42 where field in (city, phone)") == ["phone", "city"])
        #expect(fields("history contact 42 where field != title") == ["phone", "city"])
        #expect(fields("history contact 42 where field = account") == [])
        #expect(fields("history contact 42 where field = title by admin") == ["title"])
        #expect(fields("history contact 42 by ivan") == [])
        let unknown = run(engine, "history contact 42 where field = emial")
        #expect(unknown.error?.code == .unknownField)
        #expect(unknown.error?.message == "unknown field 'emial' on contacts")
        #expect(unknown.error?.help == "did you mean 'email'?")
        #expect(unknown.error?.range?.start.column == 34, "the caret under emial")
        let other = run(engine, "history contact 42 where title = x")
        #expect(other.error != nil)
    }

    /// A deleted record's fields are in its deletion row: `where field = email` finds it there.
    @Test func aDeletedRecordsHistoryFilteredByField() throws {
        let engine = try SampleDatabase.engine()
        let email = try #require(
            try engine.store.dbQueue.inDatabase { try String.fetchOne($0, sql: "SELECT email FROM contacts WHERE id = 43") })
        try UndoOrderTests.apply(engine, ["delete contact 43 --yes"])
        let result = run(engine, "history contact 43 where field = email --format csv")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        #expect(result.output.contains(",delete,email,\(email),"), "\(result.output)")
        #expect(result.output.split(separator: "\n").count == 2)
    }
}
