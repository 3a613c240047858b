import ArgumentParser
import Foundation
import RoloEngine
import RoloShell
import RoloStore

/// `rolo`: open a CRM database in the shell, run one command, or run a script.
@main
struct RoloCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rolo",
        abstract: "A shell and scripting language for the people who run a CRM.",
        discussion: """
            Examples:
              rolo demo                               a sandbox with a sample company
              rolo init crm.db --admin ana            an empty CRM with its first admin
              rolo --db crm.db --user admin           the interactive shell
              rolo --db crm.db -c "count contacts"    one command, as your login's user
              rolo --db crm.db --user admin fix.rolo  a script (- reads standard input)

            Without --user: $ROLO_USER, else the Rolo user named after your login.
            """,
        version: "0.1.0",
        subcommands: [OpenCommand.self, DemoCommand.self, InitCommand.self],
        defaultSubcommand: OpenCommand.self
    )
}
