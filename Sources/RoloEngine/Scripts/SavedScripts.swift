import Crypto
import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// Saved scripts, kept in the CRM for the fixes a team runs every month: `save script`,
/// `scripts`, `show script`, `diff script`, `drop script`, `history script` (and `run script`,
/// which the `ScriptRunner` runs).
///
///     script-library := 'save' 'script' NAME 'from' (STRING | PATH) [ STRING ] | 'scripts'
///                     | 'show' 'script' NAME [ 'version' NUMBER ] | 'diff' 'script' NAME NUMBER NUMBER
///                     | 'drop' 'script' NAME | 'history' 'script' NAME
struct ScriptLibraryCommand: Command {
    enum Action: Equatable, Sendable {
        case save(name: Located<String>, file: Located<String>, description: String?)
        case list
        case show(name: Located<String>, version: Located<Int>?)
        case diff(name: Located<String>, from: Located<Int>, to: Located<Int>)
        case drop(name: Located<String>)
        case history(name: Located<String>)
    }
    var action: Action

    static let name = "scripts"
    static let forms = [
        form("save", "script") { parser, _ throws(Diagnostic) in
            let name = try parser.parseScriptName()
            guard parser.acceptWord("from") else { throw parser.failure(expected: "'from' and the script file, e.g. save script fix-acme from fix-acme.rolo") }
            let file = try parser.parseWordPath(what: "the script file to save, e.g. \"fix-acme.rolo\"")
            var description: String? = nil
            if case .string(let text) = parser.current.kind {
                description = text
                _ = parser.advance()
            }
            return ScriptLibraryCommand(action: .save(name: name, file: file, description: description))
        },
        form("scripts") { _, _ throws(Diagnostic) in ScriptLibraryCommand(action: .list) },
        form("show", "script") { parser, _ throws(Diagnostic) in
            let name = try parser.parseScriptName()
            var version: Located<Int>? = nil
            if parser.acceptWord("version") { version = try parser.parseInteger(what: "a version number") }
            return ScriptLibraryCommand(action: .show(name: name, version: version))
        },
        form("diff", "script") { parser, _ throws(Diagnostic) in
            let name = try parser.parseScriptName()
            let from = try parser.parseInteger(what: "two version numbers, e.g. diff script \(name.value) 1 2")
            let to = try parser.parseInteger(what: "a second version number, e.g. diff script \(name.value) \(from.value) \(from.value + 1)")
            return ScriptLibraryCommand(action: .diff(name: name, from: from, to: to))
        },
        form("drop", "script") { parser, _ throws(Diagnostic) in ScriptLibraryCommand(action: .drop(name: try parser.parseScriptName())) },
        form("history", "script") { parser, _ throws(Diagnostic) in
            ScriptLibraryCommand(action: .history(name: try parser.parseScriptName()))
        },
    ]
    static let synopsis =
        "save script NAME from FILE [\"DESCRIPTION\"] | scripts | show script NAME [version N] | diff script NAME N M | run script NAME [NAME=VALUE …] [--dry-run] | drop script NAME | history script NAME"
    static let summary =
        "Saved scripts, kept in the CRM: save script makes a new version and keeps the old ones, diff script compares two (saving and dropping need manage_scripts); run script checks the runner's rights on every statement, and is audited with the script's name and version."
    static let examples = ["scripts"]
    static let helpWords = ["script", "save"]
    static let actions: [PermissionAction] = [.manageScripts]

