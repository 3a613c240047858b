import Foundation

/// A progress line for long work on a terminal (an import reading its file): rows, rows per
/// second and the time left, redrawn in place on standard error at most ten times a second, and
/// only once the work has taken more than a second; erased when done. The launcher gives the
/// engine somewhere to draw it (`Engine.progressLine`) only when standard error is a terminal, so
/// piped and scripted runs print nothing.
final class ProgressMeter {
    private let draw: (String) -> Void
    private let start: Date
    /// The start of the current stage (reading, then writing): rates and time left count from it.
    private var stageStart: Date
    private var label = ""
    private var lastDraw: TimeInterval = 0
    private var drawn = false

    init(draw: @escaping (String) -> Void, start: Date = Date()) {
        self.draw = draw
        self.start = start
        self.stageStart = start
    }

    /// `rows` done, `fraction` (0…1) of the stage, if known.
    func update(rows: Int, fraction: Double?, now: Date = Date()) {
        let elapsed = now.timeIntervalSince(start)
        guard elapsed > 1, elapsed - lastDraw >= 0.1 else { return }
        lastDraw = elapsed
        drawn = true
        draw("\r\u{1B}[K" + label + Self.line(rows: rows, fraction: fraction, elapsed: now.timeIntervalSince(stageStart)))
    }

    /// Starts a new stage of the work, named before its bar (`writing [###…`); its rate and time
    /// left count from now. The line on screen stays until the stage's first update.
    func stage(_ name: String, now: Date = Date()) {
        label = name + " "
        stageStart = now
    }

    /// Replaces the line with what happens next (the import's set-based writing, which has no
    /// rows to count), once the work has taken more than a second.
    func phase(_ text: String, now: Date = Date()) {
        guard drawn || now.timeIntervalSince(start) > 1 else { return }
        drawn = true
        draw("\r\u{1B}[K" + text)
    }

    /// Erases the line, if one was drawn.
    func finish() {
        if drawn { draw("\r\u{1B}[K") }
        drawn = false
    }

    /// `[########------------]  40%  400,000 rows  180,000 rows/s  ETA 3 s`.
    static func line(rows: Int, fraction: Double?, elapsed: TimeInterval) -> String {
        let rate = elapsed > 0 ? Int(Double(rows) / elapsed) : 0
        var text = ""
        if let fraction {
            let clamped = min(max(fraction, 0), 1)
            let filled = Int(clamped * 20)
            text += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "] "
            text += String(format: "%3d%%  ", Int(clamped * 100))
        }
        text += "\(rows.formatted()) rows  \(rate.formatted()) rows/s"
        if let fraction, fraction > 0.01, fraction < 1 {
            let left = elapsed / fraction - elapsed
            text += "  ETA " + (left < 60 ? "\(Int(left.rounded())) s" : "\(Int(left / 60)) min \(Int(left) % 60) s")
        }
        return text
    }
}
