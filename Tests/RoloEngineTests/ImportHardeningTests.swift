import Foundation
import GRDB
import RoloStore
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloEngine

/// What an attacker found in import and the files Rolo writes (issue 19): the rejects file over
/// the open database, sources that never end, keys that crashed, NUL bytes, hidden keys, the
/// rejects file's columns and formulas, and messages that echoed megabytes.
@Suite("Import and output-file hardening")
struct ImportHardeningTests {
    static func write(_ text: String, name: String = "in.csv", in folder: String? = nil) throws -> String {
        let folder = try folder ?? SampleDatabase.temporaryFolder()
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    static let goodFile = """
        first_name,last_name,email
        Ana,Ruiz,ana@new.io
        Ben,Okafor,not-an-email
        """

    // MARK: - 1. One policy for every file Rolo writes

    /// The database, its write-ahead log and shared memory, its journal and the audit spool — by
    /// their own names, spelled another way, or through a hard link — are never written, even with
    /// --force, by import's rejects file or by export; the database is left byte for byte.
    @Test func noCommandWritesTheOpenDatabaseOrItsFiles() throws {
        let engine = try SampleDatabase.engine()
        let database = engine.store.path
        let folder = URL(fileURLWithPath: database).deletingLastPathComponent().path
        let source = try Self.write(Self.goodFile, in: folder)
        // A rejects file must end in .csv, .tsv or .txt: hard links give the database such names.
        let linked = folder + "/linked.csv"
        #expect(link(database, linked) == 0)
        let targets = [
            database, folder + "/./" + URL(fileURLWithPath: database).lastPathComponent, linked,
        ]
        try engine.store.checkpoint()
        let before = try snapshot(engine.store)
        let databaseBytes = Self.bytes(database)
        for target in targets {
            let rejected = run(engine, "import contacts from \"\(source)\" --skip-bad \"\(target)\" --force")
            #expect(rejected.error?.code == (target == linked ? .fileUnwritable : .usage), "\(target)")
            let exported = run(engine, "export contacts to \"\(target)\" --force")
            #expect(exported.error != nil, "export to \(target)")
        }
        #expect(try snapshot(engine.store) == before)
        #expect(Self.bytes(database) == databaseBytes)
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts") == 3000)
    }

    /// A database whose own name has a rejects file's ending, and its companions: each refused by
    /// name (they need not exist) or by identity.
    @Test func companionsOfTheDatabaseAreRefusedByName() throws {
        let folder = try SampleDatabase.temporaryFolder()
        let path = folder + "/crm.csv"
        try FileManager.default.copyItem(atPath: try SampleDatabase.freshCopy(), toPath: path)
        let engine = try Engine(store: try CRMStore.open(path: path), clock: SampleDatabase.clock, user: "admin")
        let source = try Self.write(Self.goodFile, in: folder)
        let before = Self.bytes(path)
        for target in [path, "\(folder)/../\(URL(fileURLWithPath: folder).lastPathComponent)/crm.csv"] {
            let result = run(engine, "import contacts from \"\(source)\" --skip-bad \"\(target)\" --force")
            #expect(result.error?.code == .fileUnwritable, "\(target)")
            #expect(result.error?.message.contains("the open database") == true, "\(result.error?.message ?? "")")
            let export = run(engine, "export contacts to \"\(target)\" --force")
            #expect(export.error?.code == .fileUnwritable)
        }
        #expect(Self.bytes(path) == before)
        // The files SQLite and Rolo keep beside it, existing or not, through the protected list.
        let protected = engine.protectedFiles
        for suffix in ["-wal", "-shm", "-journal", "-audit-spool"] {
            #expect(protected.names.contains(try #require(OutputFile.NamedEntry(path: path + suffix))), "\(suffix)")
        }
    }

    /// The kind's ending; symbolic links, FIFOs and folders are never written through, even with
    /// --force; an existing file needs --force; a refused rejects file is refused before any row is read.
    @Test func theOutputPolicyRefusesLinksFIFOsAndWrongEndings() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        let source = try Self.write(Self.goodFile, in: folder)
        let victim = try Self.write("keep me\n", name: "victim.csv", in: folder)
        #expect(symlink(victim, folder + "/link.csv") == 0)
        #expect(mkfifo(folder + "/fifo.csv", 0o600) == 0)
        let before = try snapshot(engine.store)
        for (target, expected) in [
            ("link.csv", "symbolic link"), ("fifo.csv", "FIFO"), ("rejects.db", ".csv, .tsv or .txt"),
        ] {
            let result = run(engine, "import contacts from \"\(source)\" --skip-bad \"\(folder)/\(target)\" --force")
            #expect(result.error?.message.contains(expected) == true, "\(target): \(result.error?.message ?? "no error")")
            let preview = run(engine, "import contacts from \"\(source)\" --skip-bad \"\(folder)/\(target)\" --dry-run")
            #expect(preview.error != nil, "dry-run \(target)")
        }
        for target in ["link.csv", "fifo.csv"] {
            let export = run(engine, "export contacts to \"\(folder)/\(target)\" --force")
            #expect(export.error?.code == .fileUnwritable, "\(target)")
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
        #expect(try snapshot(engine.store) == before)
        // An existing regular file needs --force, and then is replaced.
        let existing = run(engine, "import contacts from \"\(source)\" --skip-bad \"\(victim)\"")
        #expect(existing.error?.code == .fileExists)
        let forced = run(engine, "import contacts from \"\(source)\" --skip-bad \"\(victim)\" --force")
        #expect(forced.error == nil, "\(forced.error?.message ?? "")")
        #expect(try String(contentsOfFile: victim, encoding: .utf8).hasPrefix("first_name,last_name,email,error\n"))
    }

    /// A source that is not a regular file is refused at once: /dev/zero never ends, a FIFO would
    /// wait for a writer forever.
    @Test func importReadsRegularFilesOnly() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        #expect(mkfifo(folder + "/pipe.csv", 0o600) == 0)
        for (source, what) in [("/dev/zero", "a device"), (folder + "/pipe.csv", "a FIFO"), (folder, "a folder")] {
            let result = run(engine, "import contacts from \"\(source)\"")
            #expect(result.error?.code == .fileUnreadable, "\(source)")
            #expect(result.error?.message.contains(what) == true, "\(result.error?.message ?? "")")
        }
    }

