import Foundation

/// What `audit` found in one entity, in the seven steps' order (issue 22, item 1): what
/// `DataAudit` measured, printed as text for people and as JSON for tools, and kept as JSON by
/// `audit --save` for `audit history`.
struct AuditReport: Codable, Equatable {
    var entity: String
    var records: Int
    /// When it was made (the engine's clock, UTC ISO-8601) and by whom.
    var date: String
    var user: String
    /// Records neither updated nor verified for this many months count as decayed.
    var decayMonths: Int
    var sections: [Section]

    struct Section: Codable, Equatable {
        var step: Int
        var name: String
        /// Plain lines: counts per owner, what the section could not look at and why.
        var lines: [String] = []
        var findings: [Finding] = []
        /// Step 5: how complete each field is.
        var completeness: [Completeness] = []
    }

    /// One kind of problem: how many records have it, a few of them, the `find` (or dry-run) that
    /// lists them all, and what fixes them.
    struct Finding: Codable, Equatable {
        /// A stable name for tools and `audit history` (`invalid_emails`).
        var key: String
        var title: String
        var count: Int
        /// How many of them are valuable records (step 2): findings are ranked by it.
        var valuable: Int = 0
        /// A few records, by their titles ("Ana Ruiz (contact 42)").
        var examples: [String] = []
        /// The exact command that lists them.
        var list: String?
        /// The command that fixes them, and the validation rule that would stop new ones.
        var fix: String?
        var rule: String?
        /// Step 6: the formats in use, most used first.
        var formats: [Format] = []
    }

    struct Format: Codable, Equatable {
        var format: String
        var count: Int
    }

    struct Completeness: Codable, Equatable {
        var field: String
        var filled: Int
    }

    /// The findings' counts added up.
    var totalFindings: Int { sections.flatMap(\.findings).reduce(0) { $0 + $1.count } }

    func count(_ key: String) -> Int? { sections.flatMap(\.findings).first { $0.key == key }?.count }

    // MARK: - JSON

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> AuditReport {
        try JSONDecoder().decode(AuditReport.self, from: Data(text.utf8))
    }

    // MARK: - Text

    /// The report for people: each step's heading, then its lines, findings and bars.
    func text(when: String) -> [String] {
        var out = ["audit of \(entity): \(Self.number(records)) \(records == 1 ? "record" : "records") \(user) may read, \(when)"]
        for section in sections {
            out.append("")
            out.append("\(section.step). \(section.name)")
            for line in section.lines { out.append("   " + line) }
            if !section.completeness.isEmpty {
                let width = section.completeness.map(\.field.count).max() ?? 0
                for item in section.completeness {
                    let share = records == 0 ? 1 : Double(item.filled) / Double(records)
                    let percent = String(format: "%5.1f%%", share * 100)
                    out.append(
                        "   " + item.field.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + percent + "  "
                            + Self.bar(share, width: 20) + (item.filled == records ? "" : "  \(Self.number(records - item.filled)) empty"))
                }
            }
            if section.findings.isEmpty, section.lines.isEmpty, section.completeness.isEmpty { out.append("   nothing found") }
            for finding in section.findings {
                let valuable = finding.valuable > 0 ? " (\(Self.number(finding.valuable)) of them valuable)" : ""
                out.append("   \(Self.number(finding.count)) \(finding.title)\(valuable)")
                guard finding.count > 0 else { continue }
                if !finding.formats.isEmpty {
                    out.append("      formats: " + finding.formats.prefix(6).map { "\($0.format) \(Self.number($0.count))" }.joined(separator: " · "))
                }
                if !finding.examples.isEmpty { out.append("      e.g. " + finding.examples.joined(separator: "; ")) }
                if let list = finding.list { out.append("      list: " + list) }
                if let fix = finding.fix { out.append("      fix:  " + fix) }
                if let rule = finding.rule { out.append("      stop: " + rule) }
            }
        }
        return out
    }

    /// 1234567 → "1,234,567".
    static func number(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result += "," }
            result.append(character)
        }
        return (n < 0 ? "-" : "") + result
    }

    /// A bar of `width` cells for a share of 0…1, in eighths.
    static func bar(_ share: Double, width: Int) -> String {
        let eighths = Int((max(0, min(1, share)) * Double(width * 8)).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
        let text = String(repeating: "█", count: eighths / 8) + partial
        return text + String(repeating: " ", count: max(0, width - text.count))
    }
}