    var changesData: Bool {
        switch action {
        case .save, .drop: return true
        case .list, .show, .diff, .history: return false
        }
    }

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        switch action {
        case .save(let name, let file, let description):
            let script = try Script.load(file, from: nil, what: "script")
            if let include = script.includes.keys.sorted().first {
                throw Diagnostic(
                    .usage, "a saved script holds its whole text; \(file.value) includes \(include)", at: file.range,
                    help: "put the included file's statements into \(file.value), then save it")
            }
            return try engine.performChange(context.statement, output: context.output) { db, recorder in
                try ScriptLibrary(engine: engine, db: db).save(name, script: script, description: description, recorder: recorder)
            }
        case .drop(let name):
            return try engine.performChange(context.statement, output: context.output) { db, recorder in
                try ScriptLibrary(engine: engine, db: db).drop(name, recorder: recorder)
            }
        case .list:
            return try engine.store.dbQueue.inDatabase { db in try ScriptLibrary(engine: engine, db: db).list(context) }
        case .show(let name, let version):
            return try engine.store.dbQueue.inDatabase { db in
                let library = ScriptLibrary(engine: engine, db: db)
                let saved = try library.version(name, version)
                context.output.line(
                    "\(saved.name) version \(saved.version) of \(saved.latest), saved by \(saved.savedBy) on \(saved.savedAt)"
                        + (saved.description.map { " — \($0)" } ?? ""))
                context.output.line("")
                let body = saved.body.hasSuffix("\n") ? String(saved.body.dropLast()) : saved.body
                for line in body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                    context.output.line(line)
                }
                var result = CommandResult()
                result.rows = 1
                return result
            }
        case .diff(let name, let from, let to):
            return try engine.store.dbQueue.inDatabase { db in
                let library = ScriptLibrary(engine: engine, db: db)
                let old = try library.version(name, from)
                let new = try library.version(name, to)
                context.output.line("--- \(old.name) version \(old.version) (\(old.savedBy), \(old.savedAt))")
                context.output.line("+++ \(new.name) version \(new.version) (\(new.savedBy), \(new.savedAt))")
                let lines = LineDiff.lines(from: old.body, to: new.body)
                if old.body == new.body {
                    context.output.line("(the two versions are the same)")
                } else {
                    for line in lines { context.output.line(line.trimmingTrailingSpaces) }
                }
                var result = CommandResult()
                result.rows = lines.count
                return result
            }
        case .history(let name):
            return try engine.store.dbQueue.inDatabase { db in try ScriptLibrary(engine: engine, db: db).history(name, context) }
        }
    }
}

/// `run script NAME [NAME=VALUE …] [--dry-run]`: a saved script's newest version, run by the
/// `ScriptRunner` as a file would be, its change set and audit entry naming the script and version.
///
///     run-script := 'run' 'script' NAME { NAME '=' literal }
struct RunScriptCommand: Command, RunByScriptRunner {
    var scriptName: Located<String>
    var arguments: [(name: Located<String>, value: String)]

    static let name = "run script"
    static let forms = [
        form("run", "script") { parser, _ throws(Diagnostic) in
            RunScriptCommand(scriptName: try parser.parseScriptName(), arguments: try parser.parseParameterArguments())
        }
    ]
    static let synopsis = "run script NAME [NAME=VALUE …] [--dry-run]"
    static let summary = "Run a saved script's newest version, as `run FILE` runs a file."
    static let examples: [String] = []
    var isAudited: Bool { false }

    static func == (a: RunScriptCommand, b: RunScriptCommand) -> Bool {
        a.scriptName == b.scriptName && a.arguments.map(\.name) == b.arguments.map(\.name) && a.arguments.map(\.value) == b.arguments.map(\.value)
    }

    var given: [String: ScriptValue] {
        Dictionary(arguments.map { ($0.name.value, ScriptValue.text($0.value)) }, uniquingKeysWith: { _, last in last })
    }
}

extension Parser {
    /// A saved script's name: letters, digits, `-` and `_` (`fix-acme`, "monthly_cleanup").
    mutating func parseScriptName() throws(Diagnostic) -> Located<String> {
        let name = try parseWordPath(what: "a script's name, e.g. fix-acme")
        guard !name.value.isEmpty, name.value.count <= 64,
            name.value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else {
            throw Diagnostic(
                .invalidValue, "'\(name.value)' is not a script name", at: name.range,
                help: "a name is letters, digits, - and _ (at most 64), e.g. fix-acme")
        }
        return name
    }
}

/// A saved script's version as read.
struct SavedScriptVersion {
    let scriptID: Int64
    let name: String
    let version: Int
    /// The newest version's number.
    let latest: Int
    let body: String
    let description: String?
    let sha256: String
    let savedBy: String
    let savedAt: String
}

/// Reads and writes saved scripts, their versions and their events.
struct ScriptLibrary {
    let engine: Engine
    let db: Database

    static let scripts = CRMSchema.savedScripts
    static let versions = CRMSchema.scriptVersions
    static let events = CRMSchema.scriptEvents

