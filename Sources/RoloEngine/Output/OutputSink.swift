import Foundation
import RoloSyntax

/// Where command output goes: standard output, or a string in tests and transcripts.
///
/// `line` is for text a person reads and passes it through the terminal sanitiser
/// (`TerminalText.safe`, line breaks kept), so stored text a command prints cannot act on the
/// terminal; `write` is raw, for what is already display text (tables' cells from
/// `ValueFormatter.display`, a rendered diagnostic with Rolo's colours) and for CSV and JSON.
public protocol OutputSink: AnyObject {
    func write(_ text: String)
    /// Raw UTF-8 bytes (the CSV export path writes these without building strings).
    func write(bytes: UnsafeRawBufferPointer)
    /// Whether output is shown to a person on a terminal (tables, colours) or piped.
    var isTerminal: Bool { get }
    var colors: Bool { get }
    /// The terminal's width in columns, or nil when output is not shown on a terminal (tables then
    /// keep every column whole, up to 60 columns each).
    var width: Int? { get }
}

extension OutputSink {
    /// One or more lines of text for a person, sanitised (see the protocol's comment).
    public func line(_ text: String = "") { write(TerminalText.safe(text, keepingLineBreaks: true) + "\n") }

    public func write(bytes: UnsafeRawBufferPointer) {
        write(String(decoding: bytes, as: UTF8.self))
    }

    public var width: Int? { nil }
}

/// The size of the terminal on `descriptor`, or nil when it is not a terminal.
public func terminalSize(_ descriptor: Int32) -> (rows: Int, columns: Int)? {
    guard isatty(descriptor) == 1 else { return nil }
    var size = winsize()
    if ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
        return (Int(size.ws_row), Int(size.ws_col))
    }
    // A terminal that does not say its size: $LINES and $COLUMNS, or 24 × 80.
    let environment = ProcessInfo.processInfo.environment
    let rows = environment["LINES"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 24
    let columns = environment["COLUMNS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 80
    return (rows, columns)
}

/// Whether `NO_COLOR` asks for no colours: set and not empty (no-color.org).
public var noColorRequested: Bool {
    !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
}

/// Collects output in memory.
public final class StringOutput: OutputSink {
    public private(set) var text = ""
    public let isTerminal: Bool
    public let colors = false
    public var width: Int?

    public init(isTerminal: Bool = false, width: Int? = nil) {
        self.isTerminal = isTerminal
        self.width = width
    }

    public func write(_ text: String) { self.text += text }

    public func clear() { text = "" }
}

/// Buffered writes to a file descriptor (standard output by default).
public final class FileOutput: OutputSink {
    public let isTerminal: Bool
    public let colors: Bool
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    public init(descriptor: Int32 = STDOUT_FILENO, colors: Bool? = nil) {
        self.descriptor = descriptor
        self.isTerminal = isatty(descriptor) == 1
        self.colors = colors ?? (isTerminal && !noColorRequested)
        buffer.reserveCapacity(1 << 16)
    }

    /// Asked each time (the terminal may have been resized since the last command).
    public var width: Int? { isTerminal ? terminalSize(descriptor)?.columns : nil }

    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    public func write(bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    public func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Foundation.write(descriptor, base + offset, raw.count - offset)
            }
            if written <= 0 {
                if errno == EINTR { continue }
                break
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
