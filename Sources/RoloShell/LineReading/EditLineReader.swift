import CLibEdit
import Foundation

/// Line editing through libedit, for a terminal: emacs keys (arrows, Home/End, Ctrl-A/E/K/U/W,
/// Ctrl-R incremental search back through history), history kept in a file readable by its owner
/// only, Tab completion, Ctrl-C cancels the line, Ctrl-D on an empty line ends input, Ctrl-Z
/// suspends.
///
/// Ctrl-C: while a line is edited the terminal's ISIG flag is off (libedit's edit-mode tty
/// settings), so Ctrl-C arrives as a key, bound to `rolo-cancel`; no signal is involved and the
/// process is never at risk. Outside `readLine` the terminal has its usual settings and Ctrl-C
/// raises SIGINT as usual (the shell uses that to interrupt a running command).
///
/// Prompts may hold ANSI colour sequences; they are marked as non-printing for libedit
/// (EL_PROMPT_ESC), see `PromptMarkup`.
///
/// Text typed is UTF-8: the first reader sets the process's LC_CTYPE from the environment, or to
/// C.UTF-8 when that is not UTF-8, since a C program starts in the "C" locale where libedit drops
/// every non-ASCII character (José would come back as Jos).
///
/// libedit calls back through C function pointers that cannot capture context; they find this
/// reader through libedit's client data, the one place the callbacks reach. One thread only.
public final class EditLineReader: LineReader {
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    private var event = HistEvent()
    private let historyFile: String?
    private var promptBuffer: UnsafeMutablePointer<CChar>
    private let completion: CompletionProvider?
    private var interrupted = false
    /// Lines of this session not yet in the history file.
    private var unsaved: [String] = []

    /// Lines kept in memory and in the history file.
    public static let historySize: Int32 = 1000

    /// - Parameters:
    ///   - programName: the name `~/.editrc` bindings are selected by (`rolo:bind ...`).
    ///   - historyFile: where history is loaded from and saved to (created with mode 0600), or nil.
    ///   - completion: candidates for the word before the cursor, given the line up to the cursor.
    /// - Returns: nil when libedit cannot start.
    public init?(programName: String, historyFile: String?, completion: CompletionProvider?) {
        Self.useUTF8Locale()
        guard let editLine = rolo_el_init(programName) else { return nil }
        guard let history = history_init() else {
            el_end(editLine)
            return nil
        }
        guard let promptBuffer = strdup("") else {
            history_end(history)
            el_end(editLine)
            return nil
        }
        self.editLine = editLine
        self.history = history
        self.historyFile = historyFile
        self.completion = completion
        self.promptBuffer = promptBuffer

        rolo_el_set_editor(editLine, "emacs")
        _ = rolo_history_setsize(history, &event, Self.historySize)
        _ = rolo_history_setunique(history, &event, 1)
        rolo_el_set_hist(editLine, history)
        rolo_el_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        rolo_el_set_prompt_esc(editLine, editLinePrompt, CChar(PromptMarkup.marker.value))
        rolo_el_edit_mode_no_isig(editLine)
        rolo_el_add_fn(editLine, "rolo-complete", "complete the word before the cursor", editLineComplete)
        rolo_el_bind(editLine, "^I", "rolo-complete")
        rolo_el_add_fn(editLine, "rolo-cancel", "cancel the line", editLineCancel)
        rolo_el_bind(editLine, "^C", "rolo-cancel")
        rolo_el_add_fn(editLine, "rolo-suspend", "suspend rolo", editLineSuspend)
        rolo_el_bind(editLine, "^Z", "rolo-suspend")
        // As in bash: Ctrl-R searches back, Ctrl-W deletes the word before the cursor.
        rolo_el_bind(editLine, "^R", "em-inc-search-prev")
        rolo_el_bind(editLine, "^W", "ed-delete-prev-word")
        // Keys libedit leaves unbound for the escape sequences terminals (and tmux) send.
        for key in ["\\e[1~", "\\e[7~", "\\e[H", "\\eOH"] { rolo_el_bind(editLine, key, "ed-move-to-beg") }
        for key in ["\\e[4~", "\\e[8~", "\\e[F", "\\eOF"] { rolo_el_bind(editLine, key, "ed-move-to-end") }
        rolo_el_bind(editLine, "\\e[3~", "ed-delete-next-char")
        for key in ["\\e[1;5D", "\\e[1;3D", "\\e[5D"] { rolo_el_bind(editLine, key, "ed-prev-word") }
        for key in ["\\e[1;5C", "\\e[1;3C", "\\e[5C"] { rolo_el_bind(editLine, key, "em-next-word") }
        // Personal bindings from ~/.editrc (or $EDITRC) come last, as in other libedit programs.
        el_source(editLine, nil)
        if let historyFile { HistoryFile.load(historyFile, into: history) }
    }

    deinit {
        history_end(history)
        el_end(editLine)
        free(promptBuffer)
    }

    fileprivate var prompt: UnsafeMutablePointer<CChar> { promptBuffer }