    /// Saving and dropping need `manage_scripts` (admins).
    func requireManageScripts(at range: SourceRange?) throws {
        let decision = engine.decide(.manageScripts, on: Self.scripts.name)
        if let deny = decision.deniedBy {
            throw Diagnostic(.permissionDenied, "\(engine.actor.handle) may not manage_scripts", at: range, help: "denied by rule \(deny.description)")
        }
        guard decision.scope == .all else {
            throw Diagnostic(
                .permissionDenied, "\(engine.actor.handle) may not manage_scripts", at: range,
                help: "saving and dropping saved scripts is for admins (anyone may list, show and run them)")
        }
    }

    /// The script named `name` (ignoring case): its number, name as saved, and whether it is dropped.
    func find(_ name: Located<String>) throws -> (id: Int64, name: String, dropped: Bool)? {
        let query = Select(Select.columns(["id", "name"], of: "s"), from: Self.scripts.name, as: "s")
            .where(Sql.caseInsensitiveEquals(Sql.column("s", "name"), Sql.value(name.value)))
        guard let row = try Row.fetchOne(db, query.sql) else { return nil }
        let id: Int64 = try row.decode(atIndex: 0)
        let stored: String = try row.decode(atIndex: 1)
        return (id, stored, try lastAction(id) == "dropped")
    }

    /// The script's last event: saved, ran or dropped.
    func lastAction(_ id: Int64) throws -> String? {
        try String.fetchOne(
            db,
            Select(Sql.column("e", "action"), from: Self.events.name, as: "e").where(Sql.equals(Sql.column("e", "script_id"), Sql.value(id)))
                .ordered(by: Sql.order(Sql.column("e", "id"), descending: true)).limited(1).sql)
    }

    /// A script that exists and is not dropped, or the error saying why not.
    func existing(_ name: Located<String>) throws -> (id: Int64, name: String) {
        let found = try find(name)
        if let found, found.dropped {
            throw Diagnostic(
                .unknownRecord, "no saved script '\(name.value)': it was dropped", at: name.range,
                help: "history script \(found.name) shows who dropped it; saving it again brings it back as a new version")
        }
        guard let found else {
            let names = try String.fetchAll(db, Select(Sql.column("s", "name"), from: Self.scripts.name, as: "s").sql)
            throw Diagnostic(
                .unknownRecord, "no saved script '\(name.value)'", at: name.range,
                help: Suggestions.nearest(to: name.value, in: names).map { "did you mean \($0)?" } ?? "scripts lists them")
        }
        return (found.id, found.name)
    }

    func latestVersion(_ id: Int64) throws -> Int {
        try Int.fetchOne(
            db,
            Select(Sql.maximum(Sql.column("v", "version")), from: Self.versions.name, as: "v")
                .where(Sql.equals(Sql.column("v", "script_id"), Sql.value(id))).sql) ?? 0
    }

