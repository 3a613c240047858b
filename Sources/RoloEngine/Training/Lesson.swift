import Foundation
import GRDB
import RoloStore
import RoloSyntax

/// A lesson or a recording, read as steps: each command with the comment lines before it (its
/// narration); in a lesson, each `task` with the `expect`s and `hint`s after it; the comments after
/// the last statement make a last step of their own.
///
/// Loading checks everything before any step is shown: the file is there, its syntax, the order
/// of its steps (E523), and — for `lesson` — that every `expect` can be checked by this user on
/// this database (E517, one line naming the file, line and column).
struct Lesson {
    let script: Script
    /// The file as found (relative to the working folder, or absolute).
    let path: String
    let steps: [Step]

    struct Step {
        /// The comment lines before it, without their `#`.
        var narration: [String]
        var kind: Kind

        enum Kind {
            case command(ParsedStatement)
            case task(Task)
            /// Narration after the last statement.
            case closing
        }
    }

    struct Task {
        let text: String
        /// Which task it is, from 1.
        let number: Int
        var expects: [ExpectCommand] = []
        var hints: [String] = []
        let statement: ParsedStatement

        /// Commands that answer it: a find or a figure for `expect result`, a change otherwise;
        /// others (`show`, `help`, a look around) are no try.
        func isAnswered(by statement: ParsedStatement) -> Bool {
            if expects.contains(where: \.wantsRead) { return statement.unit is FindCommand || statement.unit is any AggregateQueryCommand }
            return statement.changesData
        }
    }

    /// The lesson's title: its first comment line.
    var title: String? { script.description.first }
    var taskCount: Int {
        var count = 0
        for step in steps {
            if case .task = step.kind { count += 1 }
        }
        return count
    }

    /// Reads the file `path` names (from the folder of `including`, else the working folder; for
    /// a lesson, the lessons folder too, with or without `.rolo`).
    /// - Parameter what: the file in the user's words (`file to play`, `lesson`).
    static func load(_ path: Located<String>, from including: String?, what: String, lessonsFolder: String? = nil) throws -> Lesson {
        let found = locate(path.value, from: including, lessonsFolder: lessonsFolder)
        guard let found else {
            // One line: the file is the problem, not the command.
            throw Diagnostic(
                .fileNotFound, "no such \(what): \(path.value)",
                help: lessonsFolder != nil ? "lessons lists the lessons Rolo comes with" : nil)
        }
        return try Lesson(script: try read(Located(found, path.range), what: what), path: found)
    }

    /// The file's script; an expect that cannot be checked is said in one line.
    private static func read(_ path: Located<String>, what: String) throws(Diagnostic) -> Script {
        do throws(Diagnostic) {
            return try Script.load(path, from: nil, what: what)
        } catch {
            guard error.code == .uncheckableExpect else { throw error }
            throw oneLine(error, file: path.value)
        }
    }

