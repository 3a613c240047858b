import GRDB
import RoloStore
import RoloSyntax

/// `as bars`: a grouped count or sum as horizontal bars, one per group, scaled so the longest
/// bar fills the line (the terminal's width, 80 columns when not on a terminal), the value
/// beside each bar — money as money.
///
/// ```
///  stage          count
///  prospecting    ███████████████████████████████████████████████████████████ 134
///  lost           ██████████████████████████████████████████████████████████▋ 133
/// ```
///
/// Bars are drawn in eighths of a column (▏▎▍▌▋▊▉█); a positive value too small for an eighth
/// still gets one, so no group looks empty. Zero, empty and negative values have no bar, only
/// their figure. The groups are held until the end (the longest bar is only known then); a chart
/// has one line per group, so that is fine.
public struct BarsWriter: ResultWriter {
    let output: OutputSink
    let width: Int
    var columns: [ResultColumn] = []
    var groups: [(label: String, value: Double, text: String)] = []
    /// A label takes at most this share of the line; longer ones are cut with `…`.
    static let labelShare = 3
    static let minimumBar = 10
    static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// - Parameter width: the line's width; by default the terminal's, or 80.
    public init(output: OutputSink, width: Int? = nil) {
        self.output = output
        self.width = width ?? output.width ?? 80
    }

    public mutating func begin(_ columns: [ResultColumn]) {
        self.columns = columns.map { ResultColumn(TerminalText.safe($0.header), $0.type) }
    }

    public mutating func row(_ values: [DatabaseValue]) {
        guard let last = values.last, let column = columns.last else { return }
        let label = zip(values.dropLast(), columns.dropLast())
            .map { value, column in
                let text = ValueFormatter.display(value, column.type)
                return text.isEmpty ? "(none)" : text
            }
            .joined(separator: " · ")
        let number: Double
        switch last.storage {
        case .int64(let value): number = Double(value)
        case .double(let value): number = value
        default: number = 0
        }
        let text = ValueFormatter.display(last, column.type)
        groups.append((label, number, text.isEmpty ? "(none)" : text))
    }

    public mutating func end(note: String?) {
        let labelHeader = columns.dropLast().map(\.header).joined(separator: " · ")
        let valueHeader = columns.last?.header ?? ""
        let widest = groups.map { DisplayWidth.of($0.label) }.max() ?? 0
        let labelWidth = min(max(widest, DisplayWidth.of(labelHeader)), max(8, width / Self.labelShare))
        let valueWidth = groups.map { DisplayWidth.of($0.text) }.max() ?? 0
        // " label  bar value": one space before, two after the label, one before the value.
        let barWidth = max(Self.minimumBar, width - 1 - labelWidth - 2 - 1 - valueWidth)
        let largest = groups.map(\.value).max() ?? 0
        var text = " " + DisplayWidth.pad(labelHeader, to: labelWidth) + "  " + valueHeader + "\n"
        for group in groups {
            let bar = Self.bar(group.value, of: largest, width: barWidth)
            text += " " + DisplayWidth.pad(group.label, to: labelWidth) + "  " + bar + (bar.isEmpty ? "" : " ") + group.text + "\n"
        }
        if let note { text += note + "\n" }
        output.write(text)
    }

    /// A bar for `value` where `largest` fills `width` columns, in eighths of a column.
    public static func bar(_ value: Double, of largest: Double, width: Int) -> String {
        guard value > 0, largest > 0, value.isFinite, largest.isFinite else { return "" }
        let units = max(1, Int((min(value / largest, 1) * Double(width * 8)).rounded()))
        return String(repeating: "█", count: units / 8) + eighths[units % 8]
    }
}