    public func readLine(prompt: String) -> LineInput {
        if let buffer = strdup(PromptMarkup.marked(prompt)) {
            free(promptBuffer)
            promptBuffer = buffer
        }
        interrupted = false
        // Pick up a terminal resized since the last line (libedit's own SIGWINCH handling comes
        // with its signal handlers, which re-raise signals to the whole process group).
        el_resize(editLine)
        var count: Int32 = 0
        let raw = el_gets(editLine, &count)
        if interrupted {
            interrupted = false
            return .interrupted
        }
        guard let raw else {
            return count == -1 && errno == EINTR ? .interrupted : .endOfInput
        }
        var line = String(cString: raw)
        if line.hasSuffix("\n") { line.removeLast() }
        return .line(line)
    }

    /// Adds a line to history and merges it into the history file (see `HistoryFile`: other
    /// shells' lines saved meanwhile are kept). Blank lines are skipped, trailing blanks dropped
    /// (Tab leaves one), and a line equal to the previous one is not repeated.
    public func addHistory(_ line: String) {
        var line = line
        while let last = line.last, last.isWhitespace { line.removeLast() }
        guard !line.allSatisfy(\.isWhitespace) else { return }
        _ = rolo_history_enter(history, &event, line)
        if let historyFile {
            unsaved.append(line)
            // Kept for the next try when the file cannot be written now.
            if HistoryFile.append(unsaved, to: historyFile, limit: Self.historySize) || unsaved.count >= Int(Self.historySize) {
                unsaved = []
            }
        }
    }

    /// libedit decodes input through the C library's multibyte functions: without a UTF-8
    /// LC_CTYPE every non-ASCII character typed is lost. Must run before `el_init`.
    static func useUTF8Locale() {
        func isUTF8() -> Bool {
            guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
            let name = String(cString: codeset).uppercased()
            return name == "UTF-8" || name == "UTF8"
        }
        if isUTF8() { return }
        if setlocale(LC_CTYPE, "") != nil, isUTF8() { return }
        for name in ["C.UTF-8", "C.utf8", "en_US.UTF-8"] where setlocale(LC_CTYPE, name) != nil {
            if isUTF8() { return }
        }
    }

    // MARK: - Key functions

    /// Tab: completes the word before the cursor, or lists the candidates under the line.
    fileprivate func complete() -> UInt8 {
        guard let completion, let info = el_line(editLine)?.pointee else { return UInt8(CC_ERROR) }
        let before = String(decoding: UnsafeRawBufferPointer(start: info.buffer, count: info.cursor - info.buffer), as: UTF8.self)
        switch TabCompletion(lineBeforeCursor: before, candidates: completion(before)) {
        case .none:
            return UInt8(CC_REFRESH_BEEP)
        case .replace(let partialLength, let text):
            let partial = TabCompletion.partialWord(before)
            if text.hasPrefix(partial) {
                // Usually the typed part stays and the rest is added.
                guard el_insertstr(editLine, String(text.dropFirst(partial.count))) == 0 else { return UInt8(CC_REFRESH_BEEP) }
            } else {
                el_deletestr(editLine, Int32(partialLength))
                guard el_insertstr(editLine, text) == 0 else { return UInt8(CC_REFRESH_BEEP) }
            }
            return UInt8(CC_REFRESH)
        case .list(let words):
            // Below the whole line (it may wrap), then libedit draws prompt and line again.
            moveCursorToEnd(redraw: true)
            let width = Int(rolo_el_columns(editLine))
            rolo_print("\n" + TabCompletion.columns(words, width: width))
            return UInt8(CC_REDISPLAY)
        }
    }

    /// Ctrl-C: marks the read as interrupted, shows `^C` at the end of the line and ends the
    /// line with libedit's own newline, which first moves below a line that wraps.
    fileprivate func cancel() -> UInt8 {
        interrupted = true
        moveCursorToEnd(redraw: false)
        el_insertstr(editLine, "^C")
        el_push(editLine, "\n")
        return UInt8(CC_REFRESH)
    }

    /// Ctrl-Z: with ISIG off the terminal sends no SIGTSTP, so stop the process here, with the
    /// terminal in its usual mode; when continued (`fg`), editing resumes on a fresh prompt.
    fileprivate func suspend() -> UInt8 {
        moveCursorToEnd(redraw: true)
        rolo_print("^Z")  // what the terminal would have echoed; the shell goes on below
        rolo_el_prep_term(editLine, 0)
        kill(getpid(), SIGTSTP)
        rolo_el_prep_term(editLine, 1)
        el_resize(editLine)
        return UInt8(CC_REDISPLAY)
    }

    /// Moves the cursor to the end of the line being edited; `redraw` moves the terminal's
    /// cursor there too, now rather than when the key function returns.
    private func moveCursorToEnd(redraw: Bool) {
        guard let info = el_line(editLine)?.pointee, info.cursor < info.lastchar else { return }
        let after = String(decoding: UnsafeRawBufferPointer(start: info.cursor, count: info.lastchar - info.cursor), as: UTF8.self)
        el_cursor(editLine, Int32(after.unicodeScalars.count))
        if redraw { rolo_el_refresh(editLine) }
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
    reader(editLine)?.cancel() ?? UInt8(CC_ERROR)
}

private func editLineSuspend(_ editLine: OpaquePointer?, _ key: Int32) -> UInt8 {
    reader(editLine)?.suspend() ?? UInt8(CC_ERROR)
}
