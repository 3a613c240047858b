import Foundation

/// Where command output goes: standard output, or a string in tests and transcripts.
public protocol OutputSink: AnyObject {
    func write(_ text: String)
    /// Raw UTF-8 bytes (the CSV export path writes these without building strings).
    func write(bytes: UnsafeRawBufferPointer)
    /// Whether output is shown to a person on a terminal (tables, colours) or piped.
    var isTerminal: Bool { get }
    var colors: Bool { get }
}

extension OutputSink {
    public func line(_ text: String = "") { write(text + "\n") }

    public func write(bytes: UnsafeRawBufferPointer) {
        write(String(decoding: bytes, as: UTF8.self))
    }
}

/// Collects output in memory.
public final class StringOutput: OutputSink {
    public private(set) var text = ""
    public let isTerminal: Bool
    public let colors = false

    public init(isTerminal: Bool = false) {
        self.isTerminal = isTerminal
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
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"] != nil
        self.colors = colors ?? (isTerminal && !noColor)
        buffer.reserveCapacity(1 << 16)
    }

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
