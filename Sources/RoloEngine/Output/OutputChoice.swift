import RoloSyntax

/// The output format a command prints in: its own `as FORMAT` (or `--format`), else the
/// session's `set format`, else a table. One of the engine's services (docs/architecture.md):
/// a command receives the choice made as `context.format`.
enum OutputChoice {
    static func format(for command: any Command, _ statement: ParsedStatement, default session: OutputFormat?) throws -> OutputFormat {
        if let option = statement.option("format"), let value = option.value {
            guard let format = OutputFormat(rawValue: value.value) else {
                throw Diagnostic(
                    .unknownOption, "unknown format '\(value.value)'", at: value.range,
                    help: "formats are table, csv and json (and bars for count … by)")
            }
            if format == .bars {
                guard type(of: command).drawsBars else {
                    throw Diagnostic(
                        .usage, "bars draws the groups of a count or sum, not this command", at: value.range,
                        help: "formats here are table, csv and json")
                }
            }
            return format
        }
        return session ?? .table
    }
}
