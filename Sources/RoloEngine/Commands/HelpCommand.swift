import RoloSyntax

/// One command's help: synopsis, summary and examples. The examples also run as tests.
public struct CommandHelp: Sendable {
    public let name: String
    public let synopsis: String
    public let summary: String
    public let examples: [String]
}

/// `help` and `help COMMAND`.
public enum HelpCommand {
    public static let topics: [CommandHelp] = [
        CommandHelp(
            name: "find", synopsis: "find ENTITY [FIELD, …] [where CONDITION] [order by FIELD [asc|desc], …] [limit N [offset M]] [as table|csv|json]",
            summary: "List records. Fields follow relations with dots (account.name).",
            examples: [
                "find contacts where account.name = \"Acme Inc\" and title contains \"VP\" order by last_name limit 20",
                "find deals where stage in (proposal, negotiation) and close_date <= today + 14 days",
                "find tickets where status != closed and opened_at < 5 hours ago order by priority desc",
                "find contacts first_name, last_name, email where email is empty or updated_at < 1 year ago limit 10",
                "find contacts where company starts with \"Acme\" limit 5 as csv",
            ]),
        CommandHelp(
            name: "count", synopsis: "count ENTITY [by FIELD, …] [where CONDITION] [as table|csv|json]",
            summary: "Count records, optionally per group (biggest groups first).",
            examples: ["count contacts", "count leads by source where created_at >= 30 days ago", "count deals by stage, owner"]),
        CommandHelp(
            name: "sum", synopsis: "sum|avg|min|max ENTITY.FIELD [by FIELD, …] [where CONDITION]",
            summary: "Total, average, smallest or largest value of a field, optionally per group.",
            examples: [
                "sum deals.amount by owner where stage = won and close_date in this quarter",
                "avg deals.amount where stage = won", "max tickets.opened_at",
            ]),
        CommandHelp(
            name: "show", synopsis: "show ENTITY NUMBER|\"NATURAL KEY\"",
            summary: "One record as a card, with its related records (open deals, recent activities, open tasks and tickets).",
            examples: ["show contact 42", "show user admin", "show account \"Acme Inc\""]),
        CommandHelp(
            name: "history", synopsis: "history ENTITY NUMBER|\"NATURAL KEY\"",
            summary: "Every recorded change of a record: when, who, field, old and new value.",
            examples: ["history contact 42"]),
        CommandHelp(
            name: "explain", synopsis: "explain QUERY",
            summary: "The SQL a query compiles to, its bound values, and SQLite's query plan.",
            examples: ["explain find contacts where email = \"ana@acme.io\""]),
        CommandHelp(name: "whoami", synopsis: "whoami", summary: "The acting user, their team and roles.", examples: ["whoami"]),
        CommandHelp(name: "users", synopsis: "users", summary: "Every user with their team, roles and whether active.", examples: ["users"]),
        CommandHelp(name: "roles", synopsis: "roles", summary: "Every role, how many active users hold it and how many rules it has.", examples: ["roles"]),
        CommandHelp(name: "teams", synopsis: "teams", summary: "Every team with its manager and size.", examples: ["teams"]),
        CommandHelp(
            name: "dry-run", synopsis: "dry-run [on|off]",
            summary: "Preview every change and roll it back; the prompt shows it.", examples: ["dry-run on", "dry-run off"]),
        CommandHelp(
            name: "set", synopsis: "set confirm N | set format table|csv|json",
            summary: "Session settings: ask before changes of more than N records; default output format.",
            examples: ["set confirm 100", "set format table"]),
        CommandHelp(name: "help", synopsis: "help [COMMAND]", summary: "This list, or one command's syntax and examples.", examples: ["help find"]),
        CommandHelp(name: "quit", synopsis: "quit", summary: "Leave the shell (Ctrl-D does too).", examples: []),
    ]

    static func run(topic: Located<String>?, output: OutputSink) throws {
        guard let topic else {
            output.line("Commands (help COMMAND for syntax and examples):")
            let width = (topics.map(\.name.count).max() ?? 8) + 2
            for help in topics {
                output.line("  " + help.name + String(repeating: " ", count: width - help.name.count) + help.summary)
            }
            output.line("")
            output.line("Entities: " + Catalog.entities.filter { $0.kind == .domain }.map(\.name).joined(separator: ", "))
            output.line("Values: \"text\", 42, $5,000, 2026-11-22, today, 3 days ago, in 2 weeks, this quarter, me, my team")
            return
        }
        let aliases = ["avg": "sum", "min": "sum", "max": "sum", "exit": "quit"]
        let name = aliases[topic.value] ?? topic.value
        guard let help = topics.first(where: { $0.name == name }) else {
            let near = Suggestions.nearest(to: topic.value, in: topics.map(\.name))
            throw Diagnostic(.unknownCommand, "no help for '\(topic.value)'", at: topic.range,
                             help: near.map { "did you mean 'help \($0)'?" } ?? "type 'help' to list the commands")
        }
        output.line(help.synopsis)
        output.line("")
        output.line("  " + help.summary)
        if !help.examples.isEmpty {
            output.line("")
            output.line("Examples:")
            for example in help.examples { output.line("  " + example) }
        }
    }
}
