import Foundation
import RoloStore
import RoloSyntax

/// Rolo input to run: a script file, piped input, a `-c` command or a line typed at the prompt.
///
/// Making one checks the whole text for syntax in one pass, keeping only what running needs to
/// know beforehand: how many statements, whether any manages transactions itself, the parameters
/// it declares (`param`), and the files it includes, each checked the same way (a missing file or
/// a loop is an error before anything runs). `ScriptRunner` then parses the statements again one
/// at a time as it runs them, so memory does not grow with the script. Errors point into `source`,
/// at line and column, and name `file` when there is one; an error in an included file points
/// into that file (`Diagnostic.origin`).
public struct Script: Sendable {
    /// The text as UTF-8, held once however long the script.
    public let bytes: [UInt8]
    /// The text (made when asked: errors show their line from it).
    public var source: String { String(decoding: bytes, as: UTF8.self) }
    /// The file the text came from (`<stdin>` for piped input), or nil for `-c` and the prompt.
    public let file: String?
    public let statementCount: Int
    /// Some statement is `begin`, `commit` or `rollback`: the script is not wrapped in one.
    public let managesTransactions: Bool
    /// What the script declares with `param`, with those of the files it includes, in order.
    public let parameters: [Declared]
    /// The included files, by the path their `include` statement gives, as written.
    let includes: [String: Script]
    /// The comment lines the file starts with (after a `#!` line): what `help script` shows.
    public let description: [String]
    /// The statements as the check parsed them, kept for a script of up to `keptBytes` (most are):
    /// running it then parses nothing again. A longer one is parsed again as it runs, a statement
    /// at a time, so its memory does not grow with its length.
    private let kept: [Statement]?
    /// 1 MB of script: some 25,000 short statements (scripts/bench's 10,000-statement scripts are
    /// 450 KB), tens of megabytes of syntax trees at most; a million-statement script (40 MB) streams.
    static let keptBytes = 1024 * 1024

    /// A parameter and the file that declares it (nil: this script's own text).
    public struct Declared: Sendable {
        public let declaration: ParameterDeclaration
        public let origin: Diagnostic.Origin?
    }

    /// Checks `source`: throws its first syntax error (marked unfinished where more lines would
    /// complete it, for the prompt's continuation).
    public init(_ source: String, file: String?) throws(Diagnostic) {
        try self.init(utf8: Array(source.utf8), file: file, chain: [])
    }

    /// A script from a file's bytes: held as they are when they are UTF-8 (no second copy of a
    /// long script), or as text with U+FFFD for what is not, as a `String` would be.
    public init(bytes: [UInt8], file: String?) throws(Diagnostic) {
        try self.init(bytes: bytes, file: file, chain: [])
    }

    private init(bytes: [UInt8], file: String?, chain: [String]) throws(Diagnostic) {
        var bytes = bytes
        // A UTF-8 byte-order mark, as some editors write, is not part of the script.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        try self.init(utf8: Self.isUTF8(bytes) ? bytes : Array(String(decoding: bytes, as: UTF8.self).utf8), file: file, chain: chain)
    }

    /// Whether `bytes` are valid UTF-8. Most scripts are ASCII: skipped eight bytes at a time up
    /// to the first byte that is not (which starts a character), decoded from there.
    static func isUTF8(_ bytes: [UInt8]) -> Bool {
        let firstNonASCII = bytes.withUnsafeBytes { raw -> Int in
            var index = 0
            while index + 8 <= raw.count, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            while index < raw.count, raw[index] < 0x80 { index += 1 }
            return index
        }
        guard firstNonASCII < bytes.count else { return true }
        return !transcode(bytes[firstNonASCII...].makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true, into: { _ in })
    }

    private init(utf8 bytes: [UInt8], file: String?, chain: [String]) throws(Diagnostic) {
        do throws(Diagnostic) {
            try self.init(checked: bytes, file: file, chain: chain)
        } catch {
            // A lexing error anywhere wins over an error before it, as when the whole text was
            // lexed first. Only a failed check looks: a check that passed lexed every byte.
            try Lexer.check(bytes: bytes)
            throw error
        }
    }

