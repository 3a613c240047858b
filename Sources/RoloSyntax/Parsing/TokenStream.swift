/// The parser's tokens, lexed on demand from the source's bytes: the next one, and a few ahead
/// (`peek`) kept until the parser reaches them. The parser keeps the current token and the one
/// before it itself, so a script parsed a statement at a time holds a handful of tokens however
/// long it is. A class, so peeking (which may lex) needs no `mutating`.
///
/// A lexing error is thrown by the parse step that reaches it (see `Parser.Statements.next`): the
/// stream keeps it and hands out the end token from then on.
///
/// Its state is only ever reached through these methods, one access at a time (a parser owns its
/// stream and never hands it out), so it is marked `@exclusivity(unchecked)`: the run-time
/// exclusivity check of a class's `var` cost two calls into the runtime for every token read,
/// a sixth of the parse of a short statement.
final class TokenStream {
    let bytes: [UInt8]
    @exclusivity(unchecked) private var lexer: Lexer
    /// Tokens lexed ahead of the parser by `peek`, from `aheadStart` on.
    @exclusivity(unchecked) private var ahead: [Token] = []
    @exclusivity(unchecked) private var aheadStart = 0
    /// The end token, once lexed (or made at a lexing error; `ended`): handed out from then on.
    @exclusivity(unchecked) private var end = Token(.end, SourceRange(.start, .start))
    @exclusivity(unchecked) private var ended = false
    /// Where the last token lexed ends (the end token made at a lexing error is put there).
    @exclusivity(unchecked) private var lastEnd = SourceLocation.start
    /// The lexing error met, thrown by the parse step that reaches it.
    @exclusivity(unchecked) private(set) var error: Diagnostic?

    init(bytes: [UInt8]) {
        self.bytes = bytes
        self.lexer = Lexer(bytes: bytes)
    }

    /// The next token, taken.
    func next() -> Token {
        guard aheadStart < ahead.count else { return lex() }
        let token = ahead[aheadStart]
        aheadStart += 1
        if aheadStart == ahead.count {
            ahead.removeAll(keepingCapacity: true)
            aheadStart = 0
        }
        return token
    }

    /// The token `distance` places after the next one (0: the next one), left for `next`.
    func peek(_ distance: Int) -> Token {
        while ahead.count - aheadStart <= distance { ahead.append(lex()) }
        return ahead[aheadStart + distance]
    }

    /// Tokens held ahead of the parser.
    var held: Int { ahead.count - aheadStart }

    private func lex() -> Token {
        if ended { return end }
        do {
            let token = try lexer.next()
            lastEnd = token.range.end
            if token.isEnd {
                end = token
                ended = true
            }
            return token
        } catch {
            self.error = error
            // The parse stops at the end token it now sees; `Parser` throws the error instead.
            end = Token(.end, SourceRange(lastEnd, lastEnd))
            ended = true
            return end
        }
    }
}
