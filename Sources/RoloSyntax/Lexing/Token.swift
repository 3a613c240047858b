/// A lexical token with its source range.
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A bare word: command, entity, field, enum value or keyword (keywords are contextual).
        case word(String)
        /// A quoted string, unescaped.
        case string(String)
        /// An integer or decimal number, as written.
        case number(String)
        /// `$5,000` or `$12.50`, in cents.
        case money(Int)
        /// `2026-11-22`.
        case date(String)
        /// `$name`, a script parameter.
        case variable(String)
        /// `--dry-run`, `--format`.
        case option(String)
        case symbol(Symbol)
        case newline
        case end
    }

    public enum Symbol: String, Sendable {
        case equal = "=", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
        case leftParen = "(", rightParen = ")", comma = ",", dot = ".", plus = "+", minus = "-"
        case star = "*", slash = "/", semicolon = ";"
    }

    public let kind: Kind
    public let range: SourceRange
    /// A word with capital letters in it (most have none): only such a word is lower-cased when
    /// the parser reads it, as it does several times a word.
    @usableFromInline let capitalized: Bool

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
        if case .word(let w) = kind { capitalized = w.lowercased() != w } else { capitalized = false }
    }

    /// A word as the lexer read it, which saw whether it has capitals.
    init(word: String, capitalized: Bool, _ range: SourceRange) {
        self.kind = .word(word)
        self.range = range
        self.capitalized = capitalized
    }

    /// The word, lower-cased, if this token is a bare word.
    @inlinable
    public var word: String? {
        if case .word(let w) = kind { return capitalized ? w.lowercased() : w }
        return nil
    }

    @inlinable
    public func isWord(_ w: String) -> Bool {
        guard case .word(let word) = kind else { return false }
        return capitalized ? word.lowercased() == w : word == w
    }

    /// The end of input (matched, not compared: the parser asks at every token).
    @inlinable
    public var isEnd: Bool {
        if case .end = kind { return true }
        return false
    }

    @inlinable
    public var isNewline: Bool {
        if case .newline = kind { return true }
        return false
    }

    @inlinable
    public func isSymbol(_ s: Symbol) -> Bool {
        if case .symbol(let symbol) = kind { return symbol == s }
        return false
    }

    /// How the token reads in an error message.
    public var display: String {
        switch kind {
        case .word(let w): return "'\(w)'"
        case .string(let s): return "\"\(s)\""
        case .number(let n): return n
        case .money(let c): return "$\(c / 100)"
        case .date(let d): return d
        case .variable(let v): return "$\(v)"
        case .option(let o): return "--\(o)"
        case .symbol(let s): return "'\(s.rawValue)'"
        case .newline: return "end of line"
        case .end: return "end of input"
        }
    }
}
