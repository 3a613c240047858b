import Foundation
import RoloEngine

/// Output of one command line in the interactive shell, shown through a pager when it is longer
/// than the terminal, psql style.
///
/// Output is held until it passes the screen's height (counting lines that wrap); if it ends
/// first, it is written as usual. Otherwise the pager starts, gets what was held, and the rest
/// streams to it — a million-row table is never held. When the pager ends early (the user quit
/// it) further output is dropped and `onPagerGone` runs (the shell stops a read that is still
/// producing rows). Errors never come here: they go to standard error after `finish`.
final class PagedOutput: OutputSink {
    private let direct: OutputSink
    /// The terminal's height: output of this many lines or more (leaving none for the prompt)
    /// is paged.
    private let rows: Int
    let width: Int?
    let isTerminal = true
    var colors: Bool { direct.colors }
    private let startPager: () -> PagerSink?
    var onPagerGone: (() -> Void)?

    private enum State {
        case holding
        case paging(PagerSink)
        case direct
        case dropping
    }
    private var state = State.holding
    private var held: [UInt8] = []
    /// Screen lines the held output takes so far, and columns used on the last one.
    private var lines = 0
    private var column = 0
    /// Whether a pager ran and was quit before all output reached it (until `finish`).
    private(set) var pagerQuitEarly = false
    /// Whether this output went through a pager.
    private(set) var paged = false

    /// - Parameters:
    ///   - direct: where output goes when it fits (standard output).
    ///   - rows, width: the terminal's size.
    ///   - startPager: starts the pager, or nil when it cannot (output then goes directly).
    init(direct: OutputSink, rows: Int, width: Int, startPager: @escaping () -> PagerSink?) {
        self.direct = direct
        self.rows = rows
        self.width = width
        self.startPager = startPager
    }

    func write(_ text: String) {
        switch state {
        case .holding:
            held.append(contentsOf: text.utf8)
            count(text)
            if lines + (column > 0 ? 1 : 0) >= rows { overflow() }
        case .paging:
            held.append(contentsOf: text.utf8)
            if held.count >= 1 << 16 { sendHeld() }
        case .direct:
            direct.write(text)
        case .dropping:
            break
        }
    }

    func write(bytes: UnsafeRawBufferPointer) {
        switch state {
        case .holding:
            write(String(decoding: bytes, as: UTF8.self))
        case .paging:
            held.append(contentsOf: bytes)
            if held.count >= 1 << 16 { sendHeld() }
        case .direct:
            direct.write(bytes: bytes)
        case .dropping:
            break
        }
    }

    /// Ends this output: what was held is written, or the pager gets the rest and is waited for.
    /// Output after `finish` starts afresh (after a question, say).
    func finish() {
        switch state {
        case .holding:
            held.withUnsafeBytes { direct.write(bytes: $0) }
        case .paging(let pager):
            sendHeld()
            pager.close()
        case .direct, .dropping:
            break
        }
        held = []
        lines = 0
        column = 0
        pagerQuitEarly = false
        state = .holding
        (direct as? FileOutput)?.flush()
    }

    /// Counts the screen lines `text` adds, wrapping at the terminal's width.
    private func count(_ text: String) {
        let width = max(1, self.width ?? 80)
        for character in text {
            if character == "\n" || character == "\r\n" {
                lines += 1
                column = 0
                continue
            }
            let columns = DisplayWidth.of(character)
            if column + columns > width {
                lines += 1
                column = 0
            }
            column += columns
        }
    }

    private func overflow() {
        guard let pager = startPager() else {
            held.withUnsafeBytes { direct.write(bytes: $0) }
            held = []
            state = .direct
            return
        }
        // What is already in standard output's buffer goes first.
        (direct as? FileOutput)?.flush()
        paged = true
        state = .paging(pager)
        sendHeld()
    }

    private func sendHeld() {
        guard case .paging(let pager) = state else { return }
        let delivered = held.withUnsafeBytes { pager.write($0) }
        held.removeAll(keepingCapacity: true)
        if !delivered {
            // The pager was quit: the rest of this output has nowhere to go.
            pager.close()
            state = .dropping
            pagerQuitEarly = true
            onPagerGone?()
        }
    }
}

/// Where paged output goes: the pager's standard input.
protocol PagerSink: AnyObject {
    /// Writes all of `bytes`; false when the pager is gone.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Closes the pager's input and waits for it to end (the user quits it). Idempotent.
    func close()
}
