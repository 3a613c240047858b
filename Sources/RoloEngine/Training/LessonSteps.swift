import GRDB
import RoloStore
import RoloSyntax

// The statements of a lesson file that are not commands: `task` asks the learner to do
// something, each `expect` after it checks the answer, `hint` helps after a wrong try. `lesson
// FILE` reads them (Lesson.swift); anywhere else they are refused.

/// `task`: what the learner is asked to do.
///
///     task := 'task' STRING
struct TaskCommand: Command, LessonStepStatement {
    var text: Located<String>

    static let name = "task"
    static let forms = [
        form("task") { parser, _ throws(Diagnostic) in
            guard case .string(let text) = parser.current.kind else {
                throw parser.failure(expected: "what the learner is to do, in quotes, e.g. task \"Find the open deals closing this month\"")
            }
            return TaskCommand(text: Located(text, parser.advance().range))
        }
    ]
    static let synopsis = "task \"WHAT TO DO\"   (in a lesson file; followed by expect … and hint \"…\")"
    static let summary =
        "In a lesson file: ask the learner to do something; the expect lines after it check the answer, hint helps after a wrong try. (A CRM task is add task.)"
    static let examples: [String] = []
}

/// `hint`: shown after a wrong try at the task above it (and when the learner types `hint`).
///
///     hint := 'hint' STRING
struct HintCommand: Command, LessonStepStatement {
    var text: Located<String>

    static let name = "hint"
    static let forms = [
        form("hint") { parser, _ throws(Diagnostic) in
            guard case .string(let text) = parser.current.kind else {
                throw parser.failure(expected: "the hint, in quotes, e.g. hint \"open deals are those not won or lost\"")
            }
            return HintCommand(text: Located(text, parser.advance().range))
        }
    ]
    static let synopsis = "hint \"TEXT\"   (in a lesson file, after a task)"
    static let summary = "In a lesson file: a hint for the task above it, shown after a wrong try or when the learner types hint."
    static let examples: [String] = []
}

/// `expect`: how a lesson checks the learner's answer to the task above it, after each command
/// the learner runs.
///
///     expect := 'expect' operand compare-op operand [ STRING ]      the database now (as assert)
///             | 'expect' 'result' ( find-query | aggregate-query )   the answer's result
///             | 'expect' 'dry-run'                                   the answer was a previewed change
///
/// - `expect count contacts where email != lower(email) = 0 "some emails still have capitals"`:
///   an assertion, read as `assert` reads it and checked by its evaluation, after a command that
///   changes data (the learner's change, or its preview).
/// - `expect result find deals where stage not in (won, lost) and close_date in this month`: the
///   learner's last `find` lists the same records (in the same order, when this one has `order
///   by`; its fields do not matter); `expect result count …` (or sum, avg, min, max, without
///   `by`): the learner's last count (or sum…) has the same value.
/// - `expect dry-run`: the learner's last command was a previewed change that found records to
///   change (nothing was kept).
struct ExpectCommand: Command, LessonStepStatement {
    enum Check: Sendable, Equatable {
        case holds(AssertCommand)
        case result(ExpectedResult)
        case dryRun
    }

    /// What the learner's read must come to.
    enum ExpectedResult: Sendable, Equatable {
        /// The same records.
        case records(FindQuery)
        /// The same figure.
        case figure(AggregateQuery)
    }

    var check: Check
    var range: SourceRange

    static let name = "expect"
    static let forms = [
        form("expect") { parser, verb throws(Diagnostic) in
            do throws(Diagnostic) {
                return try ExpectCommand.parse(&parser, verb: verb)
            } catch {
                // A query of several values, a find of several records as one value: not a check.
                let uncheckable: Bool = !error.isUnfinished && (error.code == .invalidAggregate || error.code == .usage)
                guard uncheckable else { throw error }
                throw Diagnostic(.uncheckableExpect, "this expect cannot be checked: \(error.message)", at: error.range, help: error.help)
            }
        }
    ]
    static let synopsis = "expect count …|sum …|VALUE  =|!=|<|<=|>|>=  count …|VALUE [\"MESSAGE\"] | expect result find …|count … | expect dry-run"
    static let summary =
        "In a lesson file: how the task above is checked — the database after the learner's change (an assertion), the learner's find or count (expect result …), or a preview (expect dry-run)."
    static let examples: [String] = []

    private static func parse(_ parser: inout Parser, verb: Token) throws(Diagnostic) -> ExpectCommand {
        if parser.current.isWord("result"), let next = parser.peek().word, ["find", "count", "sum", "avg", "min", "max"].contains(next) {
            _ = parser.advance()
            let start = parser.current.range
            if next == "find" {
                _ = parser.advance()
                let query = try parser.parseFindQuery()
                if let format = query.format {
                    throw Diagnostic(.usage, "expect result compares records, not a format", at: format.range)
                }
                return ExpectCommand(check: .result(.records(query)), range: verb.range.union(parser.previous?.range ?? start))
            }
            guard case .aggregate(let query)? = try parser.parseScalarQuery(for: "expect result", stopAtComparison: false) else {
                throw parser.failure(expected: "count, sum, avg, min or max")
            }
            return ExpectCommand(check: .result(.figure(query)), range: verb.range.union(parser.previous?.range ?? start))
        }
        if parser.current.isWord("dry"), parser.peek().isSymbol(.minus), parser.peek(2).isWord("run") {
            _ = parser.advance()
            _ = parser.advance()
            let end = parser.advance().range
            return ExpectCommand(check: .dryRun, range: verb.range.union(end))
        }
        let assertion = try AssertCommand.parse(&parser, verb: verb)
        return ExpectCommand(check: .holds(assertion), range: assertion.range)
    }

