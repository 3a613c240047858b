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
            return try engine.store.inDatabase { db in try ScriptLibrary(engine: engine, db: db).list(context) }
        case .show(let name, let version):
            return try engine.store.inDatabase { db in
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
            return try engine.store.inDatabase { db in
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
            return try engine.store.inDatabase { db in try ScriptLibrary(engine: engine, db: db).history(name, context) }
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