    // MARK: - 3. Keys on every field: no crash

    static func scalar<T: DatabaseValueConvertible>(_ engine: Engine, _ sql: String) throws -> T? {
        try engine.store.dbQueue.inDatabase { try T.fetchOne($0, sql: sql) }
    }

    /// `key FIELD` for every field of every importable entity, with rows matching no record, one,
    /// several, and (for sam, a sales manager) one outside the update scope: each import ends in
    /// its report or a Rolo error, never a crash or a raw database error; a key matching several
    /// records names how many.
    @Test func keysOnEveryFieldOfEveryEntityNeverCrash() throws {
        for entity in CRMSchema.entities where entity.kind == .domain {
            let admin = try SampleDatabase.engine()
            let sam = try Engine(store: admin.store, clock: SampleDatabase.clock, user: "sam")
            for field in entity.fields where !field.system || field.name == "id" {
                let name = field.relationName ?? field.name
                let values = try admin.store.dbQueue.inDatabase { db in
                    let column = field.quotedName
                    let one = try DatabaseValue.fetchOne(
                        db, sql: "SELECT \(column) FROM \(entity.name) WHERE \(column) IS NOT NULL GROUP BY \(column) HAVING count(*) = 1 LIMIT 1")
                    let several = try DatabaseValue.fetchOne(
                        db, sql: "SELECT \(column) FROM \(entity.name) WHERE \(column) IS NOT NULL GROUP BY \(column) HAVING count(*) > 1 LIMIT 1")
                    return [one, several].compactMap { $0 }
                }
                var cells = values.map { ValueFormatter.raw($0, field.referencedEntity == nil ? field.type : .integer) }
                cells.append(field.type.isTextual ? "nobody-has-this@nowhere.example" : "987654321")
                let text = ([name] + cells.map { ValueFormatter.csvField($0) }).joined(separator: "\n") + "\n"
                let path = try Self.write(text)
                for (engine, user) in [(admin, "admin"), (sam, "sam")] {
                    for options in ["--dry-run", "--skip-bad \"\(path).rejects.csv\" --force --dry-run", ""] {
                        let result = run(engine, "import \(entity.name) from \"\(path)\" key \(name) \(options)")
                        if let error = result.error {
                            #expect(
                                error.code != .constraintViolated,
                                "\(user): import \(entity.name) key \(name) \(options): \(error.message)")
                        }
                    }
                }
                if field.name != "id", values.count == 2 {
                    let several = try Self.write("\(name)\n\(ValueFormatter.csvField(cells[1]))\n")
                    let result = run(admin, "import \(entity.name) from \"\(several)\" key \(name) --dry-run")
                    let said = result.output + (result.error?.message ?? "")
                    #expect(said.contains("the key must pick one"), "\(entity.name).\(name): \(said)")
                }
            }
        }
    }

    /// The crash as found: `key account` where the account names several contacts, and a sales
    /// manager matching a record outside the team; each is a bad row naming the value as the file gave it.
    @Test func keyAccountMatchingSeveralContactsIsABadRow() throws {
        let engine = try SampleDatabase.engine()
        let account: String = try #require(
            try Self.scalar(
                engine,
                "SELECT a.name FROM accounts a JOIN contacts c ON c.account_id = a.id GROUP BY a.id HAVING count(*) > 1 ORDER BY a.id LIMIT 1"
            ))
        let path = try Self.write("account,title\n\(ValueFormatter.csvField(account)),Boss\n")
        let before = try snapshot(engine.store)
        let result = run(engine, "import contacts from \"\(path)\" key account")
        #expect(result.error?.code == .invalidValue)
        #expect(result.error?.message.contains("column \"account\": \(ChangeRecorder.quoted(account)) matches") == true, "\(result.error?.message ?? "")")
        #expect(try snapshot(engine.store) == before)
    }

    // MARK: - 4. NUL bytes

    /// A NUL in a cell is E111 at file:line and column, as everywhere else; with --skip-bad the row
    /// is set aside and the rest imports; in the header it refuses the file.
    @Test func nulBytesAreRefusedWithTheirPlace() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        let path = try Self.write("first_name,last_name,email\nAna,Ruiz,ana@new.io\nEve,Nul,eve@x.io\u{0}evil\n", in: folder)
        let before = try snapshot(engine.store)
        let refused = run(engine, "import contacts from \"\(path)\"")
        #expect(refused.error?.code == .nulCharacter)
        #expect(refused.error?.message.hasPrefix("\(path):3: column \"email\": ") == true, "\(refused.error?.message ?? "")")
        #expect(try snapshot(engine.store) == before)
        let skipped = run(engine, "import contacts from \"\(path)\" --skip-bad \"\(folder)/rejects.csv\"")
        #expect(skipped.error == nil, "\(skipped.error?.message ?? "")")
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE email LIKE 'eve@%'") == 0)
        #expect(try Self.scalar(engine, "SELECT count(*) FROM contacts WHERE email = 'ana@new.io'") == 1)
        let header = try Self.write("first_name,last\u{0}name,email\nAna,Ruiz,ana@new.io\n", in: folder)
        let headerResult = run(engine, "import contacts from \"\(header)\" --skip-bad \"\(folder)/r2.csv\"")
        #expect(headerResult.error?.code == .nulCharacter)
        #expect(headerResult.error?.message.hasPrefix("\(header):1: ") == true, "\(headerResult.error?.message ?? "")")
    }

    // MARK: - 5. Hidden fields as keys

    /// A key, like a filter, is a field the user may read: matching by a hidden email would tell
    /// which record holds it.
    @Test func aHiddenFieldCannotBeTheKey() throws {
        let engine = try SampleDatabase.engine()
        for command in [
            "create role importer",
            "allow importer read contacts scope all", "allow importer import contacts scope all",
            "allow importer create contacts scope all", "allow importer update contacts scope all",
            "deny importer read contacts.email", "create user ivy name=\"Ivy Import\" team=analytics", "grant importer to ivy",
        ] {
            let result = run(engine, command)
            #expect(result.error == nil, "\(command): \(result.error?.message ?? "")")
        }
        let email: String = try #require(try Self.scalar(engine, "SELECT email FROM contacts WHERE id = 7"))
        let path = try Self.write("email,title\n\(email),Spy\n")
        let ivy = try Engine(store: engine.store, clock: SampleDatabase.clock, user: "ivy")
        let before = try snapshot(engine.store)
        for options in ["--dry-run", ""] {
            let result = run(ivy, "import contacts from \"\(path)\" key email \(options)")
            #expect(result.error?.code == .permissionDenied, "\(options): \(result.error?.message ?? "none")")
            #expect(!result.output.contains("update 1"), "\(result.output)")
        }
        #expect(try snapshot(engine.store) == before)
    }

    // MARK: - 9. The rejects file and messages

    /// Rows with too few or too many cells keep the error in the error column (the extra cells are
    /// named in it); cells a spreadsheet would run are neutralised as export does.
    @Test func rejectsFileKeepsItsColumnsAndNeutralisesFormulas() throws {
        let engine = try SampleDatabase.engine()
        let folder = try SampleDatabase.temporaryFolder()
        let path = try Self.write(
            """
            first_name,last_name,email
            Short,Row
            Long,Row,long@x.io,extra,more
            =HYPERLINK("http://evil"),Formula,not-an-email
            Good,Row,good@x.io

            """, in: folder)
        let result = run(engine, "import contacts from \"\(path)\" --skip-bad \"\(folder)/rejects.csv\"")
        #expect(result.error == nil, "\(result.error?.message ?? "")")
        let rejects = try String(contentsOfFile: folder + "/rejects.csv", encoding: .utf8)
        let lines = rejects.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(rejects)")
        #expect(lines[0] == "first_name,last_name,email,error")
        #expect(lines[1] == "Short,Row,,the row has 2 columns; the header has 3", "\(lines[1])")
        #expect(lines[2] == "Long,Row,long@x.io,\"the row has 5 columns; the header has 3 (the extra cells: \"\"extra\"\", \"\"more\"\")\"", "\(lines[2])")
        #expect(lines[3].hasPrefix("\"'=HYPERLINK(\"\"http://evil\"\")\",Formula,not-an-email,"), "\(lines[3])")
    }

    /// A huge header cell is quoted in a message cut to about 80 characters, and a header line
    /// over a megabyte is refused before it is read whole.
    @Test func hugeHeadersAreCutAndRefused() throws {
        let engine = try SampleDatabase.engine()
        let big = String(repeating: "x", count: 200_000)
        let path = try Self.write("first_name,\(big)\nAna,1\n")
        let result = run(engine, "import contacts from \"\(path)\"")
        #expect(result.error?.code == .unmappedColumn)
        let said = (result.error?.message ?? "") + (result.error?.help ?? "")
        #expect(said.count < 600, "\(said.count) characters")
        let huge = try Self.write("first_name," + String(repeating: "y", count: 2_000_000) + "\nAna,1\n")
        let refused = run(engine, "import contacts from \"\(huge)\"")
        #expect(refused.error?.code == .importFileMalformed)
        #expect(refused.error?.message.contains("header") == true, "\(refused.error?.message ?? "")")
        #expect((refused.error?.message.count ?? 0) < 400)
    }
}