    /// The kind of command that answers the task: a read for `expect result`, a change otherwise.
    var wantsRead: Bool {
        if case .result = check { return true }
        return false
    }

    /// Refuses it when it cannot be checked for this user on this database: its names, values
    /// and queries are bound (and an assertion evaluated once) now, before the lesson starts.
    func validate(_ engine: Engine) throws {
        try engine.store.inDatabase { db in
            switch check {
            case .holds(let assertion):
                _ = try assertion.evaluate(engine, db)
            case .result(.records(let query)):
                _ = try FindRunner(engine: engine, db: db).compile(Self.numbers(query))
            case .result(.figure(let query)):
                _ = try ScalarQuery.aggregate(query).compile(engine, db)
            case .dryRun:
                break
            }
        }
    }

    /// Whether the learner's answer — the last command of the kind the task wants, and what it
    /// did — meets this expectation now.
    /// - Returns: nil when it does, else what to tell the learner (empty: nothing more than "not yet").
    func shortfall(_ engine: Engine, answer: ParsedStatement, result: CommandResult) throws -> String? {
        switch check {
        case .holds(let assertion):
            let (holds, _, _) = try engine.store.inDatabase { db in try assertion.evaluate(engine, db) }
            return holds == true ? nil : (assertion.message ?? "")
        case .dryRun:
            return result.wasDryRun && result.dryRunChanges ? nil : "preview the change with --dry-run (or dry-run on)"
        case .result(.records(let expected)):
            guard let find = answer.unit as? FindCommand else { return "the task asks for records: find them" }
            guard try Catalog.entity(find.query.entity) === Catalog.entity(expected.entity) else {
                return "the task asks for \(try Catalog.entity(expected.entity).name)"
            }
            return try Self.sameRecords(engine, find.query, expected, ordered: !expected.order.isEmpty) ? nil : ""
        case .result(.figure(let expected)):
            let entity = try Catalog.entity(expected.entity)
            guard let aggregate = answer.unit as? any AggregateQueryCommand, aggregate.query.groupBy.isEmpty,
                aggregate.query.function == expected.function, try Catalog.entity(aggregate.query.entity) === entity
            else {
                return "the task asks for one figure: \(expected.function.rawValue) \(entity.name) …"
            }
            // Over the same records (two counts can agree by chance)…
            var theirRecords = FindQuery(entity: aggregate.query.entity)
            theirRecords.filter = aggregate.query.filter
            var ourRecords = FindQuery(entity: expected.entity)
            ourRecords.filter = expected.filter
            guard try Self.sameRecords(engine, theirRecords, ourRecords, ordered: false) else { return "" }
            // …the same figure (a sum of the same field), as an assertion compares them.
            var theirs = aggregate.query
            theirs.format = nil
            theirs.order = []
            theirs.limit = nil
            theirs.having = nil
            let comparison = AssertCommand(
                left: .query(.aggregate(theirs)), op: Located(.equal, range), right: .query(.aggregate(expected)), message: nil,
                range: range)
            let holds = try? engine.store.inDatabase { db in try comparison.evaluate(engine, db).0 }
            return holds == true ? nil : ""
        }
    }

    /// Whether two finds list the same records (in the same order, when `ordered`).
    static func sameRecords(_ engine: Engine, _ theirs: FindQuery, _ ours: FindQuery, ordered: Bool) throws -> Bool {
        let (a, b) = try engine.store.inDatabase { db in
            let runner = FindRunner(engine: engine, db: db)
            return (try Int64.fetchAll(db, runner.compile(numbers(theirs)).sql), try Int64.fetchAll(db, runner.compile(numbers(ours)).sql))
        }
        if ordered { return a == b }
        let same: Bool = Set(a) == Set(b)
        return same && a.count == b.count
    }

    /// A find listing only its records' numbers, in its own order.
    static func numbers(_ query: FindQuery) -> FindQuery {
        var query = query
        query.fields = [Expression(.path([Located("id", query.entity.range)]), query.entity.range)]
        query.fieldLabels = ["id"]
        query.format = nil
        return query
    }
}

/// `task`, `expect` and `hint`: read by `lesson`, refused anywhere else.
protocol LessonStepStatement: Command {}

extension LessonStepStatement {
    var isAudited: Bool { false }

    func run(_ context: CommandContext) throws -> CommandResult {
        throw Diagnostic(
            .usage, "`\(Self.name)` is a step of a lesson file: lesson FILE takes it", at: context.statement.range,
            help: "see help lesson, and the lessons Rolo comes with: lessons")
    }
}
