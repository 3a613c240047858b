import RoloSyntax

/// A row that cannot be imported: its line, the column and value at fault, and why.
struct Problem {
    let line: Int
    let column: String?
    let value: String?
    let code: DiagnosticCode
    let reason: String
    /// The reason as the summary groups it, where `reason` names something that varies from row to
    /// row: "repeats an earlier row's email" for "repeats row 4's email".
    var kindReason: String? = nil
    /// The earlier row a repeated key first appeared on, for the summary's examples (`12/4`).
    var earlierLine: Int? = nil

    /// `column "Email": "not-an-email" is not an email address`.
    var text: String {
        var text = column.map { "column \"\($0.clippedForMessage)\": " } ?? "the row "
        if let value { text += ChangeRecorder.quoted(value) + " " }
        return text + reason
    }

    /// What problems of one kind share: the column and the reason, without the value.
    var kind: String { (column.map { "column \"\($0.clippedForMessage)\": " } ?? "row ") + (kindReason ?? reason) }

    func diagnostic(file: String, at range: SourceRange, more: Int = 0, listed: Bool = false) -> Diagnostic {
        let others = "\(more.formatted()) more \(more == 1 ? "row has" : "rows have") problems"
        let help: String
        if more > 0 {
            help =
                others
                + (listed ? "; --skip-bad FILE imports the good rows" : "; --dry-run lists the commonest, --skip-bad FILE imports the rest")
        } else {
            help = "fix the row, or add --skip-bad FILE to import the other rows"
        }
        // Listed by a dry-run, which imports nothing anyway: the row and its problem.
        return Diagnostic(code, "\(file):\(line): \(text)" + (listed ? "" : "; nothing was imported"), at: range, help: help)
    }
}

/// The rows rejected so far: the first (for the error), each line's reason (for the rejects file),
/// and tallies by kind (for the summary).
struct ProblemLog {
    /// Keep going after a problem (a dry-run or --skip-bad); otherwise the first one is thrown.
    var collecting = false
    private(set) var first: Problem? = nil
    private(set) var reasons: [Int: String] = [:]
    /// Problems by kind, in the order each kind was first met.
    private var tallies: [(kind: String, count: Int, examples: [Problem])] = []
    private var tallyIndex: [String: Int] = [:]

    var rejected: Int { reasons.count }

    mutating func add(_ problem: Problem, file: String, at range: SourceRange) throws {
        guard reasons[problem.line] == nil else { return }
        guard collecting else { throw problem.diagnostic(file: file, at: range) }
        if let earlier = first, earlier.line < problem.line {
        } else {
            first = problem
        }
        reasons[problem.line] = problem.text
        let index = tallyIndex[problem.kind] ?? tallies.count
        if index == tallies.count {
            tallyIndex[problem.kind] = index
            tallies.append((problem.kind, 0, []))
        }
        tallies[index].count += 1
        if tallies[index].examples.count < 3 { tallies[index].examples.append(problem) }
    }

    /// The five commonest kinds of problem, biggest first, with example rows (ties in the order
    /// they were met). Repeats name the row and the earlier one: `rows 12/4 "ana@x.io", 40/9 …`.
    func summary(file: String) -> [String] {
        guard !tallies.isEmpty else { return [] }
        let commonest = tallies.enumerated().sorted { ($0.element.count, -$0.offset) > ($1.element.count, -$1.offset) }.map(\.element)
        var lines = ["commonest reasons:"]
        for tally in commonest.prefix(5) {
            let pairs = tally.examples.allSatisfy { $0.earlierLine != nil }
            let examples = tally.examples.enumerated().map { index, problem in
                let row = pairs ? (index == 0 ? "rows " : "") + "\(problem.line)/\(problem.earlierLine ?? 0)" : "row \(problem.line)"
                return row + (problem.value.map { " " + ChangeRecorder.quoted($0) } ?? "")
            }.joined(separator: ", ")
            lines.append("  \(tally.count.formatted())× \(tally.kind) (e.g. \(examples))")
        }
        return lines
    }
}

extension String {
    /// The text as a message quotes it: cut to about 80 characters, so a five-megabyte header
    /// cell is not echoed whole (ChangeRecorder.quoted cuts values shorter still).
    var clippedForMessage: String {
        count > 80 ? String(prefix(79)) + "…" : self
    }
}
