import GRDB
import RoloStore
import RoloSyntax

/// `audit history [ENTITY]`: the audits kept by `audit … --save`, oldest first, as a trend — the
/// data-governance article's seventh step, repeat.
extension AuditCommand {
    /// The columns of the trend: a name and the findings' keys it adds up.
    static let trend: [(String, [String])] = [
        ("duplicates", ["duplicates"]), ("incorrect", ["invalid_emails", "unusable_phones", "impossible_dates"]),
        ("conflicts", ["email_names", "person_companies", "company_account", "website_names"]),
    ]

    func showHistory(_ context: CommandContext) throws -> CommandResult {
        let entity = try entities()
        guard entity.count == 1, let audited = entity.first else {
            throw Diagnostic(.usage, "audit history shows one entity at a time", at: self.entity?.range, help: "e.g. audit history contacts")
        }
        _ = try context.access.require(.read, audited, at: self.entity?.range ?? context.statement.range)
        let snapshots = CRMSchema.auditSnapshots
        let query = Select(Select.columns(["created_at", "records", "findings", "report"], of: "t0"), from: snapshots.name, as: "t0")
            .where(Sql.equals(Sql.column("t0", "entity"), Sql.value(audited.name))).ordered(by: Sql.column("t0", "created_at"), Sql.id("t0"))
        let rows: [(date: String, records: Int, findings: Int, report: AuditReport?)] = try context.store.inDatabase { db in
            try Row.fetchAll(db, query.sql).map {
                (try $0.decode(atIndex: 0), try $0.decode(atIndex: 1), try $0.decode(atIndex: 2), try? AuditReport.decode(try $0.decode(atIndex: 3)))
            }
        }
        let output = context.output
        guard !rows.isEmpty else {
            output.line("no saved audits of \(audited.name) yet: audit \(audited.name) --save keeps one")
            return CommandResult()
        }
        let most = max(1, rows.map(\.findings).max() ?? 1)
        var table: [[String]] = [["date", "records", "findings"] + Self.trend.map(\.0) + ["decayed", ""]]
        for row in rows {
            let findings = row.report.map { report in Self.trend.map { _, keys in keys.compactMap { report.count($0) }.reduce(0, +) } }
            let decayed = row.report.map { report in
                report.sections.first { $0.step == 7 }?.findings.map(\.count).max() ?? 0
            }
            let date = String(row.date.prefix(16)).replacingOccurrences(of: "T", with: " ")
            var cells: [String] = [date, AuditReport.number(row.records), AuditReport.number(row.findings)]
            for index in Self.trend.indices {
                cells.append(findings.map { AuditReport.number($0[index]) } ?? "?")
            }
            cells.append(decayed.map { AuditReport.number($0) } ?? "?")
            cells.append(AuditReport.bar(Double(row.findings) / Double(most), width: 20))
            table.append(cells)
        }
        let widths = table[0].indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        for (index, line) in table.enumerated() {
            let cells = line.enumerated().map { column, cell in
                column == 0 || column == line.count - 1
                    ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            output.line((" " + cells.joined(separator: " │ ")).trimmingTrailingSpaces)
            if index == 0 { output.line(widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: "┼")) }
        }
        output.line("(\(rows.count) \(rows.count == 1 ? "audit" : "audits"); decayed: the most of one decaying field)")
        var result = CommandResult()
        result.rows = rows.count
        return result
    }
}
