import Foundation
import RoloSyntax

/// `lesson FILE`: a lesson — a file of narrated commands, played as `play` plays them, and tasks
/// (`task`, `expect`, `hint`) the learner does at the prompt. Each answer is checked before the
/// lesson moves on; a wrong try shows the hint. Where the learner is, is kept (under the state
/// folder), so `lesson FILE` continues there; `--restart` starts again. FILE may be the name of
/// one of the lessons Rolo comes with (`lessons` lists them). Every `expect` is checked before
/// the first step: one that cannot be (E517) refuses the lesson.
///
///     lesson := 'lesson' (STRING | PATH)           options: --restart
struct LessonCommand: Command, RunByScriptRunner {
    var path: Located<String>

    static let name = "lesson"
    static let forms = [
        form("lesson") { parser, _ throws(Diagnostic) in
            LessonCommand(path: try parser.parseWordPath(what: "a lesson, e.g. lesson reading-the-crm"))
        }
    ]
    static let synopsis = "lesson FILE|NAME [--restart]"
    static let summary =
        "Take a lesson: narrated steps, and tasks you do at the prompt, each checked before moving on (a wrong try shows a hint); your place is kept, --restart starts again."
    static let examples: [String] = []
    var isAudited: Bool { false }
}

/// `lessons`: the lessons Rolo comes with, their titles, and how far the acting user got.
///
///     lessons := 'lessons'
struct LessonsCommand: Command {
    static let name = "lessons"
    static let forms = [form("lessons") { _, _ throws(Diagnostic) in LessonsCommand() }]
    static let synopsis = "lessons"
    static let summary = "List the lessons Rolo comes with, and how far you got in each; lesson NAME takes one."
    static let examples: [String] = []
    var isAudited: Bool { false }

    func run(_ context: CommandContext) throws -> CommandResult {
        let training = context.session.training
        guard let folder = training.lessonsFolder,
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".rolo") }).sorted(),
            !names.isEmpty
        else {
            context.output.line("no lessons found (set ROLO_LESSONS to the folder that holds them)")
            return CommandResult()
        }
        var rows: [[String]] = []
        for file in names {
            let path = folder + "/" + file
            let name = String(file.dropLast(5))
            do {
                let lesson = try Lesson.load(Located(path, SourceRange(.start, .start)), from: nil, what: "lesson")
                let kept = LessonProgress.load(
                    LessonProgress.file(for: path, user: context.access.actor.handle, in: training.progressFolder),
                    digest: LessonProgress.digest(lesson.script.bytes))
                let progress: String
                switch kept {
                case nil: progress = "not started"
                case let kept? where kept.step > lesson.steps.count: progress = "finished (\(kept.done.count) of \(lesson.taskCount) done)"
                case let kept?: progress = "at step \(kept.step) of \(lesson.steps.count) (\(kept.done.count) of \(lesson.taskCount) done)"
                }
                rows.append([name, lesson.title ?? "", "\(lesson.taskCount) tasks", progress])
            } catch {
                let reason: String = (error as? Diagnostic)?.message ?? "\(error)"
                rows.append([name, "(cannot be read: \(reason))", "", ""])
            }
        }
        var widths = [0, 0, 0, 0]
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], DisplayWidth.of(cell)) }
        }
        for row in rows {
            var cells: [String] = []
            for (column, cell) in row.enumerated() {
                let pad = column == row.count - 1 ? 0 : widths[column] - DisplayWidth.of(cell)
                cells.append(cell + String(repeating: " ", count: max(0, pad)))
            }
            context.output.line(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        context.output.line("lesson NAME takes one (from \(folder))")
        var result = CommandResult()
        result.rows = rows.count
        return result
    }
}