    /// Where the file is, if anywhere.
    static func locate(_ name: String, from including: String?, lessonsFolder: String?) -> String? {
        var candidates = [Script.resolve(name, from: including)]
        if let lessonsFolder, !name.hasPrefix("/") {
            candidates += [lessonsFolder + "/" + name, lessonsFolder + "/" + name + ".rolo"]
        }
        return candidates.first { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }

    /// The steps of a checked script.
    init(script: Script, path: String) throws {
        self.script = script
        self.path = path
        var builder = StepBuilder(comments: TrainingSession.commentLines(script.bytes), origin: Diagnostic.Origin(file: path, source: script.source))
        var statements = script.statements()
        do {
            while let statement = try statements.next() { try builder.add(statement) }
        } catch let diagnostic as Diagnostic {
            throw diagnostic.located(in: builder.origin)
        }
        self.steps = try builder.finish()
    }

    /// Steps as the statements come: comments before a statement are its narration; a task takes
    /// the expects and hints after it.
    private struct StepBuilder {
        var comments: [(line: Int, text: String)]
        let origin: Diagnostic.Origin
        var steps: [Step] = []
        /// The task being read, and its narration.
        var task: Task? = nil
        var taskNarration: [String] = []
        var tasks = 0

        init(comments: [(line: Int, text: String)], origin: Diagnostic.Origin) {
            self.comments = comments
            self.origin = origin
        }

        /// The comments before `line` (all that are left, when nil), without their `#`.
        mutating func narration(before line: Int?) -> [String] {
            var lines: [String] = []
            while !comments.isEmpty {
                let next = comments[0]
                if let line, next.line >= line { break }
                comments.removeFirst()
                var text = Substring(next.text).dropFirst()
                if text.first == " " { text = text.dropFirst() }
                lines.append(String(text))
            }
            return lines
        }

        mutating func add(_ statement: ParsedStatement) throws {
            let said = narration(before: statement.range.start.line)
            if let command = statement.command as? TaskCommand {
                try closeTask()
                tasks += 1
                task = Task(text: command.text.value, number: tasks, statement: statement)
                taskNarration = said
            } else if let expect = statement.command as? ExpectCommand {
                guard task != nil else {
                    throw malformed("an expect belongs to a task: this one follows none", at: statement.range, help: "write task \"…\" before it")
                }
                taskNarration += said
                task?.expects.append(expect)
            } else if let hint = statement.command as? HintCommand {
                guard task != nil else {
                    throw malformed("a hint belongs to a task: this one follows none", at: statement.range, help: "write task \"…\" before it")
                }
                taskNarration += said
                task?.hints.append(hint.text.value)
            } else {
                try closeTask()
                steps.append(Step(narration: said, kind: .command(statement)))
            }
        }

        /// The task being read becomes a step; it must have an expect.
        mutating func closeTask() throws {
            guard let open = task else { return }
            guard !open.expects.isEmpty else {
                throw malformed(
                    "task \(open.number) has no expect: the lesson could not tell a right answer", at: open.statement.range,
                    help: "follow it with expect …, e.g. expect result find deals where stage = won")
            }
            steps.append(Step(narration: taskNarration, kind: .task(open)))
            task = nil
            taskNarration = []
        }

        mutating func finish() throws -> [Step] {
            try closeTask()
            let closing = narration(before: nil)
            if !closing.isEmpty { steps.append(Step(narration: closing, kind: .closing)) }
            return steps
        }

        func malformed(_ message: String, at range: SourceRange, help: String) -> Diagnostic {
            Diagnostic(.malformedLesson, message, at: range, help: help).located(in: origin)
        }
    }

    /// Every `expect` can be checked now, by this user: names bound, queries compiled, each
    /// assertion evaluated once. A `let` or `param` earlier in the lesson stands for a value of its
    /// type meanwhile.
    func validateExpects(_ engine: Engine) throws {
        let saved = engine.session.parameters
        defer { engine.session.parameters = saved }
        for step in steps {
            switch step.kind {
            case .command(let statement):
                if let bind = statement.command as? LetCommand {
                    let type = try? engine.store.inDatabase { db in try bind.query.compile(engine, db).type }
                    engine.session.parameters[bind.name.value] = .typed(.null, type ?? nil)
                } else if let param = statement.command as? ParamCommand {
                    for declaration in param.declarations where engine.session.parameters[declaration.name.value] == nil {
                        engine.session.parameters[declaration.name.value] = .text(declaration.defaultValue ?? "")
                    }
                }
            case .task(let task):
                for expect in task.expects {
                    do {
                        try expect.validate(engine)
                    } catch {
                        let diagnostic = (error as? Diagnostic) ?? Diagnostic(.uncheckableExpect, "\(error)")
                        throw Self.oneLine(
                            Diagnostic(
                                .uncheckableExpect, "this expect cannot be checked: \(diagnostic.message)", at: expect.range,
                                help: diagnostic.help),
                            file: path)
                    }
                }
            case .closing:
                continue
            }
        }
    }

    /// A lesson's error as one line, `FILE:LINE:COLUMN: message`, without the caret block.
    static func oneLine(_ diagnostic: Diagnostic, file: String) -> Diagnostic {
        var place = "\(file): "
        if let range = diagnostic.range { place = "\(file):\(range.start.line):\(range.start.column): " }
        return Diagnostic(diagnostic.code, "\(place)\(diagnostic.message)", help: diagnostic.help)
    }
}

/// Where a learner is in a lesson, kept between sessions in a small file of Rolo's own under the
/// state folder (`TrainingSession.progressFolder`), one per lesson file and Rolo user, written
/// through the one output-file policy (`OutputFile`: a temporary file renamed over the last).
///
///     # Rolo lesson progress: where lesson FILE continues.
///     lesson = /…/lessons/reading-the-crm.rolo
///     user = bob
///     digest = 8c3f…            the file's contents; a changed lesson starts again
///     step = 4                  the next step, from 1
///     done = 1,2                the tasks answered
struct LessonProgress: Equatable {
    var step = 1
    var done: [Int] = []
    var digest = ""

    /// The progress file for `lesson` as `user` sees it.
    static func file(for lesson: String, user: String, in folder: String) -> String {
        let canonical = realpath(lesson, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? lesson
        let stem = safeName(URL(fileURLWithPath: lesson).deletingPathExtension().lastPathComponent)
        let hash = String(digest(Array(canonical.utf8)).prefix(8))
        return "\(folder)/\(stem).\(safeName(user)).\(hash).progress"
    }

    /// Letters, digits, `-` and `_` kept; anything else `_`.
    private static func safeName(_ text: String) -> String {
        var safe = ""
        for character in text {
            let kept: Bool = character.isLetter || character.isNumber || character == "-" || character == "_"
            safe.append(kept ? character : "_")
        }
        return safe
    }

    /// The progress kept in `path`, if any, for a lesson whose contents have `digest`; nil when
    /// there is none or it was for other contents.
    static func load(_ path: String, digest: String) -> LessonProgress? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var progress = LessonProgress()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !line.hasPrefix("#") else { continue }
            switch parts[0] {
            case "digest": progress.digest = parts[1]
            case "step": progress.step = Int(parts[1]) ?? 1
            case "done": progress.done = parts[1].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            default: continue
            }
        }
        return progress.digest == digest ? progress : nil
    }

    /// Writes it (the folder made, mode 0700, if missing).
    func save(to path: String, lesson: String, user: String, protected: OutputFile.Protected) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = try OutputFile(path: path, kind: .lessonProgress, overwrite: true, protected: protected)
        file.write("# Rolo lesson progress: where `lesson` continues this lesson.\n")
        file.write("lesson = \(lesson)\nuser = \(user)\ndigest = \(digest)\nstep = \(step)\n")
        file.write("done = \(done.map(String.init).joined(separator: ","))\n")
        try file.commit(overwrite: true)
    }

    /// FNV-1a, 64 bits, in hex: a file's contents told apart, not a secret.
    static func digest(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