    /// Version `number` of the script (its newest when nil).
    func version(_ name: Located<String>, _ number: Located<Int>?) throws -> SavedScriptVersion {
        let (id, stored) = try existing(name)
        let latest = try latestVersion(id)
        let wanted = number?.value ?? latest
        let query = Select(
            Select.columns(["body", "description", "sha256", "created_at"], of: "v") + [Sql.column("u", "handle")],
            from: Self.versions.name, as: "v"
        )
        .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.column("u", "id"), Sql.column("v", "saved_by"))))
        .where(Sql.equals(Sql.column("v", "script_id"), Sql.value(id)))
        .where(Sql.equals(Sql.column("v", "version"), Sql.value(wanted)))
        guard let row = try Row.fetchOne(db, query.sql) else {
            throw Diagnostic(
                .unknownRecord, "\(stored) has no version \(wanted)", at: number?.range ?? name.range,
                help: "its versions are 1 to \(latest)")
        }
        return SavedScriptVersion(
            scriptID: id, name: stored, version: wanted, latest: latest, body: try row.decode(atIndex: 0), description: try row.decode(atIndex: 1),
            sha256: try row.decode(atIndex: 2), savedBy: (try row.decode(atIndex: 4) as String?) ?? "(a removed user)",
            savedAt: Self.minutes(try row.decode(atIndex: 3)))
    }

    /// `2026-11-22T10:00:00Z` as `2026-11-22 10:00`.
    static func minutes(_ time: String) -> String {
        String(time.replacingOccurrences(of: "T", with: " ").prefix(16))
    }

    func save(_ name: Located<String>, script: Script, description: String?, recorder: ChangeRecorder) throws -> ChangeOutcome {
        try requireManageScripts(at: name.range)
        let body = script.source
        let now = engine.clock.now().description.databaseValue
        let id: Int64
        if let found = try find(name) {
            id = found.id
            let fields = [Self.scripts.field(named: "body"), Self.scripts.field(named: "description")].compactMap { $0 }
            _ = try recorder.update(
                Self.scripts, filter: Sql.idEquals("t0", id),
                set: [(fields[0], Sql.value(body)), (fields[1], description.map { Sql.value($0) } ?? Sql.null)])
        } else {
            id = try recorder.insert(
                Self.scripts,
                values: [
                    ("name", name.value.databaseValue), ("body", body.databaseValue), ("description", description?.databaseValue ?? .null),
                    ("created_by", engine.actor.id.databaseValue),
                ])
        }
        let version = try latestVersion(id) + 1
        let sha = SHA256.hash(data: Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
        _ = try recorder.insert(
            Self.versions,
            values: [
                ("script_id", id.databaseValue), ("version", version.databaseValue), ("body", body.databaseValue),
                ("description", description?.databaseValue ?? .null), ("sha256", sha.databaseValue),
                ("saved_by", engine.actor.id.databaseValue), ("created_at", now),
            ])
        _ = try recorder.insert(
            Self.events,
            values: [
                ("script_id", id.databaseValue), ("version", version.databaseValue), ("action", "saved".databaseValue),
                ("user_id", engine.actor.id.databaseValue), ("created_at", now),
            ])
        var outcome = ChangeOutcome(records: 1, verb: .saved, entity: Self.scripts)
        outcome.noun = ("script", "scripts")
        outcome.showsDiffs = false
        let parameters = script.parameters.map(\.declaration.name.value)
        outcome.note =
            "\(try find(name)?.name ?? name.value) version \(version): \(script.statementCount) \(script.statementCount == 1 ? "statement" : "statements")"
            + (parameters.isEmpty ? "" : ", parameters " + parameters.joined(separator: ", "))
            + (version > 1 ? "; diff script \(name.value) \(version - 1) \(version) shows what changed" : "")
        return outcome
    }

    func drop(_ name: Located<String>, recorder: ChangeRecorder) throws -> ChangeOutcome {
        try requireManageScripts(at: name.range)
        let (id, stored) = try existing(name)
        _ = try recorder.insert(
            Self.events,
            values: [
                ("script_id", id.databaseValue), ("version", try latestVersion(id).databaseValue), ("action", "dropped".databaseValue),
                ("user_id", engine.actor.id.databaseValue), ("created_at", engine.clock.now().description.databaseValue),
            ])
        var outcome = ChangeOutcome(records: 1, verb: .dropped, entity: Self.scripts)
        outcome.noun = ("script", "scripts")
        outcome.showsDiffs = false
        outcome.note = "\(stored) is no longer listed or run; its versions and history are kept (history script \(stored))"
        return outcome
    }

    /// After a run of version `version` that is kept: its event, with the run's change set.
    func recordRun(scriptID: Int64, version: Int, changeSet: Int64?) throws {
        try db.execute(
            Insert(
                into: Self.events.name,
                [
                    ("script_id", scriptID.databaseValue), ("version", version.databaseValue), ("action", "ran".databaseValue),
                    ("user_id", engine.actor.id.databaseValue), ("change_set_id", changeSet?.databaseValue ?? .null),
                    ("created_at", engine.clock.now().description.databaseValue),
                ]
            ).sql)
    }

    func list(_ context: CommandContext) throws -> CommandResult {
        let rows = try Row.fetchAll(
            db, Select(Select.columns(["id", "name"], of: "s"), from: Self.scripts.name, as: "s").ordered(by: Sql.column("s", "name")).sql)
        var writer = ResultWriters.make(context.format, output: context.output)
        writer.begin([
            ResultColumn("script", .text), ResultColumn("version", .integer), ResultColumn("description", .text),
            ResultColumn("saved by", .text), ResultColumn("saved", .text), ResultColumn("last run", .text),
        ])
        var shown = 0
        for row in rows {
            let id: Int64 = try row.decode(atIndex: 0)
            let name: String = try row.decode(atIndex: 1)
            guard try lastAction(id) != "dropped" else { continue }
            let newest = try version(Located(name, SourceRange(.start, .start)), nil)
            let lastRun = try String.fetchOne(
                db,
                Select(Sql.column("e", "created_at"), from: Self.events.name, as: "e")
                    .where(Sql.equals(Sql.column("e", "script_id"), Sql.value(id))).where(Sql.equals(Sql.column("e", "action"), Sql.value("ran")))
                    .ordered(by: Sql.order(Sql.column("e", "id"), descending: true)).limited(1).sql)
            writer.row([
                name.databaseValue, newest.version.databaseValue, newest.description?.databaseValue ?? .null, newest.savedBy.databaseValue,
                newest.savedAt.databaseValue, lastRun.map { Self.minutes($0) }?.databaseValue ?? .null,
            ])
            shown += 1
        }
        writer.end(note: shown == 0 ? "no saved scripts yet; an admin saves one with save script NAME from FILE" : nil)
        var result = CommandResult()
        result.rows = shown
        return result
    }

    func history(_ name: Located<String>, _ context: CommandContext) throws -> CommandResult {
        guard let found = try find(name) else { _ = try existing(name); return CommandResult() }
        let query = Select(
            [
                Sql.column("e", "created_at"), Sql.column("u", "handle"), Sql.column("e", "action"), Sql.column("e", "version"),
                Sql.column("e", "change_set_id"),
            ], from: Self.events.name, as: "e"
        )
        .joining(Sql.leftJoin("users", as: "u", on: Sql.equals(Sql.column("u", "id"), Sql.column("e", "user_id"))))
        .where(Sql.equals(Sql.column("e", "script_id"), Sql.value(found.id)))
        .ordered(by: Sql.column("e", "id"))
        var writer = ResultWriters.make(context.format, output: context.output)
        writer.begin([
            ResultColumn("when", .text), ResultColumn("who", .text), ResultColumn("what", .text), ResultColumn("version", .integer),
            ResultColumn("change", .integer),
        ])
        var count = 0
        for row in try Row.fetchAll(db, query.sql) {
            let at: String = try row.decode(atIndex: 0)
            writer.row([
                Self.minutes(at).databaseValue, (try row.decode(atIndex: 1) as String?)?.databaseValue ?? .null,
                try row.decode(atIndex: 2) as DatabaseValue, try row.decode(atIndex: 3) as DatabaseValue, try row.decode(atIndex: 4) as DatabaseValue,
            ])
            count += 1
        }
        writer.end(note: "runs that failed or were dry-runs are in the audit log: find audit where message contains \"script \(found.name) \"")
        var result = CommandResult()
        result.rows = count
        return result
    }
}

/// A line diff for people: `-` removed, `+` added, two lines of context around each change, `…`
/// for the lines between.
enum LineDiff {
    static func lines(from old: String, to new: String, context: Int = 2) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = b.difference(from: a)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        // Every line in order, marked; then unchanged lines far from a change are elided.
        var marked: [(mark: Character, text: String)] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, removed.contains(i) {
                marked.append(("-", a[i]))
                i += 1
            } else if j < b.count, inserted.contains(j) {
                marked.append(("+", b[j]))
                j += 1
            } else {
                if i < a.count { marked.append((" ", a[i])) }
                i += 1
                j += 1
            }
        }
        let changed = marked.indices.filter { marked[$0].mark != " " }
        var out: [String] = []
        var elided = false
        for (index, line) in marked.enumerated() {
            let near = context >= marked.count || changed.contains { abs($0 - index) <= context }
            if near {
                out.append("\(line.mark) \(line.text)")
                elided = false
            } else if !elided {
                out.append("  …")
                elided = true
            }
        }
        return out
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// The line diff `diff script` prints, every line shown (for tests).
public func scriptDiffLines(from old: String, to new: String) -> [String] {
    LineDiff.lines(from: old, to: new, context: Int.max / 2)
}
