import Crypto
import Foundation
import GRDB
import RoloStore
import RoloSyntax

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
        let decision = engine.access.decide(.manageScripts, on: Self.scripts.name)
        if let deny = decision.deniedBy {
            throw Diagnostic(.permissionDenied, "\(engine.access.actor.handle) may not manage_scripts", at: range, help: "denied by rule \(deny.description)")
        }
        guard decision.scope == .all else {
            throw Diagnostic(
                .permissionDenied, "\(engine.access.actor.handle) may not manage_scripts", at: range,
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
                    ("created_by", engine.access.actor.id.databaseValue),
                ])
        }
        let version = try latestVersion(id) + 1
        let sha = SHA256.hash(data: Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
        _ = try recorder.insert(
            Self.versions,
            values: [
                ("script_id", id.databaseValue), ("version", version.databaseValue), ("body", body.databaseValue),
                ("description", description?.databaseValue ?? .null), ("sha256", sha.databaseValue),
                ("saved_by", engine.access.actor.id.databaseValue), ("created_at", now),
            ])
        _ = try recorder.insert(
            Self.events,
            values: [
                ("script_id", id.databaseValue), ("version", version.databaseValue), ("action", "saved".databaseValue),
                ("user_id", engine.access.actor.id.databaseValue), ("created_at", now),
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
                ("user_id", engine.access.actor.id.databaseValue), ("created_at", engine.clock.now().description.databaseValue),
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
                    ("user_id", engine.access.actor.id.databaseValue), ("change_set_id", changeSet?.databaseValue ?? .null),
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
