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
            name: "find",
            synopsis: "find ENTITY [FIELD, …] [where CONDITION] [order by FIELD [asc|desc], …] [limit N [offset M]] [as table|csv|json]",
            summary: "List records. Fields follow relations with dots (account.name).",
            examples: [
                "find contacts where account.name = \"Acme\" and title contains \"VP\" order by last_name limit 20",
                "find deals where stage in (proposal, negotiation) and close_date <= today + 14 days",
                "find tickets where status != closed and opened_at < 5 hours ago order by priority desc",
                "find contacts first_name, last_name, email where email is empty or updated_at < 1 year ago limit 10",
                "find contacts where company starts with \"Acme\" limit 5 as csv",
            ]),
        CommandHelp(
            name: "count", synopsis: "count ENTITY [by FIELD, …] [where CONDITION] [as table|csv|json|bars]",
            summary: "Count records, optionally per group (biggest groups first).",
            examples: [
                "count contacts", "count leads by source where created_at >= 30 days ago", "count deals by stage, owner",
                "count deals by stage as bars",
            ]),
        CommandHelp(
            name: "sum", synopsis: "sum|avg|min|max ENTITY.FIELD [by FIELD, …] [where CONDITION] [as table|csv|json|bars]",
            summary: "Total, average, smallest or largest value of a field, optionally per group.",
            examples: [
                "sum deals.amount by owner where stage = won and close_date in this quarter",
                "avg deals.amount where stage = won", "max tickets.opened_at",
                "sum deals.amount by stage where stage != lost as bars",
            ]),
        CommandHelp(
            name: "show", synopsis: "show ENTITY NUMBER|\"NATURAL KEY\"",
            summary: "One record as a card, with its related records (open deals, recent activities, open tasks and tickets).",
            examples: ["show contact 42", "show user admin", "show account \"Acme\""]),
        CommandHelp(
            name: "history", synopsis: "history ENTITY NUMBER|\"NATURAL KEY\"",
            summary: "Every recorded change of a record: when, who, field, old and new value.",
            examples: ["history contact 42"]),
        CommandHelp(
            name: "explain", synopsis: "explain QUERY",
            summary: "The SQL a query compiles to, its bound values, and SQLite's query plan.",
            examples: ["explain find contacts where email = \"ana@acme.io\""]),
        CommandHelp(
            name: "create", synopsis: "create ENTITY FIELD=VALUE …",
            summary: "Add a record; the owner defaults to you. Related records by name: account=\"Acme\".",
            examples: [#"create contact first_name="Ana" last_name="Ruiz" email="ana@acme.io" account="Acme""#]),
        CommandHelp(
            name: "update", synopsis: "update ENTITY NUMBER|where CONDITION set FIELD = VALUE, …",
            summary: "Change one record or many; prints each record's fields old → new. --dry-run previews.",
            examples: [
                #"update contact 42 set email = "ana.ruiz@acme.io""#,
                #"update contacts where company = "Acme Inc" set company = "Acme, Inc." --dry-run"#,
                "update contacts where email is not empty set email = lower(trim(email)) --quiet",
            ]),
        CommandHelp(
            name: "delete", synopsis: "delete ENTITY NUMBER|where CONDITION",
            summary: "Remove records; references to them are cleared through history, so undo restores both.",
            examples: ["delete leads where status = junk and created_at < 2 years ago"]),
        CommandHelp(
            name: "assign", synopsis: "assign ENTITY NUMBER|where CONDITION to USER",
            summary: "Give records to a user (the owner; for tasks and tickets the assignee).",
            examples: ["assign deals where owner = bob to carol"]),
        CommandHelp(
            name: "merge", synopsis: "merge ENTITY A into B",
            summary: "Keep B, fill its empty fields from A, move A's related records to B, delete A.",
            examples: ["merge contact 17 into 12"]),
        CommandHelp(
            name: "log", synopsis: "log call|email|meeting|note on ENTITY KEY \"TEXT\"",
            summary: "Record an interaction against a contact, account, lead, deal or ticket.",
            examples: [#"log call on contact 42 "Discussed renewal; follow up Tuesday""#]),
        CommandHelp(
            name: "add", synopsis: "add task \"TITLE\" [on ENTITY KEY] [due DATE] [for USER]",
            summary: "Create a follow-up task (for you unless another user is named).",
            examples: [#"add task "Send proposal" on deal 9 due in 2 days for alice"#]),
        CommandHelp(
            name: "changes", synopsis: "changes [N]", summary: "The last N change sets, newest first.", examples: ["changes 5"]),
        CommandHelp(
            name: "undo", synopsis: "undo [change N] [--force]",
            summary: "Revert your last change set, or change set N, as a new change set; refuses on conflicts unless --force.",
            examples: ["undo"]),
        CommandHelp(
            name: "begin", synopsis: "begin | commit | rollback",
            summary: "An explicit transaction: changes are kept at commit, dropped at rollback. The prompt shows *.",
            examples: ["begin", "rollback"]),
        CommandHelp(name: "whoami", synopsis: "whoami", summary: "The acting user, their team and roles.", examples: ["whoami"]),
        CommandHelp(
            name: "users", synopsis: "users", summary: "Every user with their team, roles and whether active.", examples: ["users"]),
        CommandHelp(
            name: "roles", synopsis: "roles", summary: "Every role, how many active users hold it and how many rules it has.",
            examples: ["roles", "show role sales_rep"]),
        CommandHelp(name: "teams", synopsis: "teams", summary: "Every team with its manager and size.", examples: ["teams"]),
        CommandHelp(
            name: "user", synopsis: "create user HANDLE name=\"…\" [team=T] | deactivate user H | activate user H | move H to team T",
            summary: "Manage users (admins).",
            examples: [#"create user dana name="Dana Lee" team=analytics"#, #"move dana to team "Sales West""#]),
        CommandHelp(
            name: "grant", synopsis: "grant ROLE to USER [--dry-run] | revoke ROLE from USER",
            summary: "Give or take a role; prints the rules gained or lost and the records newly in reach.",
            examples: ["grant data_analyst to dana --dry-run", "grant data_analyst to dana", "revoke sales_rep from bob --dry-run"]),
        CommandHelp(
            name: "role",
            synopsis: "create role NAME [like ROLE] | drop role NAME | allow|deny ROLE ACTION ENTITY[.FIELD,…] [scope own|team|all]",
            summary: "Define roles and their rules. Nobody grants what they do not hold.",
            examples: [
                "create role regional_manager like sales_manager", "allow regional_manager update deals scope team",
                "deny support_rep read deals.amount",
            ]),
        CommandHelp(
            name: "can", synopsis: "can USER ACTION ENTITY [KEY]",
            summary: "Yes or no, naming the rule that decided; for no, the missing rule and the nearest one that would allow it.",
            examples: ["can dana export contacts", "can bob update deal 42"]),
        CommandHelp(
            name: "as", synopsis: "as USER COMMAND | login USER",
            summary: "An admin runs one command as someone else (audited with both), or switches user.",
            examples: ["as bob find deals limit 5"]),
        CommandHelp(
            name: "verify", synopsis: "verify audit [--anchor N:HASH|FILE] | audit anchor | find audit where …",
            summary:
                "Check the audit log's hash chain, reporting every break; `audit anchor` prints the head to keep outside the database, and --anchor checks the log still holds it (no truncation, no recomputed chain).",
            examples: ["verify audit", "audit anchor", "find audit where user = admin order by id desc limit 5"]),
        CommandHelp(
            name: "dry-run", synopsis: "dry-run [on|off]",
            summary: "Preview every change and roll it back; the prompt shows it.", examples: ["dry-run on", "dry-run off"]),
        CommandHelp(
            name: "set",
            synopsis:
                "set confirm N | set format table|csv|json | set pager on|off|\"COMMAND\" | set color auto|on|off | set busy_timeout SECONDS",
            summary:
                "Session settings: ask before changes of more than N records; default output format; the pager for output longer than the screen; colours in errors; how long a change waits for another writer (30 s). The shell keeps all but busy_timeout in ~/.config/rolo/config.",
            examples: ["set confirm 100", "set format table", "set pager \"less -S\"", "set color auto"]),
        CommandHelp(
            name: "help", synopsis: "help [COMMAND]", summary: "This list, or one command's syntax and examples.", examples: ["help find"]),
        CommandHelp(name: "quit", synopsis: "quit | exit", summary: "Leave the shell (Ctrl-D does too).", examples: []),
    ]

    /// Commands (and words) whose help is another topic's.
    static let aliases = [
        "avg": "sum", "min": "sum", "max": "sum", "exit": "quit", "commit": "begin", "rollback": "begin",
        "revoke": "grant", "allow": "role", "deny": "role", "drop": "role", "login": "as", "deactivate": "user",
        "activate": "user", "move": "user", "task": "add", "audit": "verify", "anchor": "verify",
    ]

    static func run(topic: Located<String>?, output: OutputSink) throws {
        guard let topic else {
            // Each topic with the other commands it covers, so the list names every command.
            output.line("Commands (help COMMAND for syntax and examples):")
            let labels = topics.map { help in
                ([help.name] + Parser.commands.filter { aliases[$0] == help.name }).joined(separator: ", ")
            }
            let width = (labels.map(\.count).max() ?? 8) + 2
            for (help, label) in zip(topics, labels) {
                output.line("  " + label + String(repeating: " ", count: width - label.count) + help.summary)
            }
            output.line("")
            output.line("Entities: " + Catalog.entities.filter { $0.kind == .domain }.map(\.name).joined(separator: ", "))
            output.line("Values: \"text\", 42, $5,000, 2026-11-22, today, 3 days ago, in 2 weeks, this quarter, me, my team")
            return
        }
        let name = aliases[topic.value] ?? topic.value
        guard let help = topics.first(where: { $0.name == name }) else {
            let near = Suggestions.nearest(to: topic.value, in: topics.map(\.name))
            throw Diagnostic(
                .unknownCommand, "no help for '\(topic.value)'", at: topic.range,
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
