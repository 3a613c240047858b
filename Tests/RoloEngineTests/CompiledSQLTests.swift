import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloTestSupport
import Testing

/// The SQL representative commands compile to, written out: what the builder and the SQLite
/// dialect render (text and bound values), so a change to either shows here first. Reads are
/// taken from `explain`, changes from the statements the connection ran.
@Suite("Compiled SQL")
struct CompiledSQLTests {
    /// `explain`'s SQL line and its values, as `?1 = …` lines.
    static func explained(_ engine: Engine, _ query: String) throws -> (sql: String, values: [String]) {
        let result = run(engine, "explain " + query)
        if let error = result.error { throw error }
        let lines = result.output.split(separator: "\n").map(String.init)
        let sqlIndex = try #require(lines.firstIndex(of: "SQL:"))
        let plan = try #require(lines.firstIndex(of: "plan:"))
        let values = lines[(sqlIndex + 2)..<plan].filter { $0 != "values:" }.map { $0.trimmingCharacters(in: .whitespaces) }
        return (lines[sqlIndex + 1].trimmingCharacters(in: .whitespaces), values)
    }

    /// The statements a command ran, values expanded, leaving out the audit log's and change
    /// sets' bookkeeping unless asked for.
    static func traced(_ engine: Engine, _ command: String) throws -> [String] {
        let collected = Collected()
        engine.store.dbQueue.inDatabase { db in
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { collected.append(statement.expandedSQL) }
            }
        }
        defer { engine.store.dbQueue.inDatabase { db in db.trace(options: .statement, nil) } }
        let result = run(engine, command)
        if let error = result.error { throw error }
        // The writes, without the audit log's entry (a hash of the moment's chain).
        return collected.all.filter {
            ($0.hasPrefix("INSERT") || $0.hasPrefix("UPDATE") || $0.hasPrefix("DELETE")) && !$0.contains("\"audit_log\"")
        }
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var statements: [String] = []
        func append(_ sql: String) { lock.withLock { statements.append(sql) } }
        var all: [String] { lock.withLock { statements } }
    }

    @Test func findThroughARelationPathWithACondition() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(engine, "find contacts first_name, account.name where account.industry = software limit 5")
        #expect(
            sql
                == #"SELECT t0."first_name", t1."name" FROM "contacts" AS t0 LEFT JOIN "accounts" AS t1 ON t1.id = t0."account_id" WHERE t1."industry" = ? ORDER BY t0.rowid LIMIT ?"#
        )
        #expect(
            values == [
                #"?1 = "software""#,
                #"?2 = 5"#,
            ])
    }

    @Test func countBy() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(engine, "count deals by stage")
        #expect(sql == #"SELECT t0."stage", count(*) FROM "deals" AS t0 GROUP BY t0."stage" ORDER BY 2 DESC, 1"#)
        #expect(values == [])
    }

    @Test func sumByWithAPeriod() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(engine, "sum deals.amount by owner where close_date in this quarter")
        #expect(
            sql
                == #"SELECT t1.handle, total(t0."amount") FROM "deals" AS t0 LEFT JOIN "users" AS t1 ON t1.id = t0."owner_id" WHERE (t0."close_date" >= ? AND t0."close_date" < ?) GROUP BY t0."owner_id" ORDER BY 2 DESC, 1"#
        )
        #expect(
            values == [
                #"?1 = "2026-10-01""#,
                #"?2 = "2027-01-01""#,
            ])
    }

    @Test func contains() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(engine, "find accounts name where name contains \"Acme\"")
        #expect(sql == #"SELECT t0."name" FROM "accounts" AS t0 WHERE rolo_match(t0."name", ?, ?) ORDER BY t0.rowid"#)
        #expect(
            values == [
                #"?1 = "acme""#,
                #"?2 = 0"#,
            ])
    }

    /// `is valid phone`: not blank, and the documented form as bound GLOB patterns.
    @Test func validPhone() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(engine, "find contacts id where phone is valid phone")
        #expect(
            sql
                == #"SELECT t0."id" FROM "contacts" AS t0 WHERE (NOT (t0."phone" IS NULL OR trim(t0."phone") = '') AND (length(t0."phone") >= ? AND length(t0."phone") <= ? AND NOT t0."phone" GLOB ? AND t0."phone" GLOB ? AND t0."phone" GLOB ?)) ORDER BY t0.rowid"#
        )
        #expect(values == [#"?1 = 7"#, #"?2 = 30"#, #"?3 = "*[^0-9 +().-]*""#, #"?4 = "[0-9+(]*""#, #"?5 = "*[0-9]""#])
    }

    @Test func hasAndNoRelatedRecords() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(engine, "count accounts where has open deals and no tickets")
        #expect(
            sql
                == #"SELECT count(*) FROM "accounts" AS t0 WHERE (EXISTS (SELECT 1 FROM "deals" AS tc1_0 WHERE tc1_0."account_id" = t0.id AND tc1_0."stage" NOT IN (?, ?)) AND (NOT EXISTS (SELECT 1 FROM "tickets" AS tc2_0 WHERE tc2_0."account_id" = t0.id)))"#
        )
        #expect(
            values == [
                #"?1 = "won""#,
                #"?2 = "lost""#,
            ])
    }

    @Test func aCountOfRelatedRecordsAsACondition() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(engine, "find accounts name where count(deals where stage = won) >= 2 order by name")
        #expect(
            sql
                == #"SELECT t0."name" FROM "accounts" AS t0 WHERE (SELECT count(*) FROM "deals" AS tc1_0 WHERE tc1_0."account_id" = t0.id AND tc1_0."stage" = ?) >= ? ORDER BY t0."name""#
        )
        #expect(
            values == [
                #"?1 = "won""#,
                #"?2 = 2"#,
            ])
    }

    @Test func enumOrderAndDateArithmetic() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try Self.explained(
            engine, "find tickets subject where priority >= high and opened_at + 3 days < today order by priority desc limit 3 offset 1")
        #expect(
            sql
                == #"SELECT t0."subject" FROM "tickets" AS t0 WHERE ((CASE t0."priority" WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? END) >= ? AND rolo_date(t0."opened_at", strftime('%Y-%m-%dT%H:%M:%SZ', t0."opened_at", ?)) < ?) ORDER BY (CASE t0."priority" WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? END) DESC LIMIT ? OFFSET ?"#
        )
        #expect(
            values == [
                #"?1 = "low""#,
                #"?2 = 0"#,
                #"?3 = "normal""#,
                #"?4 = 1"#,
                #"?5 = "high""#,
                #"?6 = 2"#,
                #"?7 = "urgent""#,
                #"?8 = 3"#,
                #"?9 = 2"#,
                #"?10 = "3 days""#,
                #"?11 = "2026-11-22""#,
                #"?12 = "low""#,
                #"?13 = 0"#,
                #"?14 = "normal""#,
                #"?15 = 1"#,
                #"?16 = "high""#,
                #"?17 = 2"#,
                #"?18 = "urgent""#,
                #"?19 = 3"#,
                #"?20 = 3"#,
                #"?21 = 1"#,
            ])
    }

    @Test func aScopedReadAsANonAdmin() throws {
        let engine = try SampleDatabase.engine(user: "bob")
        let (sql, values) = try Self.explained(engine, "find deals name, account where amount > 1000")
        #expect(
            sql
                == #"SELECT t0."name", t1.name FROM "deals" AS t0 LEFT JOIN "accounts" AS t1 ON t1.id = t0."account_id" WHERE t0."amount" > ? AND t0."owner_id" = ? ORDER BY t0.rowid"#
        )
        #expect(
            values == [
                #"?1 = 100000"#,
                #"?2 = 4"#,
            ])
    }

    @Test func updateWritesHistoryThenData() throws {
        let engine = try SampleDatabase.engine()
        let statements = try Self.traced(engine, "update deals where stage = prospecting and amount < 1000 set stage = lost")
        #expect(
            statements == [
                #"INSERT INTO "change_sets" ("user_id", "impersonator_id", "command", "records", "created_at") VALUES (1, NULL, 'update deals where stage = prospecting and amount < 1000 set stage = lost', 0, '2026-11-22T10:00:00Z')"#,
                #"INSERT INTO "field_history" ("change_set_id", "entity", "record_id", "op", "field", "old_value", "new_value", "user_id", "changed_at", "old_updated_at") SELECT 1, 'deals', t0.id, 'update', 'stage', t0."stage", 'lost', 1, '2026-11-22T10:00:00Z', t0."updated_at" FROM "deals" AS t0 WHERE ('lost' IS NOT t0."stage") AND (t0."stage" = 'prospecting' AND t0."amount" < 100000)"#,
                #"UPDATE "deals" AS t0 SET "stage" = 'lost', "updated_at" = '2026-11-22T10:00:00Z' WHERE ('lost' IS NOT t0."stage") AND (t0."stage" = 'prospecting' AND t0."amount" < 100000)"#,
            ])
    }

    @Test func deleteWritesHistoryThenDeletes() throws {
        let engine = try SampleDatabase.engine()
        let statements = try Self.traced(engine, "delete task 1")
        // The doomed records' numbers, found once; the change set, one history row holding every
        // field's old value, the delete, the summary.
        #expect(
            statements == [
                #"INSERT INTO "rolo_doomed_1" ("id") SELECT t0.id FROM "tasks" AS t0 WHERE t0.id = 1"#,
                #"INSERT INTO "change_sets" ("user_id", "impersonator_id", "command", "records", "created_at") VALUES (1, NULL, 'delete task 1', 0, '2026-11-22T10:00:00Z')"#,
                #"INSERT INTO "field_history" ("change_set_id", "entity", "record_id", "op", "field", "old_value", "new_value", "user_id", "changed_at", "old_updated_at") SELECT 1, 'tasks', t0.id, 'delete', '*', json_object('id', t0."id", 'title', t0."title", 'status', t0."status", 'due_date', t0."due_date", 'assignee_id', t0."assignee_id", 'contact_id', t0."contact_id", 'account_id', t0."account_id", 'lead_id', t0."lead_id", 'deal_id', t0."deal_id", 'ticket_id', t0."ticket_id", 'completed_at', t0."completed_at", 'owner_id', t0."owner_id", 'created_at', t0."created_at", 'updated_at', t0."updated_at"), NULL, 1, '2026-11-22T10:00:00Z', NULL FROM "tasks" AS t0 WHERE t0.id IN (SELECT "id" FROM "rolo_doomed_1")"#,
                #"DELETE FROM "tasks" AS t0 WHERE t0.id IN (SELECT "id" FROM "rolo_doomed_1")"#,
                #"UPDATE "change_sets" SET "records" = 1, "summary" = 'deleted 1 task' WHERE "id" = 1"#,
            ])
    }

    @Test func createInsertsTheRecordAndItsHistory() throws {
        let engine = try SampleDatabase.engine()
        let statements = try Self.traced(engine, "create team Research")
        #expect(
            statements == [
                #"INSERT INTO "teams" ("name", "created_at") VALUES ('Research', '2026-11-22T10:00:00Z')"#,
                #"INSERT INTO "change_sets" ("user_id", "impersonator_id", "command", "records", "created_at") VALUES (1, NULL, 'create team Research', 0, '2026-11-22T10:00:00Z')"#,
                #"INSERT INTO "field_history" ("change_set_id", "entity", "record_id", "op", "field", "old_value", "new_value", "user_id", "changed_at", "old_updated_at") SELECT 1, 'teams', t0.id, 'create', '*', NULL, json_object('name', t0."name", 'created_at', t0."created_at"), 1, '2026-11-22T10:00:00Z', NULL FROM "teams" AS t0 WHERE t0.id = 7"#,
                #"UPDATE "change_sets" SET "records" = 1, "summary" = 'created 1 team' WHERE "id" = 1"#,
            ])
    }

    @Test func undoRestoresOldValues() throws {
        let engine = try SampleDatabase.engine()
        _ = run(engine, "update contact 42 set title = \"COO\"")
        let statements = try Self.traced(engine, "undo")
        #expect(
            statements == [
                #"INSERT INTO "change_sets" ("user_id", "impersonator_id", "command", "records", "created_at") VALUES (1, NULL, 'undo', 0, '2026-11-22T10:00:00Z')"#,
                #"INSERT INTO "field_history" ("change_set_id", "entity", "record_id", "op", "field", "old_value", "new_value", "user_id", "changed_at", "old_updated_at") SELECT 2, 'contacts', t0.id, 'update', 'title', t0."title", (SELECT h."old_value" FROM "field_history" AS h WHERE h."entity" = 'contacts' AND h."record_id" = t0.id AND h."field" = 'title' AND h."change_set_id" = 1 AND h."op" = 'update' ORDER BY h.id LIMIT 1), 1, '2026-11-22T10:00:00Z', t0."updated_at" FROM "contacts" AS t0 WHERE ((SELECT h."old_value" FROM "field_history" AS h WHERE h."entity" = 'contacts' AND h."record_id" = t0.id AND h."field" = 'title' AND h."change_set_id" = 1 AND h."op" = 'update' ORDER BY h.id LIMIT 1) IS NOT t0."title") AND t0.id IN (SELECT h."record_id" FROM (SELECT r."id", r."record_id", r."field", r."old_value" FROM "field_history" AS r LEFT JOIN (SELECT c."record_id", min(c.id) AS "first" FROM "field_history" AS c WHERE c."change_set_id" = 1 AND c."entity" = 'contacts' AND c."op" = 'create' GROUP BY c."record_id") AS f ON f."record_id" = r."record_id" WHERE r."change_set_id" = 1 AND r."entity" = 'contacts' AND r."op" = 'update' AND (f."first" IS NULL OR r.id < f."first") AND r."field" = 'title') AS h)"#,
                #"UPDATE "contacts" AS t0 SET "title" = (SELECT h."old_value" FROM "field_history" AS h WHERE h."entity" = 'contacts' AND h."record_id" = t0.id AND h."field" = 'title' AND h."change_set_id" = 1 AND h."op" = 'update' ORDER BY h.id LIMIT 1), "updated_at" = (CASE WHEN EXISTS (SELECT 1 FROM "field_history" AS l WHERE l."entity" = 'contacts' AND l."record_id" = t0.id AND l."change_set_id" > 1 AND l."change_set_id" NOT IN (SELECT "id" FROM "rolo_undo_dead") AND l."change_set_id" IS NOT 2) THEN t0."updated_at" ELSE coalesce((SELECT h."old_updated_at" FROM "field_history" AS h WHERE h."entity" = 'contacts' AND h."record_id" = t0.id AND h."op" = 'update' AND h."change_set_id" > coalesce((SELECT max(x."change_set_id") FROM "field_history" AS x WHERE x."entity" = 'contacts' AND x."record_id" = t0.id AND x."change_set_id" < 1 AND x."change_set_id" NOT IN (SELECT "id" FROM "rolo_undo_dead")), 0) ORDER BY h.id LIMIT 1), '2026-11-22T10:00:00Z') END) WHERE ((SELECT h."old_value" FROM "field_history" AS h WHERE h."entity" = 'contacts' AND h."record_id" = t0.id AND h."field" = 'title' AND h."change_set_id" = 1 AND h."op" = 'update' ORDER BY h.id LIMIT 1) IS NOT t0."title") AND t0.id IN (SELECT h."record_id" FROM (SELECT r."id", r."record_id", r."field", r."old_value" FROM "field_history" AS r LEFT JOIN (SELECT c."record_id", min(c.id) AS "first" FROM "field_history" AS c WHERE c."change_set_id" = 1 AND c."entity" = 'contacts' AND c."op" = 'create' GROUP BY c."record_id") AS f ON f."record_id" = r."record_id" WHERE r."change_set_id" = 1 AND r."entity" = 'contacts' AND r."op" = 'update' AND (f."first" IS NULL OR r.id < f."first") AND r."field" = 'title') AS h)"#,
                #"UPDATE "change_sets" SET "undone_by_id" = 2 WHERE "id" = 1"#,
                #"UPDATE "change_sets" SET "undoes_id" = 1 WHERE "id" = 2"#,
                #"UPDATE "change_sets" SET "records" = 1, "summary" = 'reverted 1 record' WHERE "id" = 2"#,
            ])
    }
}

