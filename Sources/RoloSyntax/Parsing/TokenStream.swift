/// The parser's tokens, lexed on demand from the source's bytes.
///
/// A script is parsed a statement at a time: the parser lets go of the tokens before the
/// statement it starts (`forget(before:)`), so a million-statement script holds the tokens of one
/// statement, not of all. Indexes are positions in the whole token sequence; past the end, the
/// end token. A class, so reading a token (which may lex it) needs no `mutating`.
///
/// A lexing error is thrown by the parse step that reaches it (see `Parser.current`): the
/// stream keeps it and hands out the end token until the parser asks for it.
///
/// Its state is only ever reached through these methods, one access at a time (a parser owns its
/// stream and never hands it out), so it is marked `@exclusivity(unchecked)`: the run-time
/// exclusivity check of a class's `var` cost two calls into the runtime for every token read,
/// a sixth of the parse of a short statement.
final class TokenStream {
    let bytes: [UInt8]
    @exclusivity(unchecked) private var lexer: Lexer
    /// Tokens from index `first` on.
    @exclusivity(unchecked) private var buffer: [Token] = []
    /// The index of `buffer[start]`; tokens before it are gone.
    @exclusivity(unchecked) private(set) var first = 0
    /// Where the live tokens start in `buffer` (the gone ones are dropped in batches).
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var ended = false
    /// The lexing error met, thrown by the next `check()`.
    @exclusivity(unchecked) private(set) var error: Diagnostic?

    init(bytes: [UInt8]) {
        self.bytes = bytes
        self.lexer = Lexer(bytes: bytes)
    }

    subscript(index: Int) -> Token {
        precondition(index >= first, "token \(index) was let go (first kept: \(first))")
        while !ended, index - first >= buffer.count - start { lexOne() }
        let offset = index - first + start
        return offset < buffer.count ? buffer[offset] : buffer[buffer.count - 1]
    }

    private func lexOne() {
        do {
            // Appended as made, then asked in place: a token copied is a switch and a retain.
            buffer.append(try lexer.next())
            if buffer[buffer.count - 1].isEnd { ended = true }
        } catch {
            self.error = error
            // The parse stops at the end token it now sees; `Parser` throws the error instead.
            let at = buffer.last?.range.end ?? SourceLocation(offset: 0, line: 1, column: 1)
            buffer.append(Token(.end, SourceRange(at, at)))
            ended = true
        }
    }

    /// Tokens in memory, let-go ones not yet dropped included.
    var held: Int { buffer.count }

    /// Lets go of the tokens before `index`.
    func forget(before index: Int) {
        guard index > first else { return }
        let drop = min(index - first, buffer.count - start)
        start += drop
        first += drop
        // Compact now and then: removing from the front of an array moves the rest.
        if start > 4096, start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
