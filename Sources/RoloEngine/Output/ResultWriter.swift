import GRDB
import RoloStore
import RoloSyntax

/// A column of a result: its header and the type used to format its values.
public struct ResultColumn: Sendable {
    public let header: String
    public let type: FieldType?
    public init(_ header: String, _ type: FieldType?) {
        self.header = header
        self.type = type
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
        }
    }
}

/// Aligned columns with a header rule and `(N rows)`, psql style.
///
/// Column widths come from the first 1,000 rows; later rows stream with those widths and
/// longer values are cut with `…`, so even a million rows print without holding them all.
public struct TableWriter: ResultWriter {
    let output: OutputSink
    var columns: [ResultColumn] = []
    var pending: [[String]] = []
    var widths: [Int] = []
    var flushed = false
    var count = 0
    static let sampleSize = 1000
    static let maxWidth = 60

    public init(output: OutputSink) { self.output = output }

    public mutating func begin(_ columns: [ResultColumn]) {
        self.columns = columns
        widths = columns.map { $0.header.count }
    }

    public mutating func row(_ values: [DatabaseValue]) {
        count += 1
        let cells = zip(values, columns).map { Self.clean(ValueFormatter.display($0, $1.type)) }
        if flushed {
            output.write(render(cells))
            return
        }
        for (i, cell) in cells.enumerated() { widths[i] = min(Self.maxWidth, max(widths[i], cell.count)) }
        pending.append(cells)
        if pending.count >= Self.sampleSize { flush() }
    }

    mutating func flush() {
        guard !flushed else { return }
        flushed = true
        let header = columns.enumerated().map { pad($1.header, widths[$0], right: false) }.joined(separator: " │ ")
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
            let numeric = columns[i].type == .money || columns[i].type == .integer
            parts.append(pad(cell, widths[i], right: numeric))
        }
        return " " + parts.joined(separator: " │ ").trimmingTrailing() + "\n"
    }

    private func pad(_ text: String, _ width: Int, right: Bool) -> String {
        var text = text
        if text.count > width { text = String(text.prefix(max(0, width - 1))) + "…" }
        let fill = String(repeating: " ", count: width - text.count)
        return right ? fill + text : text + fill
    }

    static func clean(_ s: String) -> String {
        guard s.contains(where: { $0 == "\n" || $0 == "\t" || $0 == "\r" }) else { return s }
        return s.map { $0 == "\n" || $0 == "\t" || $0 == "\r" ? " " : String($0) }.joined()
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

    public init(output: OutputSink) { self.output = output }

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
            line += ValueFormatter.csvField(ValueFormatter.raw(value, columns[i].type))
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
