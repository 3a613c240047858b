import Foundation
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax

/// Opens the store and engine, then runs the shell in the mode the arguments ask for.
enum Launcher {
    static func run(
        path: String, mode: CRMStore.OpenMode, session: SessionOptions, script: [String], defaultUser: String?
    ) -> ExitStatus {
        let output = FileOutput(descriptor: STDOUT_FILENO)
        let errors = FileOutput(descriptor: STDERR_FILENO)
        defer {
            output.flush()
            errors.flush()
        }
        func fail(_ error: any Error) -> ExitStatus { Launcher.fail(error, errors: errors) }
        // Held until this process ends: `rolo demo --fresh` refuses to delete a file in use.
        _ = DatabaseLock.shared(path) {
            errors.line("rolo: waiting for another rolo process to finish making \(path)…")
            errors.flush()
        }
        let store: CRMStore
        do {
            store = try CRMStore.open(path: path, mode: mode, readOnly: session.readOnly)
        } catch {
            return fail(error)
        }
        if store.isReadOnly {
            errors.line("read-only: changes are refused; reads are not audited")
        }
        if let seconds = session.busyTimeout {
            store.busy.timeout = seconds
        }
        if isatty(STDERR_FILENO) == 1 {
            // On a terminal, a wait of more than a second says why nothing happens.
            store.busy.onWait = {
                FileHandle.standardError.write(Data("waiting for another writer…\n".utf8))
            }
        }
        let progressOnTerminal = isatty(STDERR_FILENO) == 1
        let environment = ProcessInfo.processInfo.environment
        if let admins = try? Engine.activeAdmins(in: store), admins.isEmpty {
            errors.line("rolo: warning: \(path) has no active admin; recover with `rolo init \(path) --admin HANDLE`")
        }
        // Who acts: --user, $ROLO_USER, the command's default (admin in a demo), else the Rolo user
        // named after the OS login, as psql does.
        let given = session.user ?? environment["ROLO_USER"] ?? defaultUser
        let login = loginName(environment: environment)
        func noUser() -> ExitStatus {
            var message = "no user given: pass --user HANDLE or set ROLO_USER"
            if let login {
                message += "; no Rolo user is named after your login '\(login)' (an admin can add one: create user \(login) name=\"…\")"
            }
            return fail(Diagnostic(.noUser, message))
        }
        guard let handle = given ?? login else { return noUser() }
        let engine: Engine
        do {
            engine = try Engine(store: store, clock: clockFromEnvironment(), user: handle)
        } catch let diagnostic as Diagnostic {
            guard diagnostic.code == .unknownUser else { return fail(diagnostic) }
            if given == nil { return noUser() }
            let source = session.user != nil ? "--user" : environment["ROLO_USER"] != nil ? "ROLO_USER" : "user"
            return fail(Diagnostic(.noUser, "unknown \(source) '\(handle)'", help: diagnostic.help))
        } catch {
            return fail(error)
        }
        // The interactive shell starts with the settings kept from earlier sessions; flags win.
        let interactive = session.command == nil && script.isEmpty && isatty(STDIN_FILENO) == 1
        let settingsFile = interactive ? SettingsFile.standard() : nil
        for warning in settingsFile?.load(into: engine) ?? [] {
            errors.line("rolo: warning: " + warning)
        }
        engine.session.settings.dryRun = session.dryRun
        if progressOnTerminal {
            engine.session.progressLine = { text in FileHandle.standardError.write(Data(text.utf8)) }
        }
        if let format = session.format {
            guard let value = OutputFormat(rawValue: format.lowercased()), value != .bars else {
                return fail(
                    Diagnostic(
                        .commandLine, "unknown --format '\(format)': use table, csv or json (bars is `as bars` on a count or sum by)"))
            }
            engine.session.settings.format = value
        }
        let shell = Shell(engine: engine, output: output, errors: errors)
        shell.settingsFile = settingsFile

        if let command = session.command {
            let status = shell.runSource(command, file: nil, exitCodeForDryRun: session.exitCode)
            return shell.finishNonInteractive() ?? status
        }
        // `rolo --db crm.db apply fix.plan --exit-code` (and plan, show plan): a command, not a script file.
        if let first = script.first, ["apply", "plan", "show"].contains(first), !FileManager.default.fileExists(atPath: first) {
            func quote(_ text: String) -> String {
                "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            }
            let quoted = script.enumerated().map { index, word -> String in
                if index == 0 || (word.hasPrefix("--") && word.dropFirst(2).allSatisfy({ $0.isLetter || $0 == "-" })) { return word }
                // NAME=VALUE: the value quoted, as typed at the prompt.
                if let equal = word.firstIndex(of: "="), word[..<equal].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), equal != word.startIndex {
                    return String(word[..<equal]) + "=" + quote(String(word[word.index(after: equal)...]))
                }
                return ["to", "plan"].contains(word) ? word : quote(word)
            }
            let flags = (session.skipDrifted ? ["--skip-drifted"] : []) + (session.force ? ["--force"] : [])
            let status = shell.runSource((quoted + flags).joined(separator: " "), file: nil, exitCodeForDryRun: session.exitCode)
            return shell.finishNonInteractive() ?? status
        }
        if let scriptPath = script.first {
            var parameters: [String: ScriptValue] = [:]
            for assignment in script.dropFirst() {
                guard let equal = assignment.firstIndex(of: "=") else {
                    return fail(Diagnostic(.commandLine, "script parameters are NAME=VALUE, got '\(assignment)'"))
                }
                parameters[String(assignment[..<equal])] = .text(String(assignment[assignment.index(after: equal)...]))
            }
            engine.session.parameters = parameters
            let bytes: [UInt8]
            if scriptPath == "-" {
                bytes = Self.readAll(STDIN_FILENO) ?? []
            } else {
                guard FileManager.default.fileExists(atPath: scriptPath) else {
                    return fail(Diagnostic(.fileNotFound, "no such script: \(scriptPath)"))
                }
                // Pipes (`/dev/stdin`, `<(generate-fixes)`) are read as a stream too.
                let descriptor = open(scriptPath, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0, let read = Self.readAll(descriptor) else {
                    if descriptor >= 0 { close(descriptor) }
                    return fail(Diagnostic(.fileUnreadable, "cannot read script: \(scriptPath)"))
                }
                close(descriptor)
                bytes = read
            }
            let file = scriptPath == "-" ? "<stdin>" : scriptPath
            // The bytes go to the script as they are: a long script is held once, not also as text.
            let status = shell.runScript(bytes: bytes, file: file, exitCodeForDryRun: session.exitCode)
            return shell.finishNonInteractive(file: file) ?? status
        }
        if isatty(STDIN_FILENO) == 1 {
            let home = environment["HOME"] ?? "."
            let historyFile = environment["ROLO_HISTORY"] ?? home + "/.rolo_history"
            let completer = LiveCompleter(vocabulary: engine.vocabulary())
            shell.completer = completer
            let reader: LineReader =
                EditLineReader(
                    programName: "rolo", historyFile: historyFile,
                    completion: { line in completer.candidates(for: line) }) ?? PlainLineReader()
            output.line("Rolo — \(engine.access.actor.handle) on \(path). Type help for commands, Ctrl-D to leave.")
            shell.runInteractive(reader: reader)
            return .success
        }
        // Standard input is a pipe or file: read it as a script.
        let source = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let status = shell.runSource(source, file: "<stdin>", exitCodeForDryRun: session.exitCode)
        return shell.finishNonInteractive(file: "<stdin>") ?? status
    }

    /// Shows an error of the command line, the launcher, `rolo init` or `rolo demo` on standard error,
    /// through the one `ErrorPresenter`.
    /// - Returns: the exit status it means.
    static func fail(_ error: any Error, errors: FileOutput = FileOutput(descriptor: STDERR_FILENO)) -> ExitStatus {
        let presentation = ErrorPresenter(colors: errors.colors).present(error)
        // `write`, not `line`: the renderer has sanitised the text, and its colour codes are Rolo's.
        errors.write(presentation.text + "\n")
        errors.flush()
        return presentation.status
    }

    /// The operating system's name for the user this process runs as, as psql finds it: the user
    /// database's entry for the effective user id, not $USER (which `su` and `sudo -E` leave stale);
    /// $LOGNAME, then $USER, only where there is no entry (a container run under a bare uid).
    static func loginName(environment: [String: String]) -> String? {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name, name.pointee != 0 {
            return String(cString: name)
        }
        return [environment["LOGNAME"], environment["USER"]].compactMap { $0 }.first { !$0.isEmpty }
    }

    /// Everything `descriptor` holds, read into one buffer (sized once for a regular file); nil
    /// on a read error.
    static func readAll(_ descriptor: Int32) -> [UInt8]? {
        var info = stat()
        var capacity = 1 << 16
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { capacity = max(Int(info.st_size) + 1, 1) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// `ROLO_NOW=2026-11-22T10:00:00Z` fixes the clock (transcripts and demos).
    static func clockFromEnvironment() -> any CRMClock {
        if let text = ProcessInfo.processInfo.environment["ROLO_NOW"], let time = Timestamp(text) {
            return FixedClock(time)
        }
        return SystemClock()
    }
}
