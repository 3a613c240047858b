import Foundation

/// One read from the user.
public enum LineInput: Sendable, Equatable {
    case line(String)
    /// Ctrl-C: the line being typed was cancelled.
    case interrupted
    /// Ctrl-D on an empty line, or the end of input.
    case endOfInput
}

/// Reads lines for the shell: with editing on a terminal, plainly from a pipe.
///
/// A continuation line is just another `readLine` with a different prompt.
public protocol LineReader: AnyObject {
    func readLine(prompt: String) -> LineInput
    func addHistory(_ line: String)
}

/// Tab completion: given the text of the line up to the cursor, the candidate full words for the
/// word being typed there (the reader works out how much of the word is already typed).
public typealias CompletionProvider = @Sendable (_ lineBeforeCursor: String) -> [String]

/// Reads standard input line by line, without a prompt or editing (pipes and files).
public final class PlainLineReader: LineReader {
    public init() {}

    /// The prompt is ignored: nobody is watching a pipe.
    public func readLine(prompt: String) -> LineInput {
        guard let line = Swift.readLine(strippingNewline: true) else { return .endOfInput }
        return .line(line)
    }

    public func addHistory(_ line: String) {}
}
