import GRDB
import RoloStore
import RoloSyntax

/// A column of a result: its header and the type used to format its values.
public struct ResultColumn: Sendable {
    public let header: String
    public let type: FieldType?
    /// For a column of record numbers (`id`, `account_id`): the table whose numbers it holds. A
    /// table sizes it for that table's largest number, so no number is ever cut.
    public var numbersOf: String?
    /// The width of the largest number such a column can show, found before the first row.
    public var numberWidth: Int?

    public init(_ header: String, _ type: FieldType?, numbersOf: String? = nil) {
        self.header = header
        self.type = type
        self.numbersOf = numbersOf
    }
}

/// Receives a result row by row, so large results stream with flat memory.
public protocol ResultWriter {
    mutating func begin(_ columns: [ResultColumn])
    mutating func row(_ values: [DatabaseValue])
    /// Ends the result; `note` is printed under a table (e.g. hidden fields).
    mutating func end(note: String?)
}

/// Picks a writer for a format.
public enum ResultWriters {
    public static func make(_ format: OutputFormat, output: OutputSink) -> any ResultWriter {
        switch format {
        case .table: return TableWriter(output: output)
        case .csv: return CSVWriter(output: output)
        case .json: return JSONWriter(output: output)
        case .bars: return BarsWriter(output: output)
        }
    }
}

/// Aligned columns with a header rule and `(N rows)`, psql style.
///
/// Column widths come from the first 1,000 rows; later rows stream with those widths and
/// longer values are cut with `…`, so even a million rows print without holding them all. Record
/// numbers are never cut: past 1,000 rows their columns are as wide as their table's largest
/// number (`ResultColumn.numberWidth`, found before the first row), and on a narrow terminal
/// they keep their width while text gives way.
/// Widths are display widths (`DisplayWidth`: CJK and emoji take two columns, combining marks
/// none). On a terminal the table fits its width: the widest text columns are cut first, numbers
/// last; piped, each column keeps up to 60 columns. `show` and `as csv` give whole values.
public struct TableWriter: ResultWriter {
    let output: OutputSink
    var columns: [ResultColumn] = []
    var pending: [[String]] = []
    var widths: [Int] = []
    var numeric: [Bool] = []
    /// Record-number columns, never cut.
    var fixed: [Bool] = []
    var flushed = false
    var count = 0
    /// The terminal's width, or nil when piped.
    let terminalWidth: Int?
    static let sampleSize = 1000
    static let maxWidth = 60
    /// Columns narrower than this are not cut to fit the terminal (a wider table wraps instead).
    static let minimumWidth = 3

    public init(output: OutputSink) {
        self.output = output
        self.terminalWidth = output.width
    }

    public mutating func begin(_ columns: [ResultColumn]) {
        self.columns = columns.map {
            var column = ResultColumn(TerminalText.safe($0.header), $0.type, numbersOf: $0.numbersOf)
            column.numberWidth = $0.numberWidth
            return column
        }
        widths = self.columns.map { DisplayWidth.of($0.header) }
        numeric = columns.map { $0.type == .money || $0.type == .integer }
        fixed = columns.map { $0.numbersOf != nil }
        if terminalWidth == nil { widths = widths.map { min(Self.maxWidth, $0) } }
    }

    public mutating func row(_ values: [DatabaseValue]) {
        count += 1
        // Display text is already sanitised (controls `�`, line breaks and tabs spaces), so a
        // value cannot break a row or move the terminal's cursor.
        let cells = zip(values, columns).map { ValueFormatter.display($0, $1.type) }
        if flushed {
            output.write(render(cells))
            return
        }
        let cap = terminalWidth == nil ? Self.maxWidth : Int.max
        for (i, cell) in cells.enumerated() { widths[i] = min(cap, max(widths[i], DisplayWidth.of(cell))) }
        pending.append(cells)
        if pending.count >= Self.sampleSize {
            // More rows may follow, with longer numbers than these: record numbers get room for
            // their table's largest (a shorter result was measured whole).
            for (i, column) in columns.enumerated() { widths[i] = max(widths[i], column.numberWidth ?? 0) }
            flush()
        }
    }

