import Foundation
import RoloStore
import RoloSyntax

/// Scripts run from a script: `run FILE`, `run script NAME` (a saved script) and `plan FILE to
/// PLAN`, each with its own parameters, in a transaction of its own unless one is open
/// (`runNested`).
extension ScriptRunner {
    /// `run FILE [NAME=VALUE …] [--dry-run]`: the file's statements with its own parameters, in one
    /// transaction of their own unless one is open.
    /// - Returns: whether to go on.
    func runFile(_ command: RunCommand, _ statement: ParsedStatement, from including: String?, _ run: inout Run) throws -> Bool {
        let script = try Script.load(command.path, from: including, what: "script")
        return try runNested(
            script, arguments: command.arguments, statement, label: "script \(script.file ?? command.path.value)",
            identity: "file " + (script.file ?? command.path.value), &run)
    }

    /// `run script NAME [NAME=VALUE …] [--dry-run]`: a saved script's newest version, its change set
    /// labelled with its name and version, its run audited with them and, when kept, in its history.
    func runSaved(_ command: RunScriptCommand, _ statement: ParsedStatement, _ run: inout Run) throws -> Bool {
        let saved = try engine.store.inDatabase { db in try ScriptLibrary(engine: engine, db: db).version(command.scriptName, nil) }
        let title = "\(saved.name) version \(saved.version)"
        let script: Script
        do {
            script = try Script(saved.body, file: title)
        } catch {
            throw error.located(in: Diagnostic.Origin(file: title, source: saved.body))
        }
        return try runNested(
            script, arguments: command.arguments, statement, label: "script \(title)", identity: "saved " + saved.name.lowercased(), &run,
            beforeEnd: { [engine] succeeded in
                let dryRun = engine.transactions.isDryRun || engine.session.settings.dryRun
                let changeSet = engine.transactions.state.changeSet
                if succeeded, !dryRun {
                    try engine.store.inDatabase { db in
                        try ScriptLibrary(engine: engine, db: db).recordRun(scriptID: saved.scriptID, version: saved.version, changeSet: changeSet)
                    }
                }
                engine.record(
                    engine.audit.entry(
                        statement, outcome: !succeeded ? .error : dryRun ? .dryRun : .ok, rows: nil,
                        message: "script \(saved.name) version \(saved.version) (sha256 \(saved.sha256.prefix(12)))", changeSet: changeSet))
            })
    }

    /// `plan FILE.rolo [NAME=VALUE …] to FILE.plan`: the script as a whole dry-run, its change plan
    /// written to the plan file before the rollback.
    func runPlan(_ command: PlanCommand, _ statement: ParsedStatement, from including: String?, _ run: inout Run) throws -> Bool {
        if engine.transactions.isOpen {
            throw Diagnostic(
                .transactionOpen, "plan runs a script in a transaction of its own: end the open one first", at: statement.range,
                help: "commit or rollback, then plan")
        }
        let script = try Script.load(command.script, from: including, what: "script")
        let scriptPath = script.file ?? command.script.value
        let file: OutputFile
        do {
            file = try OutputFile(path: command.file.value, kind: .plan, overwrite: statement.hasOption("force"), protected: engine.protectedFiles)
        } catch {
            throw error.diagnostic(command.file, outcome: "nothing was written", example: "fix.plan")
        }
        // The database's identity comes from its secret, made now if this older file has none.
        let identity = try PlanFile.ensureDatabaseIdentity(engine.store)
        let header = PlanFile.Header(
            database: identity, schema: CRMSchema.version, script: scriptPath, scriptSHA256: PlanFile.sha256(Data(script.bytes)),
            parameters: Dictionary(command.arguments.map { ($0.name.value, $0.value) }, uniquingKeysWith: { _, last in last }),
            madeBy: engine.access.actor.handle, madeAt: engine.clock.now().description, records: 0, fields: 0)
        var written: (records: Int, fields: Int)? = nil
        let saved = engine.session.settings.dryRun
        engine.session.settings.dryRun = true
        defer { engine.session.settings.dryRun = saved }
        let goOn = try runNested(
            script, arguments: command.arguments, statement, label: "plan \(scriptPath)", identity: "file " + scriptPath, &run,
            beforeEnd: { [engine] succeeded in
                guard succeeded else { return }
                let changeSet = engine.transactions.state.changeSet
                written = try engine.store.inDatabase { db in try PlanFile.write(header: header, changeSet: changeSet, db: db, to: file) }
                try file.commit(overwrite: statement.hasOption("force"))
            })
        guard let written else {
            file.abandon()
            return goOn
        }
        run.output.line(
            "plan written to \(command.file.value): \(written.records) \(written.records == 1 ? "record" : "records") would change"
                + " (show plan \(command.file.value) lists them; apply \(command.file.value) applies them)")
        return goOn
    }

    /// Runs a script file or saved script with its own parameters (a name it does not declare is
    /// refused where it was given), in one transaction of its own unless one is open, previewed
    /// whole with `--dry-run`.
    /// - Parameters:
    ///   - identity: what names the script among those running, so a script that runs itself
    ///     (directly or through others) is refused rather than run without end.
    ///   - beforeEnd: told, inside the transaction and before it ends, whether the script succeeded.
    func runNested(
        _ script: Script, arguments: [(name: Located<String>, value: String)], _ statement: ParsedStatement, label: String,
        identity: String, _ run: inout Run, beforeEnd: ((Bool) throws -> Void)? = nil
    ) throws -> Bool {
        if running.contains(identity) || running.count >= 32 {
            throw Diagnostic(
                .includeLoop, "\(label.dropFirst("script ".count)) is already running: a script may not run itself, directly or through others",
                at: statement.range)
        }
        // A name the script does not take points at where it was given.
        let declared = script.parameters.map(\.declaration.name.value)
        if !declared.isEmpty, let unknown = arguments.first(where: { !declared.contains($0.name.value) }) {
            throw Diagnostic(
                .unknownParameter, "\(label.dropFirst("script ".count)) has no parameter '\(unknown.name.value)'", at: unknown.name.range,
                help: Suggestions.nearest(to: unknown.name.value, in: declared).map { "did you mean \($0)=…?" }
                    ?? "its parameters: " + declared.joined(separator: ", "))
        }
        let given = Dictionary(arguments.map { ($0.name.value, ScriptValue.text($0.value)) }, uniquingKeysWith: { _, last in last })
        let saved = (engine.session.parameters, engine.session.settings.dryRun)
        running.append(identity)
        defer {
            (engine.session.parameters, engine.session.settings.dryRun) = saved
            running.removeLast()
        }
        do {
            engine.session.parameters = try script.parameterValues(given: given)
        } catch {
            throw script.origin.map { error.located(in: $0) } ?? error
        }
        if statement.hasOption("dry-run") { engine.session.settings.dryRun = true }
        func body(_ run: inout Run) -> Bool {
            let succeeded = runStatements(of: script, origin: script.origin, &run)
            do {
                try beforeEnd?(succeeded && !run.outcome.failed)
            } catch {
                run.fail(error, report)
                return false
            }
            return succeeded
        }
        if script.managesTransactions || engine.transactions.isOpen { return body(&run) }
        return transaction(label: label, statements: script.statementCount, &run, body: body)
    }
}
