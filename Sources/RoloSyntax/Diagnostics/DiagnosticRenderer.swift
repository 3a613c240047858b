/// Draws a diagnostic under its source line with a caret, psql and swift-syntax style:
///
///     error[E202]: unknown field 'emial' on contacts
///      --> fix.rolo:3:21
///       |
///     3 | find contacts where emial = "x"
///       |                     ^^^^^
///       = help: did you mean 'email'?
///
/// Without a range or source text to point into, one line and its help:
///
///     rolo: error[E602]: no such script: fix.rolo
///       = help: …
///
/// Plain text when piped; coloured when `colors` is on. The message, the help, the file name and
/// the source line pass through `TerminalText.safe` first (values quoted in them may be stored
/// text, and a script may hold control characters), so only Rolo's own colour codes reach the
/// terminal.
public struct DiagnosticRenderer: Sendable {
    public var colors: Bool

    public init(colors: Bool = false) {
        self.colors = colors
    }

    /// Renders `diagnostic` against the source it was found in.
    ///
    /// - Parameters:
    ///   - source: the whole text the range refers to (a line, or a whole script).
    ///   - file: the script's name, or nil for interactive input.
    ///   - lineOffset: added to line numbers when `source` is part of a larger file.
    public func render(_ diagnostic: Diagnostic, source: String?, file: String?, lineOffset: Int = 0) -> String {
        // An error inside an included file points into that file.
        let source = diagnostic.origin?.source ?? source
        let file = (diagnostic.origin?.file ?? file).map { TerminalText.safe($0) }
        guard let range = diagnostic.range, let source else { return renderPlain(diagnostic, file: file) }
        var out = heading(diagnostic)
        // "\r\n" is one Character: a CRLF script's lines end there too (else its whole text is
        // "the line", each line break a space once sanitised).
        let lines = source.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        let lineIndex = min(range.start.line - 1, max(lines.count - 1, 0))
        // Controls one column wide (`�`), tabs one space: the caret's column stays the character's.
        let lineText = lines.isEmpty ? "" : TerminalText.safe(String(lines[lineIndex]))
        let lineNumber = String(range.start.line + lineOffset)
        let gutter = String(repeating: " ", count: lineNumber.count)
        let location = "\(range.start.line + lineOffset):\(range.start.column)"
        out +=
            "\n\(gutter)--> " + (file.map { "\($0):\(location)" } ?? "line \(range.start.line + lineOffset), column \(range.start.column)")
        out += "\n\(gutter) |"
        out += "\n\(lineNumber) | \(lineText)"
        let width: Int
        if range.end.line == range.start.line {
            width = max(1, range.end.column - range.start.column)
        } else {
            width = max(1, lineText.count - range.start.column + 1)
        }
        let caretLine = String(repeating: " ", count: max(0, range.start.column - 1)) + String(repeating: "^", count: width)
        out += "\n\(gutter) | " + paint(caretLine, "1;31")
        if let help = diagnostic.help { out += "\n\(gutter) = " + paint("help", "1;36") + ": " + TerminalText.safe(help) }
        return out
    }

    /// The form without a caret: `rolo: error[CODE]: message`, the file if there is one, and help.
    public func renderPlain(_ diagnostic: Diagnostic, file: String? = nil) -> String {
        var out = "rolo: " + heading(diagnostic)
        if let file { out += "\n --> " + TerminalText.safe(file) }
        if let help = diagnostic.help { out += "\n  = " + paint("help", "1;36") + ": " + TerminalText.safe(help) }
        return out
    }

    private func heading(_ diagnostic: Diagnostic) -> String {
        paint("error[\(diagnostic.code.rawValue)]", "1;31") + paint(": " + TerminalText.safe(diagnostic.message), "1")
    }

    private func paint(_ text: String, _ code: String) -> String {
        colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
