import RoloSyntax

/// One command's help: synopsis, summary and examples. The examples also run as tests.
public struct CommandHelp: Sendable {
    public let name: String
    public let synopsis: String
    public let summary: String
    public let examples: [String]
}

/// `help` and `help COMMAND`: the registry's commands, their synopses, summaries and examples.
///
///     help := 'help' [ WORD | STRING ]
public struct HelpCommand: Command {
    var topic: Located<String>?
    /// `help script FILE`: a script file's parameters.
    var scriptFile: Located<String>? = nil

    public static let name = "help"
    public static let forms = [
        form("help") { parser, _ throws(Diagnostic) in
            if parser.atStatementEnd { return HelpCommand(topic: nil) }
            let topic = parser.advance()
            let name = topic.word ?? parser.stringValue(topic) ?? topic.display
            if name == "script", !parser.atStatementEnd {
                let file = try parser.parseWordPath(what: "a script file, e.g. help script fix-acme.rolo")
                return HelpCommand(topic: Located(name, topic.range), scriptFile: file)
            }
            if name == "dry", parser.current.isSymbol(.minus), parser.peek().isWord("run") {
                _ = parser.advance()
                let last = parser.advance()
                return HelpCommand(topic: Located("dry-run", topic.range.union(last.range)))
            }
            return HelpCommand(topic: Located(name, topic.range))
        }
    ]
    public static let synopsis = "help [COMMAND] | help script FILE"
    public static let summary = "This list, one command's syntax and examples, or a script file's parameters."
    public static let examples = ["help find"]
    public static let arguments: [ArgumentHint] = [.helpTopics]
    public var isAudited: Bool { false }

    /// Every command's help, in the registry's order.
    public static var topics: [CommandHelp] {
        CommandRegistry.all.map { CommandHelp(name: $0.name, synopsis: $0.synopsis, summary: $0.summary, examples: $0.examples) }
    }

    public func run(_ context: CommandContext) throws -> CommandResult {
        if let scriptFile {
            let script = try Script.load(scriptFile, from: nil, what: "script")
            for line in script.helpLines(name: scriptFile.value) { context.output.line(line) }
            return CommandResult()
        }
        try Self.run(topic: topic, output: context.output)
        return CommandResult()
    }

    static func run(topic: Located<String>?, output: OutputSink) throws {
        guard let topic else {
            // Each topic with the other commands it covers, so the list names every command.
            output.line("Commands (help COMMAND for syntax and examples):")
            let labels = CommandRegistry.all.map { command in
                ([command.name] + command.verbs.filter { $0 != command.name }).joined(separator: ", ")
            }
            let width = (labels.map(\.count).max() ?? 8) + 2
            let columns = output.width
            // Summaries go on under their own column, unless that leaves them too little room.
            let indent = columns.map { 2 + width <= $0 / 2 ? 2 + width : 4 } ?? 0
            for (help, label) in zip(topics, labels) {
                let lead = "  " + label + String(repeating: " ", count: width - label.count)
                for line in wrap(help.summary, after: lead, indent: indent, width: columns) { output.line(line) }
            }
            output.line("")
            let entities = Catalog.entities.filter { $0.kind == .domain }.map(\.name).joined(separator: ", ")
            for line in wrap(entities, after: "Entities: ", indent: 2, width: columns) { output.line(line) }
            let values = "\"text\", 42, $5,000, 2026-11-22, today, 3 days ago, in 2 weeks, this quarter, me, my team"
            for line in wrap(values, after: "Values: ", indent: 2, width: columns) { output.line(line) }
            return
        }
        guard let command = CommandRegistry.command(named: topic.value) else {
            let near = Suggestions.nearest(to: topic.value, in: topics.map(\.name))
            throw Diagnostic(
                .unknownCommand, "no help for '\(topic.value)'", at: topic.range,
                help: near.map { "did you mean 'help \($0)'?" } ?? "type 'help' to list the commands")
        }
        let columns = output.width
        for line in wrap(command.synopsis, after: "", indent: 4, width: columns) { output.line(line) }
        output.line("")
        for line in wrap(command.summary, after: "  ", indent: 2, width: columns) { output.line(line) }
        if !command.examples.isEmpty {
            output.line("")
            output.line("Examples:")
            for example in command.examples {
                for line in wrap(example, after: "  ", indent: 4, width: columns) { output.line(line) }
            }
        }
    }

    /// `text` after `lead`, broken at spaces into lines of at most `width` terminal columns, the
    /// lines after the first indented by `indent` spaces; a word longer than a line stands alone.
    /// Not broken when the width is unknown (piped output keeps each line whole).
    static func wrap(_ text: String, after lead: String, indent: Int, width: Int?) -> [String] {
        guard let width, DisplayWidth.of(lead + text) > width else { return [lead + text] }
        var lines: [String] = []
        var line = lead
        var used = DisplayWidth.of(lead)
        var empty = true
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            let size = DisplayWidth.of(String(word))
            if !empty, used + 1 + size > width {
                lines.append(line)
                line = String(repeating: " ", count: indent) + word
                used = indent + size
            } else {
                line += (empty ? "" : " ") + word
                used += (empty ? 0 : 1) + size
            }
            empty = false
        }
        lines.append(line)
        return lines
    }
}
