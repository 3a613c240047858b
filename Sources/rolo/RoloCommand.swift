import ArgumentParser
import Foundation
import RoloEngine
import RoloShell
import RoloStore
import RoloSyntax

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

    /// Parses the command line and runs the command. A wrong command line is a usage error (E702,
    /// status 2) in Rolo's one error format, not argument-parser's own (status 64); `--help` and
    /// `--version` print as argument-parser prints them. The commands show their own errors and
    /// throw only the `ExitCode` that `Launcher.fail` chose.
    static func main() {
        // `rolo --help` is also the help of the default command, `rolo --db FILE …`: its options.
        if [["--help"], ["-h"], ["help"]].contains(Array(CommandLine.arguments.dropFirst())) {
            print(topHelp())
            return
        }
        // `rolo FILE.rolo --help`: the script's own help (its parameters), as a program's would be.
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }),
            let script = arguments.first(where: { $0.hasSuffix(".rolo") && !$0.hasPrefix("-") })
        {
            do {
                print(try Script.helpLines(forFile: script).joined(separator: "\n"))
                return
            } catch {
                Foundation.exit(Launcher.fail(error).rawValue)
            }
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let status as ExitCode {
            Foundation.exit(status.rawValue)
        } catch {
            // Help and the version arrive as errors too, from parsing or from argument-parser's help command.
            if exitCode(for: error) == .success { exit(withError: error) }
            Foundation.exit(Launcher.fail(commandLineError(error)).rawValue)
        }
    }

    /// The root's help with the arguments and options of `rolo --db FILE …` (a hidden default
    /// command, whose options argument-parser shows only under `rolo --db x --help`).
    static func topHelp() -> String {
        let root = helpMessage()
        let open = helpMessage(for: OpenCommand.self)
        guard let arguments = open.range(of: "\nARGUMENTS:"), let options = root.range(of: "\nOPTIONS:"),
            let subcommands = root.range(of: "\nSUBCOMMANDS:")
        else { return root }
        var sections = String(open[arguments.lowerBound...])
        while sections.last?.isNewline == true { sections.removeLast() }
        let usage = "USAGE: rolo [--db <db>] [--user <user>] [-c <command>] [<options>] [<script> ...]\n       rolo <subcommand>"
        return root[..<options.lowerBound].replacingOccurrences(of: "USAGE: rolo <subcommand>", with: usage) + sections + "\n"
            + root[subcommands.lowerBound...]
    }

    /// argument-parser's message for a command line it refused, pointing at the help of the command
    /// it was for.
    static func commandLineError(_ error: any Error) -> Diagnostic {
        var message = message(for: error)
        if let first = message.first { message.replaceSubrange(...message.startIndex, with: first.lowercased()) }
        let names = configuration.subcommands.map { $0.configuration.commandName ?? "" }
        let subcommand = CommandLine.arguments.dropFirst().first.flatMap { names.contains($0) && $0 != "open" ? $0 : nil }
        return Diagnostic(.commandLine, message, help: "see `rolo \(subcommand.map { $0 + " " } ?? "")--help`")
    }
}
