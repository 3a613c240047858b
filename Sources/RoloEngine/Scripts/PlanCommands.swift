import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// `plan FILE.rolo [NAME=VALUE …] to FILE.plan [--force]`: the script run as a dry-run, its change
/// plan written to a plan file (run by the `ScriptRunner`).
///
///     plan := 'plan' (STRING | PATH) { NAME '=' literal } 'to' (STRING | PATH)
struct PlanCommand: Command, RunByScriptRunner {
    var script: Located<String>
    var arguments: [(name: Located<String>, value: String)]
    var file: Located<String>

    static let name = "plan"
    static let forms = [
        form("plan") { parser, _ throws(Diagnostic) in
            let script = try parser.parseWordPath(what: "a script to plan, e.g. plan fix-acme.rolo old=\"Acme Inc\" to fix.plan")
            let arguments = try parser.parseParameterArguments(until: "to")
            guard parser.acceptWord("to") else { throw parser.failure(expected: "'to' and the plan file, e.g. to fix.plan") }
            let file = try parser.parseWordPath(what: "the plan file to write, e.g. fix.plan")
            return PlanCommand(script: script, arguments: arguments, file: file)
        }
    ]
    static let synopsis = "plan FILE.rolo [NAME=VALUE …] to FILE.plan [--force] | show plan FILE.plan | apply FILE.plan [--skip-drifted] [--force] [--exit-code]"
    static let summary =
        "A reviewed change: plan runs a script as a dry-run and writes every change it would make (each record's values before and after) to a plan file; show plan prints it; apply re-checks every record and applies it only if none changed since (--skip-drifted applies the rest, --force overwrites), listing what drifted and who changed it."
    static let examples: [String] = []
    static let helpWords = ["apply"]
    var isAudited: Bool { false }

    static func == (a: PlanCommand, b: PlanCommand) -> Bool {
        a.script == b.script && a.file == b.file && a.arguments.map(\.name) == b.arguments.map(\.name)
            && a.arguments.map(\.value) == b.arguments.map(\.value)
    }
}

/// `show plan FILE.plan`: a plan's header and per-record diff.
struct ShowPlanCommand: Command {
    var file: Located<String>

    static let name = "show plan"
    static let forms = [
        form("show", "plan") { parser, _ throws(Diagnostic) in
            ShowPlanCommand(file: try parser.parseWordPath(what: "a plan file, e.g. show plan fix.plan"))
        }
    ]
    static let synopsis = "show plan FILE.plan"
    static let summary = "A plan file's script, parameters and every record it would change."
    static let examples: [String] = []

    func run(_ context: CommandContext) throws -> CommandResult {
        let (header, records) = try PlanFile.read(file)
        let output = context.output
        let parameters = header.parameters.keys.sorted().map { "\($0)=\"\(header.parameters[$0] ?? "")\"" }.joined(separator: " ")
        output.line("plan of \(header.script)\(parameters.isEmpty ? "" : " " + parameters), made by \(header.madeBy) on \(ScriptLibrary.minutes(header.madeAt))")
        output.line("\(header.records) \(header.records == 1 ? "record" : "records"), \(header.fields) \(header.fields == 1 ? "field" : "fields"); apply \(file.value) applies it")
        for record in records {
            let entity = CRMSchema.entity(named: record.entity)
            let label = "\(entity?.singular ?? record.entity) \(record.id)"
            switch record.op {
            case "create":
                let values = record.fields.map { "\(PlanFile.shown($0[0]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))) = \(PlanFile.shown($0[2]))" }
                output.line("  \(label): created with " + values.joined(separator: ", "))
            case "delete":
                output.line("  \(label): deleted")
            default:
                for field in record.fields {
                    let name = PlanFile.shown(field[0]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    output.line("  \(label): \(name) \(PlanFile.shown(field[1])) → \(PlanFile.shown(field[2]))")
                }
            }
        }
        var result = CommandResult()
        result.rows = records.count
        return result
    }
}

/// `apply FILE.plan [--skip-drifted] [--force] [--exit-code]`: the plan's changes, written through
/// the change path as one change set, after every check.
struct ApplyCommand: Command {
    var file: Located<String>

    static let name = "apply"
    static let forms = [
        form("apply") { parser, _ throws(Diagnostic) in ApplyCommand(file: try parser.parseWordPath(what: "a plan file, e.g. apply fix.plan")) }
    ]
    static let synopsis = "apply FILE.plan [--skip-drifted] [--force] [--exit-code]"
    static let summary = "Apply a plan file made by plan: refused when it was edited, made on another database or schema, or its script changed; refused with the list of drifted records (and who changed them) when any changed since."
    static let examples: [String] = []
    var changesData: Bool { true }

    func run(_ context: CommandContext) throws -> CommandResult {
        let engine = context.engine
        let statement = context.statement
        let (header, lines) = try PlanFile.verify(file)
        try PlanApplier.check(header, file: file, engine: engine)
        var result = try engine.performChange(statement, output: context.output) { db, recorder in
            try PlanApplier(engine: engine, db: db, recorder: recorder, file: file, lines: lines, statement: statement, output: context.output)
                .apply()
        }
        // `--exit-code`: 0 when there was nothing to do, 2 when it applied changes.
        result.applied = result.rows > 0 && !result.wasDryRun
        return result
    }
}

extension Parser {
    /// `NAME=VALUE …` up to the end of the command, or to the word `stop` (`to` in `plan`).
    mutating func parseParameterArguments(until stop: String?) throws(Diagnostic) -> [(name: Located<String>, value: String)] {
        var arguments: [(name: Located<String>, value: String)] = []
        while !atStatementEnd, !(stop.map { current.isWord($0) } == true && !peek().isSymbol(.equal)) {
            guard case .word(let word) = current.kind else {
                throw failure(expected: "a parameter as NAME=VALUE, e.g. old=\"Acme Inc\"" + (stop.map { ", or '\($0)'" } ?? ""))
            }
            let name = Located(word, advance().range)
            guard acceptSymbol(.equal) else { throw failure(expected: "'=' and a value after '\(word)'") }
            arguments.append((name, try parseLiteralText(what: "a value for '\(word)'")))
        }
        return arguments
    }
}
