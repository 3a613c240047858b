import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// `checkpoints`: the sandbox's checkpoints — name, when taken and by whom, how many change sets
/// each holds, and its size — `fresh` first, then in the order they were taken.
///
///     checkpoints := 'checkpoints'
///
/// Only in a sandbox (E515); anyone may list them.
struct CheckpointsCommand: Command {
    static let name = "checkpoints"
    static let forms = [form("checkpoints") { _, _ throws(Diagnostic) in CheckpointsCommand() }]
    static let synopsis = "checkpoints"
    static let summary =
        "In a sandbox: its checkpoints, fresh (the state rolo demo made) first — when each was taken and by whom, the change sets it holds, its size."
    static let examples = ["checkpoints"]

    func run(_ context: CommandContext) throws -> CommandResult {
        let (engine, statement) = (context.engine, context.statement)
        try engine.requireSandbox("checkpoints")
        let listings = engine.checkpointListings()
        var writer = ResultWriters.make(context.format, output: context.output)
        writer.begin([
            ResultColumn("checkpoint", .text), ResultColumn("taken", .timestamp), ResultColumn("by", .text),
            ResultColumn("change sets", .integer), ResultColumn("size", .text),
        ])
        for listing in listings {
            let contents = listing.contents
            writer.row([
                listing.name.databaseValue, (contents?.label?.takenAt).databaseValue,
                (contents?.label?.takenBy ?? (contents == nil ? "(not a checkpoint Rolo can read)" : nil)).databaseValue,
                contents.map { $0.changeSets.databaseValue } ?? .null, Sandbox.size(listing.bytes).databaseValue,
            ])
        }
        writer.end(note: listings.isEmpty ? "checkpoint NAME keeps one" : "reset NAME returns to one; reset alone returns to fresh")
        var result = CommandResult()
        result.rows = listings.count
        return result
    }
}