    private init(checked bytes: [UInt8], file: String?, chain: [String]) throws(Diagnostic) {
        var statements = Parser.Statements(bytes: bytes, grammar: CommandRegistry.grammar)
        var count = 0
        var manages = false
        var parameters: [Declared] = []
        var includes: [String: Script] = [:]
        let keeps = bytes.count <= Self.keptBytes
        var kept: [Statement] = []
        while let statement = try statements.next() {
            count += 1
            if keeps { kept.append(statement) }
            let type = statement.commandType
            if !manages, statement.managesTransaction(type) { manages = true }
            if let param = statement.command(as: ParamCommand.self, commandType: type) {
                parameters += param.declarations.map { Declared(declaration: $0, origin: nil) }
            }
            if let include = statement.command(as: IncludeCommand.self, commandType: type), includes[include.path.value] == nil {
                let included = try Self.load(include.path, from: file, chain: chain, what: "included file")
                includes[include.path.value] = included
                if included.managesTransactions { manages = true }
                let origin = Diagnostic.Origin(file: included.file ?? include.path.value, source: included.source)
                parameters += included.parameters.map { Declared(declaration: $0.declaration, origin: $0.origin ?? origin) }
            }
        }
        self.bytes = bytes
        self.file = file
        self.statementCount = count
        self.managesTransactions = manages
        self.parameters = parameters
        self.includes = includes
        self.description = Self.leadingComments(bytes)
        self.kept = keeps ? kept : nil
    }

    /// The statements in order: those the check kept, or parsed again as they are asked for.
    func statements() -> Statements {
        if let kept { return .kept(kept[...]) }
        return .streaming(Parser.Statements(bytes: bytes, grammar: CommandRegistry.grammar))
    }

    /// A script's statements, one at a time.
    enum Statements {
        case kept(ArraySlice<Statement>)
        case streaming(Parser.Statements)

        mutating func next() throws(Diagnostic) -> Statement? {
            switch self {
            case .kept(var rest):
                guard let first = rest.popFirst() else { return nil }
                self = .kept(rest)
                return first
            case .streaming(var parser):
                // The case lets go of its copy first, so the parser's buffers are not copied.
                self = .kept([])
                defer { self = .streaming(parser) }
                return try parser.next()
            }
        }
    }

    /// The script an `include` names.
    func included(_ path: String) -> Script? { includes[path] }

    /// Where this script's errors point: its file and text (nil for `-c` and the prompt).
    var origin: Diagnostic.Origin? {
        guard let file else { return nil }
        return Diagnostic.Origin(file: file, source: source)
    }

    // MARK: - Files

    /// Reads and checks the script file `path` names, relative to the folder of the script that
    /// names it (`from`), or to the working folder for the prompt and `-c`.
    ///
    /// - Parameter chain: the files being included, outermost first: naming one of them again is a loop.
    static func load(_ path: Located<String>, from including: String?, chain: [String] = [], what: String) throws(Diagnostic) -> Script {
        let resolved = resolve(path.value, from: including)
        var info = stat()
        guard stat(resolved, &info) == 0 else {
            throw Diagnostic(
                .fileNotFound, "no such \(what): \(path.value)" + (resolved == path.value ? "" : " (looked for \(resolved))"),
                at: path.range, help: including.map { _ in "a path is read from the folder of the file that names it" })
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Diagnostic(.fileUnreadable, "\(path.value) is not a regular file", at: path.range)
        }
        let identity = canonical(resolved)
        let outer = chain.isEmpty ? (including.map { [canonical($0)] } ?? []) : chain
        if outer.contains(identity) {
            let names = (outer + [identity]).map { URL(fileURLWithPath: $0).lastPathComponent }
            throw Diagnostic(
                .includeLoop, "include loop: " + names.joined(separator: " includes "), at: path.range,
                help: "a file may not include itself, directly or through other files")
        }
        guard let data = FileManager.default.contents(atPath: resolved) else {
            throw Diagnostic(.fileUnreadable, "cannot read \(what): \(path.value)", at: path.range)
        }
        let bytes = [UInt8](data)
        do {
            return try Script(bytes: bytes, file: resolved, chain: outer + [identity])
        } catch {
            // Points into the included file, where the problem is.
            throw error.located(in: Diagnostic.Origin(file: resolved, source: String(decoding: bytes, as: UTF8.self)))
        }
    }