/// Issue 20's forms: having, an expression in a field list, a related field in set.
@Suite("Compiled SQL of the query-language forms")
struct CompiledQueryLanguageSQLTests {
    @Test func having() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try CompiledSQLTests.explained(engine, "sum deals.amount by stage having sum > $100,000 and count > 1")
        #expect(
            sql
                == #"SELECT t0."stage", total(t0."amount") FROM "deals" AS t0 GROUP BY t0."stage" HAVING (total(t0."amount") > ? AND count(*) > ?) ORDER BY 2 DESC, 1"#
        )
        #expect(values == [#"?1 = 10000000"#, #"?2 = 1"#])
    }

    @Test func anExpressionInAFieldList() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try CompiledSQLTests.explained(engine, #"find contacts id, coalesce(phone, "none") where id < 3"#)
        #expect(sql == #"SELECT t0."id", coalesce(t0."phone", ?) FROM "contacts" AS t0 WHERE t0."id" < ? ORDER BY t0.rowid"#)
        #expect(values == [#"?1 = "none""#, #"?2 = 3"#])
    }

    @Test func aRelatedFieldInSet() throws {
        let engine = try SampleDatabase.engine()
        let statements = try CompiledSQLTests.traced(engine, "update contacts where id = 1 set company = account.name")
        // The value is a subquery over the scope's joins, correlated with the row: the history
        // reads it before the UPDATE writes it.
        let value = #"(SELECT t1."name" FROM (SELECT 1) LEFT JOIN "accounts" AS t1 ON t1.id = t0."account_id")"#
        #expect(
            statements == [
                #"INSERT INTO "change_sets" ("user_id", "impersonator_id", "command", "records", "created_at") VALUES (1, NULL, 'update contacts where id = 1 set company = account.name', 0, '2026-11-22T10:00:00Z')"#,
                #"INSERT INTO "field_history" ("change_set_id", "entity", "record_id", "op", "field", "old_value", "new_value", "user_id", "changed_at", "old_updated_at") SELECT 1, 'contacts', t0.id, 'update', 'company', t0."company", "#
                    + value + #", 1, '2026-11-22T10:00:00Z', t0."updated_at" FROM "contacts" AS t0 WHERE ("# + value
                    + #" IS NOT t0."company") AND t0."id" = 1"#,
                #"UPDATE "contacts" AS t0 SET "company" = "# + value + #", "updated_at" = '2026-11-22T10:00:00Z' WHERE ("# + value
                    + #" IS NOT t0."company") AND t0."id" = 1"#,
                #"UPDATE "change_sets" SET "records" = 1, "summary" = 'updated 1 contact' WHERE "id" = 1"#,
            ])
    }
}

