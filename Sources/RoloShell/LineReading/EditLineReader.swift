import CLibEdit
import Foundation

/// Line editing through libedit: emacs keys, history kept in a file (mode 0600), Tab completion,
/// Ctrl-C cancels the line, Ctrl-D on an empty line ends input.
///
/// libedit calls back through C function pointers that cannot capture context; they find this
/// reader through libedit's client data, the one place the callbacks reach.
public final class EditLineReader: LineReader {
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    private var event = HistEvent()
    private let historyFile: String?
    private var promptBuffer: UnsafeMutablePointer<CChar>
    fileprivate let completion: ((String) -> [String])?
    fileprivate var interrupted = false

    /// - Parameters:
    ///   - historyFile: where history is loaded from and saved to, or nil for none.
    ///   - completion: candidates for the word before the cursor, given the line up to the cursor.
    public init?(programName: String, historyFile: String?, completion: ((String) -> [String])?) {
        guard let editLine = rolo_el_init(programName), let history = history_init() else { return nil }
        self.editLine = editLine
        self.history = history
        self.historyFile = historyFile
        self.completion = completion
        self.promptBuffer = strdup("") ?? UnsafeMutablePointer<CChar>.allocate(capacity: 1)

        rolo_el_set_editor(editLine, "emacs")
        _ = rolo_history_setsize(history, &event, 1000)
        _ = rolo_history_setunique(history, &event, 1)
        rolo_el_set_hist(editLine, history)
        rolo_el_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        rolo_el_set_prompt(editLine, editLinePrompt)
        rolo_el_edit_mode_no_isig(editLine)
        rolo_el_add_fn(editLine, "rolo-complete", "complete the word before the cursor", editLineComplete)
        rolo_el_bind(editLine, "^I", "rolo-complete")
        rolo_el_add_fn(editLine, "rolo-cancel", "cancel the line", editLineCancel)
        rolo_el_bind(editLine, "^C", "rolo-cancel")
        rolo_el_bind(editLine, "^R", "em-inc-search-prev")
        // Read ~/.editrc for personal bindings, as other libedit programs do.
        el_source(editLine, nil)
        if let historyFile {
            Self.secureHistoryFile(historyFile)
            _ = rolo_history_load(history, &event, historyFile)
        }
    }

    deinit {
        history_end(history)
        el_end(editLine)
        free(promptBuffer)
    }

    fileprivate var prompt: UnsafeMutablePointer<CChar> { promptBuffer }

    public func readLine(prompt: String) -> LineInput {
        free(promptBuffer)
        promptBuffer = strdup(prompt) ?? UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        interrupted = false
        var count: Int32 = 0
        guard let raw = el_gets(editLine, &count) else {
            return count == -1 && errno == EINTR ? .interrupted : .endOfInput
        }
        if interrupted {
            interrupted = false
            return .interrupted
        }
        var line = String(cString: raw)
        if line.hasSuffix("\n") { line.removeLast() }
        return .line(line)
    }

    public func addHistory(_ line: String) {
        var line = line
        while line.last == " " || line.last == "\t" { line.removeLast() }
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        _ = rolo_history_enter(history, &event, line)
        if let historyFile {
            Self.secureHistoryFile(historyFile)
            _ = rolo_history_save(history, &event, historyFile)
        }
    }

    /// Creates the history file readable by its owner only, and tightens an existing one.
    static func secureHistoryFile(_ path: String) {
        let fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0o600)
        if fd >= 0 { close(fd) }
        chmod(path, 0o600)
    }

    // MARK: - Completion

    fileprivate func complete() -> UInt8 {
        guard let completion, let info = el_line(editLine)?.pointee else { return UInt8(CC_ERROR) }
        let length = info.cursor - info.buffer
        let before = String(decoding: UnsafeRawBufferPointer(start: info.buffer, count: length), as: UTF8.self)
        let boundaries: Set<Character> = [" ", "\t", ".", "(", ",", "=", "<", ">", "!"]
        let partial = String(before.reversed().prefix { !boundaries.contains($0) }.reversed())
        let candidates = completion(before)
        guard !candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
        let common = Self.commonPrefix(candidates)
        if candidates.count == 1 {
            let rest = String(common.dropFirst(partial.count)) + " "
            el_insertstr(editLine, rest)
            return UInt8(CC_REFRESH)
        }
        if common.count > partial.count {
            el_insertstr(editLine, String(common.dropFirst(partial.count)))
            return UInt8(CC_REFRESH)
        }
        // Several candidates and nothing more in common: list them under the line.
        let width = (candidates.map(\.count).max() ?? 0) + 2
        let columns = max(1, 80 / width)
        var text = "\n"
        for (index, candidate) in candidates.enumerated() {
            text += candidate.padding(toLength: width, withPad: " ", startingAt: 0)
            if (index + 1) % columns == 0 || index == candidates.count - 1 { text += "\n" }
        }
        rolo_print(text)
        return UInt8(CC_REDISPLAY)
    }

    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }
}

private func reader(_ editLine: OpaquePointer?) -> EditLineReader? {
    guard let editLine, let data = rolo_el_get_clientdata(editLine) else { return nil }
    return Unmanaged<EditLineReader>.fromOpaque(data).takeUnretainedValue()
}

private func editLinePrompt(_ editLine: OpaquePointer?) -> UnsafePointer<CChar>? {
    UnsafePointer(reader(editLine)?.prompt)
}

private func editLineComplete(_ editLine: OpaquePointer?, _ key: Int32) -> UInt8 {
    reader(editLine)?.complete() ?? UInt8(CC_ERROR)
}

private func editLineCancel(_ editLine: OpaquePointer?, _ key: Int32) -> UInt8 {
    reader(editLine)?.interrupted = true
    rolo_print("^C\n")
    return UInt8(CC_NEWLINE)
}