    /// `path` as read from the folder of `including` (unless absolute, or there is no file).
    static func resolve(_ path: String, from including: String?) -> String {
        guard !path.hasPrefix("/"), let including, including != "<stdin>" else { return path }
        // As the including file was named: relative stays relative (errors show sc/check.rolo).
        let folder = (including as NSString).deletingLastPathComponent
        return folder.isEmpty || folder == "." ? path : (folder as NSString).appendingPathComponent(path)
    }

    /// One name per file, however it is reached (symbolic links, `./`, `..`).
    private static func canonical(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        defer { free(real) }
        return String(cString: real)
    }

    /// The `#` lines a script starts with, without their `#` (after a `#!` line).
    private static func leadingComments(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        for (index, line) in bytes.prefix(4096).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if index == 0, text.hasPrefix("#!") { continue }
            guard text.hasPrefix("#") else { break }
            lines.append(String(text.dropFirst()).trimmingCharacters(in: .whitespaces))
        }
        return lines
    }

    // MARK: - Parameters

    /// Before a script runs: each parameter it declares has a value (given, or its default), and
    /// each value given names a parameter it declares (when it declares any).
    /// - Returns: the values to run with: those given, and the defaults of the others.
    func parameterValues(given: [String: ScriptValue]) throws(Diagnostic) -> [String: ScriptValue] {
        var values = given
        let declared = parameters.map(\.declaration.name.value)
        if !parameters.isEmpty {
            for name in given.keys.sorted() where !declared.contains(name) {
                let near = Suggestions.nearest(to: name, in: declared)
                throw Diagnostic(
                    .unknownParameter, "\(file.map { "\($0) has" } ?? "the script has") no parameter '\(name)'",
                    help: near.map { "did you mean \($0)=…?" } ?? "its parameters: " + declared.joined(separator: ", "))
            }
        }
        for declared in parameters where values[declared.declaration.name.value] == nil {
            guard let value = declared.declaration.defaultValue else {
                let diagnostic = Self.missing(declared.declaration)
                throw declared.origin.map { diagnostic.located(in: $0) } ?? diagnostic
            }
            values[declared.declaration.name.value] = .text(value)
        }
        return values
    }

    /// A parameter run without a value (pointing at its `param`).
    static func missing(_ declaration: ParameterDeclaration) -> Diagnostic {
        let name = declaration.name.value
        return Diagnostic(
            .missingParameter, "missing parameter '\(name)'" + (declaration.description.map { " (\($0))" } ?? ""),
            at: declaration.name.range, help: "give it when running the script: \(name)=VALUE")
    }

    /// `rolo FILE --help`: the help of the script file at `path`.
    public static func helpLines(forFile path: String) throws(Diagnostic) -> [String] {
        let range = SourceRange(.start, .start)
        return try load(Located(path, range), from: nil, what: "script").helpLines(name: path)
    }

    /// What `help script FILE` and `rolo FILE --help` show: the file's opening comments, how to
    /// run it, and its parameters.
    public func helpLines(name: String) -> [String] {
        var lines = description.isEmpty ? [] : description + [""]
        let usage = parameters.map { p in
            let d = p.declaration
            return d.defaultValue == nil ? "\(d.name.value)=VALUE" : "[\(d.name.value)=VALUE]"
        }
        lines.append("usage: rolo --db FILE " + ([name] + usage).joined(separator: " "))
        lines.append("       run \(name)" + usage.map { " " + $0 }.joined())
        guard !parameters.isEmpty else {
            lines.append("")
            lines.append("no parameters")
            return lines
        }
        lines.append("")
        lines.append("parameters:")
        let width = parameters.map(\.declaration.name.value.count).max() ?? 0
        for declared in parameters {
            let d = declared.declaration
            var line = "  " + d.name.value.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
            line += d.defaultValue.map { "default \($0)" } ?? "required"
            if let description = d.description { line += " — " + description }
            lines.append(line)
        }
        return lines
    }
}

extension Error {
    /// The error pointing into `origin`, when it is a diagnostic.
    func located(in origin: Diagnostic.Origin) -> any Error {
        (self as? Diagnostic)?.located(in: origin) ?? self
    }
}

extension Diagnostic {
    /// Typed-throw friendly: a diagnostic pointing into `origin` (unless it points into a file already).
    func located(in origin: Diagnostic.Origin?) -> Diagnostic {
        guard let origin else { return self }
        return located(in: origin)
    }
}