/// Issue 21's chains: lists of values gathered, long lists as one JSON value, other chains a
/// balanced tree whose depth grows with the logarithm of their length.
@Suite("Compiled SQL of chains")
struct CompiledChainSQLTests {
    @Test func equalitiesOnOneFieldAreOneList() throws {
        let engine = try SampleDatabase.engine()
        let (sql, values) = try CompiledSQLTests.explained(
            engine, #"count contacts where id = 1 or email = "A@x.io" or id = 2 or id in (3, 4) or email = "b@x.io" or id > 9"#)
        #expect(
            sql
                == #"SELECT count(*) FROM "contacts" AS t0 WHERE (t0."id" IN (?, ?, ?, ?) OR t0."email" COLLATE NOCASE IN (?, ?) OR t0."id" > ?)"#
        )
        #expect(values == [#"?1 = 1"#, #"?2 = 2"#, #"?3 = 3"#, #"?4 = 4"#, #"?5 = "A@x.io""#, #"?6 = "b@x.io""#, #"?7 = 9"#])
        // `!=` and `not in` under `and`: none of the values, empty values included.
        let (nots, _) = try CompiledSQLTests.explained(engine, #"count contacts where company != "A" and company not in ("B") and id = 3"#)
        #expect(nots == #"SELECT count(*) FROM "contacts" AS t0 WHERE (NOT coalesce(t0."company" IN (?, ?), 0) AND t0."id" = ?)"#)
        // One term alone, and `=` under `and`, stay as written.
        let (one, _) = try CompiledSQLTests.explained(engine, "count contacts where id = 1 and id = 2")
        #expect(one == #"SELECT count(*) FROM "contacts" AS t0 WHERE (t0."id" = ? AND t0."id" = ?)"#)
    }

    @Test func aLongListIsOneJSONValue() throws {
        let engine = try SampleDatabase.engine()
        let n = Sql.longList + 1
        let (sql, values) = try CompiledSQLTests.explained(
            engine, "count contacts where " + (1...n).map { "id = \($0)" }.joined(separator: " or "))
        #expect(sql == #"SELECT count(*) FROM "contacts" AS t0 WHERE (t0."id" IN (SELECT value FROM json_each(?)))"#)
        #expect(values == [#"?1 = "[\#((1...n).map(String.init).joined(separator: ","))]""#])
        // Texts as JSON strings, escaped; a list of exactly `longList` keeps one value each.
        let names = (1...n).map { #"company = "Q\"\\\#($0)""# }.joined(separator: " or ")
        let (_, texts) = try CompiledSQLTests.explained(engine, "count contacts where " + names)
        #expect(texts.count == 1 && texts[0].hasPrefix(#"?1 = "[\"Q\\\"\\\\1\","#))
        let (_, short) = try CompiledSQLTests.explained(
            engine, "count contacts where id in (" + (1...Sql.longList).map(String.init).joined(separator: ", ") + ")")
        #expect(short.count == Sql.longList)
    }

    /// 10,000 tests that are not lists: a balanced tree of brackets, depth log2(10,000 / 8) + 1,
    /// with each test's values once, in order.
    @Test func otherChainsAreBalancedTrees() throws {
        let engine = try SampleDatabase.engine()
        let n = 10_000
        let (sql, values) = try CompiledSQLTests.explained(
            engine, "count contacts where " + (0..<n).map { "title contains \"t\($0)\"" }.joined(separator: " or "))
        var depth = 0
        var deepest = 0
        for character in sql.utf8 {
            if character == UInt8(ascii: "(") { depth += 1; deepest = max(deepest, depth) }
            if character == UInt8(ascii: ")") { depth -= 1 }
        }
        #expect(depth == 0)
        // count( and rolo_match( add a level each to the tree's 12.
        #expect(deepest <= 14, "\(deepest) deep")
        #expect(values.count == 2 * n)
        #expect(values[2] == #"?3 = "t1""#)
    }
}
