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

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    /// The word, lower-cased, if this token is a bare word.
    public var word: String? {
        if case .word(let w) = kind { return w.lowercased() }
        return nil
    }

    public func isWord(_ w: String) -> Bool { word == w }
    public func isSymbol(_ s: Symbol) -> Bool { kind == .symbol(s) }

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