    mutating func flush() {
        guard !flushed else { return }
        flushed = true
        if let terminalWidth { widths = Self.fit(widths, numeric: numeric, into: terminalWidth, fixed: fixed) }
        let header = columns.enumerated().map { DisplayWidth.pad($1.header, to: widths[$0]) }.joined(separator: " │ ")
        output.write(" " + header.trimmingTrailing() + "\n")
        output.write(widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: "┼") + "\n")
        for cells in pending { output.write(render(cells)) }
        pending = []
    }

    public mutating func end(note: String?) {
        flush()
        output.write("(\(count) row\(count == 1 ? "" : "s"))\n")
        if let note { output.write(note + "\n") }
    }

    private func render(_ cells: [String]) -> String {
        var parts: [String] = []
        for (i, cell) in cells.enumerated() {
            parts.append(DisplayWidth.pad(cell, to: widths[i], right: numeric[i]))
        }
        return " " + parts.joined(separator: " │ ").trimmingTrailing() + "\n"
    }

    /// Column widths that fit a table into `total` columns (one space before the first column,
    /// ` │ ` between columns; the rule under the header is one column longer than a row).
    ///
    /// Text columns give way first, numbers only when text alone cannot make room: the widest
    /// columns are cut to a common width (the largest that fits), narrower ones keep theirs, and
    /// columns are cut no narrower than `minimumWidth` (then the table is wider than `total`).
    /// `fixed` columns (record numbers) are never cut: the others share what they leave.
    public static func fit(_ widths: [Int], numeric: [Bool], into total: Int, fixed: [Bool] = []) -> [Int] {
        if fixed.contains(true) {
            let kept = widths.indices.filter { fixed[$0] }
            let rest = widths.indices.filter { !fixed[$0] }
            let room = total - kept.reduce(0) { $0 + widths[$1] + 3 }
            var result = widths
            let fitted = fit(rest.map { widths[$0] }, numeric: rest.map { numeric[$0] }, into: room)
            for (k, index) in rest.enumerated() { result[index] = fitted[k] }
            return result
        }
        let available = total - (3 * widths.count - 1)
        guard !widths.isEmpty, widths.reduce(0, +) > available else { return widths }
        let text = widths.indices.filter { !numeric[$0] }
        let numbers = widths.indices.filter { numeric[$0] }.reduce(0) { $0 + widths[$1] }
        let textMinimum = text.reduce(0) { $0 + min(widths[$1], minimumWidth) }
        var result = widths
        if available - numbers >= textMinimum {
            share(&result, among: text, budget: available - numbers)
        } else {
            for index in text { result[index] = min(widths[index], minimumWidth) }
            share(&result, among: widths.indices.filter { numeric[$0] }, budget: available - textMinimum)
        }
        return result
    }

    /// Cuts the widest of `indices` to a common width so that they add up to `budget`.
    static func share(_ widths: inout [Int], among indices: [Int], budget: Int) {
        let sorted = indices.map { widths[$0] }.sorted()
        var remaining = budget
        var cap = sorted.last ?? 0
        var leftover = 0
        for (k, width) in sorted.enumerated() {
            let left = sorted.count - k
            if width * left > remaining {
                cap = max(remaining / left, 0)
                leftover = max(remaining - cap * left, 0)
                break
            }
            remaining -= width
        }
        if cap < minimumWidth {
            cap = minimumWidth
            leftover = 0
        }
        for index in indices where widths[index] > cap {
            widths[index] = cap + (leftover > 0 ? 1 : 0)
            if leftover > 0 { leftover -= 1 }
        }
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// RFC 4180 CSV with a header line, raw values (money as 1234.56, ISO-8601 times).
public struct CSVWriter: ResultWriter {
    let output: OutputSink
    var columns: [ResultColumn] = []
    /// Text cells a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
    /// carriage return, as OWASP's CSV-injection advice lists) get a leading apostrophe. On for
    /// `export` unless `--raw`; numbers and money are never touched.
    var neutralizesFormulas = false

    public init(output: OutputSink, neutralizesFormulas: Bool = false) {
        self.output = output
        self.neutralizesFormulas = neutralizesFormulas
    }

    /// Whether a text cell starting with `first` would be read as a formula.
    static func startsFormula(_ first: UInt8?) -> Bool {
        guard let first else { return false }
        return first == 0x3D || first == 0x2B || first == 0x2D || first == 0x40 || first == 0x09 || first == 0x0D
    }

    public mutating func begin(_ columns: [ResultColumn]) {
        self.columns = columns
        var header = ""
        for (index, column) in columns.enumerated() {
            if index > 0 { header += "," }
            header += ValueFormatter.csvField(column.header)
        }
        header += "\n"
        output.write(header)
    }

    public mutating func row(_ values: [DatabaseValue]) {
        var line = ""
        for (i, value) in values.enumerated() {
            if i > 0 { line += "," }
            var text = ValueFormatter.raw(value, columns[i].type)
            if neutralizesFormulas, case .string = value.storage, Self.startsFormula(text.utf8.first) { text = "'" + text }
            line += ValueFormatter.csvField(text)
        }
        line += "\n"
        output.write(line)
    }

    public mutating func end(note: String?) {}
}

/// A JSON array of objects, one per line, keys in column order.
public struct JSONWriter: ResultWriter {
    let output: OutputSink
    var keys: [String] = []
    var columns: [ResultColumn] = []
    var count = 0

    public init(output: OutputSink) { self.output = output }

    public mutating func begin(_ columns: [ResultColumn]) {
        self.columns = columns
        keys = columns.map { ValueFormatter.jsonString($0.header) + ": " }
        output.write("[")
    }

    public mutating func row(_ values: [DatabaseValue]) {
        var line = count == 0 ? "\n  {" : ",\n  {"
        for (i, value) in values.enumerated() {
            if i > 0 { line += ", " }
            line += keys[i] + ValueFormatter.json(value, columns[i].type)
        }
        output.write(line + "}")
        count += 1
    }

    public mutating func end(note: String?) {
        output.write(count == 0 ? "]\n" : "\n]\n")
    }
}

/// JSON Lines: one object per line, keys in column order (for loading into other tools).
public struct JSONLinesWriter: ResultWriter {
    let output: OutputSink
    var keys: [String] = []
    var columns: [ResultColumn] = []

    public init(output: OutputSink) { self.output = output }

    public mutating func begin(_ columns: [ResultColumn]) {
        self.columns = columns
        keys = columns.map { ValueFormatter.jsonString($0.header) + ": " }
    }

    public mutating func row(_ values: [DatabaseValue]) {
        var line = "{"
        for (i, value) in values.enumerated() {
            if i > 0 { line += ", " }
            line += keys[i] + ValueFormatter.json(value, columns[i].type)
        }
        output.write(line + "}\n")
    }

    public mutating func end(note: String?) {}
}
