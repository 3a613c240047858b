import Foundation
import GRDB
import RoloEngine
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

/// `export … to FILE`: the file holds what `find … as csv|json` prints, written whole or not at
/// all, never over an existing file without --force, formulas neutralised.
@Suite("Export")
struct ExportTests {
    static func folder() throws -> String { try SampleDatabase.temporaryFolder() }

    static func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// With --raw, the file is byte for byte what `find … as csv` prints (JSON likewise).
    @Test func rawExportEqualsFindAsCSV() throws {
        let engine = try SampleDatabase.engine()
        let dir = try Self.folder()
        let query = #"contacts first_name, last_name, email, phone, account.name where title contains "VP" order by id"#
        let found = run(engine, "find \(query) as csv")
        let exported = run(engine, "export \(query) to \"\(dir)/vp.csv\" --raw")
        #expect(exported.error == nil)
        #expect(try String(contentsOfFile: dir + "/vp.csv", encoding: .utf8) == found.output)
        let rows = found.output.split(separator: "\n").count - 1
        #expect(rows > 10)
        #expect(exported.output == "exported \(rows) contacts to \(dir)/vp.csv (\(Self.kilobytes(found.output)))\n")
        let json = run(engine, "find \(query) as json").output
        #expect(run(engine, "export \(query) to \"\(dir)/vp.json\"").error == nil)
        #expect(try String(contentsOfFile: dir + "/vp.json", encoding: .utf8) == json)
        #expect(Self.contents(dir) == ["vp.csv", "vp.json"])
    }

    static func kilobytes(_ text: String) -> String {
        let bytes = text.utf8.count
        return bytes < 1024 ? "\(bytes) bytes" : "\((bytes + 512) / 1024) KB"
    }

    /// Neutralised cells are exactly the text cells starting with = + - @ tab or CR, each with one
    /// apostrophe more than the raw export; nothing else differs.
    @Test func formulaCellsAreNeutralised() throws {
        let engine = try SampleDatabase.engine()
        let dir = try Self.folder()
        #expect(run(engine, #"update contact 3 set title = "=HYPERLINK(\"http://x\")""#).error == nil)
        #expect(run(engine, #"update contact 4 set title = "@SUM(A1)""#).error == nil)
        let query = "contacts id, title, phone, country where id <= 40 order by id"
        #expect(run(engine, "export \(query) to \"\(dir)/safe.csv\"").error == nil)
        #expect(run(engine, "export \(query) to \"\(dir)/raw.csv\" --raw").error == nil)
        let safe = try String(contentsOfFile: dir + "/safe.csv", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let raw = try String(contentsOfFile: dir + "/raw.csv", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(safe.count == raw.count)
        var neutralised = 0
        for (s, r) in zip(safe, raw) where s != r {
            let rawCells = r.split(separator: ",", omittingEmptySubsequences: false)
            let safeCells = s.split(separator: ",", omittingEmptySubsequences: false)
            for (sc, rc) in zip(safeCells, rawCells) where sc != rc {
                let unquoted = rc.hasPrefix("\"") ? rc.dropFirst() : rc[...]
                #expect(["=", "+", "-", "@"].contains(unquoted.first.map(String.init) ?? ""), "\(rc)")
                #expect(sc == (rc.hasPrefix("\"") ? "\"'" + unquoted : "'" + rc), "\(sc) vs \(rc)")
                neutralised += 1
            }
        }
        // Two titles, and the phones (+1 555 …) a spreadsheet would read as a sum.
        #expect(neutralised >= 2)
        let independent = try engine.store.dbQueue.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT sum(coalesce(substr(title,1,1) IN ('=','+','-','@'), 0) + coalesce(substr(phone,1,1) IN ('=','+','-','@'), 0))
                    FROM contacts WHERE id <= 40
                    """) ?? 0
        }
        #expect(neutralised == independent)
    }

    @Test func anExistingFileIsKeptUnlessForced() throws {
        let engine = try SampleDatabase.engine()
        let dir = try Self.folder()
        let path = dir + "/deals.csv"
        try "keep me\n".write(toFile: path, atomically: true, encoding: .utf8)
        let refused = run(engine, "export deals to \"\(path)\"")
        #expect(refused.error?.code == .fileExists)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me\n")
        #expect(Self.contents(dir) == ["deals.csv"])
        let forced = run(engine, "export deals to \"\(path)\" --force")
        #expect(forced.error == nil)
        #expect(
            try String(contentsOfFile: path, encoding: .utf8)
                == run(engine, "find deals as csv").output.replacingOccurrences(of: "\n\n", with: "\n"))
        #expect(Self.contents(dir) == ["deals.csv"])
    }

    /// A failure while rows are written (here money overflowing at run time) leaves nothing behind.
    @Test func aFailureLeavesNoFile() throws {
        let engine = try SampleDatabase.engine()
        let dir = try Self.folder()
        let failed = run(engine, "export deals id, name where amount * (id * 1000000000000000) > $0 to \"\(dir)/half.csv\"")
        #expect(failed.error != nil)
        #expect(Self.contents(dir) == [])
        #expect(run(engine, "export deals to \"\(dir)/nope/x.csv\"").error?.code == .fileUnwritable)
        #expect(run(engine, "export deals to \"\(dir)\"").error != nil)
        #expect(run(engine, "export deals to \"\(dir)/deals.txt\"").error?.code == .usage)
        #expect(Self.contents(dir) == [])
    }

    /// The export right decides, as for `find … as csv`; a refusal writes nothing and is audited.
    @Test func needsTheExportRight() throws {
        let engine = try SampleDatabase.engine(user: "bob")
        let dir = try Self.folder()
        #expect(run(engine, "export deals to \"\(dir)/d.csv\"").error?.code == .permissionDenied)
        #expect(Self.contents(dir) == [])
        let outcome = try engine.store.dbQueue.read { db in
            try String.fetchOne(db, sql: "SELECT outcome FROM audit_log ORDER BY id DESC LIMIT 1")
        }
        #expect(outcome == "refused")
    }

    @Test func jsonLinesHoldOneObjectPerRow() throws {
        let engine = try SampleDatabase.engine()
        let dir = try Self.folder()
        let result = run(engine, "export tickets where priority = urgent to \"\(dir)/t.jsonl\"")
        #expect(result.error == nil)
        let lines = try String(contentsOfFile: dir + "/t.jsonl", encoding: .utf8).split(separator: "\n")
        let expected = try engine.store.dbQueue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM tickets WHERE priority = 'urgent'") }
        #expect(lines.count == expected)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["priority"] as? String == "urgent")
        }
        let rows = try engine.store.dbQueue.read { db in
            try Int.fetchOne(db, sql: "SELECT rows FROM audit_log WHERE command LIKE 'export tickets%' ORDER BY id DESC LIMIT 1")
        }
        #expect(rows == expected)
    }

    @Test func bomStartsTheFileWhenAsked() throws {
        let engine = try SampleDatabase.engine()
        let dir = try Self.folder()
        #expect(run(engine, "export teams to \"\(dir)/t.csv\" --bom").error == nil)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/t.csv"))
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
    }
}
