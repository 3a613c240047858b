/// Splits source text into tokens, tracking line and column.
///
/// Words are never reserved: `status`, `in` or `by` may be field names, and the parser decides
/// from context. Comments run from `#` to the end of the line (so a `#!` first line is one).
public struct Lexer {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1
    /// Set after an option that takes a value (`--anchor`, `--skip-bad`): the next token, unless
    /// quoted, is read as one bare value up to a space (`5:9f86…`, `anc.txt`, `out/bad-rows.csv`).
    private var bareValueNext = false
    /// Options whose value is read bare: an anchor or a file name, not Rolo words and symbols.
    public static let bareValueOptions: Set<String> = ["anchor", "skip-bad"]

    public init(_ source: String) {
        self.bytes = Array(source.utf8)
    }

    /// A lexer over the source's UTF-8 bytes, shared with the parser rather than copied.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Tokenizes all of the source, ending with `.end`.
    public static func tokenize(_ source: String) throws(Diagnostic) -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        // Commands average a token per five or six bytes; one allocation instead of a dozen
        // regrowths (and their copies) for a long script.
        tokens.reserveCapacity(source.utf8.count / 5 + 4)
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    /// Lexes all of `source` without keeping the tokens: its first lexing error, if any.
    public static func check(_ source: String) throws(Diagnostic) {
        try check(bytes: Array(source.utf8))
    }

    /// `check` over UTF-8 bytes, shared rather than copied.
    public static func check(bytes: [UInt8]) throws(Diagnostic) {
        var lexer = Lexer(bytes: bytes)
        while try lexer.next().kind != .end {}
    }

    private var location: SourceLocation { SourceLocation(offset: index, line: line, column: column) }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        index + ahead < bytes.count ? bytes[index + ahead] : nil
    }

    private mutating func advance() {
        guard index < bytes.count else { return }
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1  // count characters, not UTF-8 continuation bytes
        }
    }

    private func text(from start: SourceLocation) -> String {
        String(decoding: bytes[start.offset..<index], as: UTF8.self)
    }

    public mutating func next() throws(Diagnostic) -> Token {
        skipSpaceAndComments()
        let start = location
        guard let byte = peek() else { return Token(.end, SourceRange(start, start)) }
        if bareValueNext {
            bareValueNext = false
            if let value = try lexBareValue(start: start) { return value }
        }
        switch byte {
        case 0:
            throw Diagnostic(
                .nulCharacter, "a NUL character (\\0) cannot be part of a command", at: SourceRange(start, start),
                help: "remove it")
        case UInt8(ascii: "\n"):
            advance()
            return Token(.newline, SourceRange(start, location))
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return try lexString(quote: byte, start: start)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try lexNumberOrDate(start: start)
        case UInt8(ascii: "$"):
            return try lexDollar(start: start)
        case UInt8(ascii: "-") where peek(1) == UInt8(ascii: "-") && isWordStart(peek(2)):
            advance()
            advance()
            while let b = peek(), isWordByte(b) || b == UInt8(ascii: "-") { advance() }
            let name = String(text(from: start).dropFirst(2)).lowercased()
            bareValueNext = Lexer.bareValueOptions.contains(name)
            return Token(.option(name), SourceRange(start, location))
        default:
            if isWordStart(byte) {
                // A word is ASCII on one line: read to its end, then moved past in one step.
                var end = index
                var capitalized = false
                while end < bytes.count, isWordByte(bytes[end]) {
                    if bytes[end] >= UInt8(ascii: "A") && bytes[end] <= UInt8(ascii: "Z") { capitalized = true }
                    end += 1
                }
                column += end - index
                index = end
                return Token(word: text(from: start), capitalized: capitalized, SourceRange(start, location))
            }
            return try lexSymbol(start: start)
        }
    }

    /// An option's value written without quotes, as a string token: everything up to a space, a
    /// tab, the end of the line or a `;` (`5:9f86…`, `anc.txt`). Nil, with nothing read, where the
    /// value is quoted or missing (a new line, `;`, another `--option`): the parser says so.
    private mutating func lexBareValue(start: SourceLocation) throws(Diagnostic) -> Token? {
        func ends(_ byte: UInt8?) -> Bool {
            guard let byte else { return true }
            return byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: ";")
        }
        guard let first = peek(), !ends(first), first != UInt8(ascii: "\""), first != UInt8(ascii: "'"),
            !(first == UInt8(ascii: "-") && peek(1) == UInt8(ascii: "-"))
        else { return nil }
        while !ends(peek()) {
            if peek() == 0 {
                throw Diagnostic(
                    .nulCharacter, "a NUL character (\\0) cannot be part of a command", at: SourceRange(location, location),
                    help: "remove it")
            }
            advance()
        }
        return Token(.string(text(from: start)), SourceRange(start, location))
    }

    private mutating func skipSpaceAndComments() {
        while let byte = peek() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                advance()
            } else if byte == UInt8(ascii: "#") {
                while let b = peek(), b != UInt8(ascii: "\n") { advance() }
            } else {
                return
            }
        }
    }

    private func isWordStart(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
    }

    private func isWordByte(_ byte: UInt8) -> Bool {
        isWordStart(byte) || (byte >= 0x30 && byte <= 0x39)
    }

    private func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= 0x30 && byte <= 0x39
    }

    private mutating func lexString(quote: UInt8, start: SourceLocation) throws(Diagnostic) -> Token {
        advance()
        // Most strings hold no escape and no NUL: their text is the bytes between the quotes.
        let first = index
        while let byte = peek(), byte != quote, byte != UInt8(ascii: "\\"), byte != 0 { advance() }
        if peek() == quote {
            let text = String(decoding: bytes[first..<index], as: UTF8.self)
            advance()
            return Token(.string(text), SourceRange(start, location))
        }
        // Otherwise on from here, byte by byte, with what was read so far.
        var value = Array(bytes[first..<index])
        while true {
            guard let byte = peek() else {
                throw Diagnostic(
                    .unterminatedString, "unterminated string", at: SourceRange(start, location),
                    help: "close it with \(quote == UInt8(ascii: "\"") ? "\"" : "'")", unfinished: true)
            }
            if byte == quote {
                advance()
                break
            }
            if byte == UInt8(ascii: "\\"), let escaped = peek(1) {
                let escapeStart = location
                advance()
                switch escaped {
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): value.append(escaped)
                default:
                    advance()
                    throw Diagnostic(
                        .unknownEscape, "unknown escape '\\\(String(decoding: [escaped], as: UTF8.self))' in a string",
                        at: SourceRange(escapeStart, location),
                        help: #"the escapes are \n (new line), \t (tab), \\ (backslash), \" and \'; write \\ for a backslash"#)
                }
                advance()
                continue
            }
            if byte == 0 {
                throw Diagnostic(
                    .nulCharacter, "a NUL character (\\0) cannot be part of a text", at: SourceRange(location, location),
                    help: "remove it; text in Rolo cannot hold NUL")
            }
            value.append(byte)
            advance()
        }
        return Token(.string(String(decoding: value, as: UTF8.self)), SourceRange(start, location))
    }

    private mutating func lexNumberOrDate(start: SourceLocation) throws(Diagnostic) -> Token {
        while isDigit(peek()) { advance() }
        // A date: 4 digits, '-', 2 digits, '-', 2 digits.
        if index - start.offset == 4, peek() == UInt8(ascii: "-"), isDigit(peek(1)), isDigit(peek(2)),
            peek(3) == UInt8(ascii: "-"), isDigit(peek(4)), isDigit(peek(5))
        {
            for _ in 0..<6 { advance() }
            // A time of day after it: ISO-8601 `2026-11-22T10:00[:00][Z]`, or as tables print it,
            // `2026-11-22 10:00[:00]`. Written out as `YYYY-MM-DDTHH:MM:SSZ` (UTC, as stored).
            if let time = lexTime() {
                return Token(.date(text(from: start).prefix(10) + "T" + time + "Z"), SourceRange(start, location))
            }
            if let b = peek(), isWordByte(b) {
                while let b = peek(), isWordByte(b) || b == UInt8(ascii: ":") { advance() }
                throw Diagnostic(
                    .invalidDate, "invalid date '\(text(from: start))'", at: SourceRange(start, location),
                    help: "write dates as YYYY-MM-DD, e.g. 2026-11-22")
            }
            return Token(.date(text(from: start)), SourceRange(start, location))
        }
        if peek() == UInt8(ascii: "."), isDigit(peek(1)) {
            advance()
            while isDigit(peek()) { advance() }
        }
        if let b = peek(), isWordStart(b) {
            while let b = peek(), isWordByte(b) { advance() }
            throw Diagnostic(
                .invalidNumber, "invalid number '\(text(from: start))'", at: SourceRange(start, location),
                help: "put a space between a number and a word, or quote the text")
        }
        return Token(.number(text(from: start)), SourceRange(start, location))
    }

    /// `THH:MM[:SS][Z]` or ` HH:MM[:SS]` right after a date; the time as `HH:MM:SS`, or nil (and
    /// nothing consumed) when none follows.
    private mutating func lexTime() -> String? {
        guard let separator = peek(), separator == UInt8(ascii: "T") || separator == UInt8(ascii: " "),
            isDigit(peek(1)), isDigit(peek(2)), peek(3) == UInt8(ascii: ":"), isDigit(peek(4)), isDigit(peek(5))
        else { return nil }
        let hasSeconds = peek(6) == UInt8(ascii: ":") && isDigit(peek(7)) && isDigit(peek(8))
        let length = hasSeconds ? 9 : 6
        var digits: [UInt8] = []
        for offset in 1..<length { digits.append(peek(offset) ?? 0) }
        for _ in 0..<length { advance() }
        if separator == UInt8(ascii: "T"), peek() == UInt8(ascii: "Z") { advance() }
        let time = String(decoding: digits, as: UTF8.self)
        return hasSeconds ? time : time + ":00"
    }

    private mutating func lexDollar(start: SourceLocation) throws(Diagnostic) -> Token {
        advance()
        if isWordStart(peek()) {
            while let b = peek(), isWordByte(b) { advance() }
            return Token(.variable(String(text(from: start).dropFirst())), SourceRange(start, location))
        }
        guard isDigit(peek()) else {
            throw Diagnostic(
                .unexpectedCharacter, "'$' must start an amount ($5,000) or a parameter ($name)",
                at: SourceRange(start, location))
        }
        var digits = ""
        var groupOK = true
        while let b = peek() {
            if isDigit(b) {
                digits.append(Character(UnicodeScalar(b)))
                advance()
            } else if b == UInt8(ascii: ","), isDigit(peek(1)), isDigit(peek(2)), isDigit(peek(3)),
                !isDigit(peek(4))
            {
                advance()
            } else if b == UInt8(ascii: ","), isDigit(peek(1)) {
                groupOK = false
                advance()
            } else {
                break
            }
        }
        var cents = 0
        if peek() == UInt8(ascii: "."), isDigit(peek(1)) {
            advance()
            var fraction = ""
            while let b = peek(), isDigit(b) {
                fraction.append(Character(UnicodeScalar(b)))
                advance()
            }
            guard fraction.count <= 2 else {
                throw Diagnostic(
                    .invalidNumber, "an amount has at most two decimals", at: SourceRange(start, location))
            }
            cents = (Int(fraction) ?? 0) * (fraction.count == 1 ? 10 : 1)
        }
        let fitsInCents = Int(digits).flatMap { whole -> Int? in
            let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100)
            guard !overflow else { return nil }
            let (total, overflow2) = scaled.addingReportingOverflow(cents)
            return overflow2 ? nil : total
        }
        if groupOK, fitsInCents == nil {
            throw Diagnostic(
                .valueOutOfRange, "the amount \(text(from: start)) is too large", at: SourceRange(start, location),
                help: "amounts go up to $92,233,720,368,547,758.07")
        }
        guard groupOK, let total = fitsInCents else {
            throw Diagnostic(
                .invalidNumber, "invalid amount '\(text(from: start))'", at: SourceRange(start, location),
                help: "write amounts like $5,000 or $5000.50")
        }
        return Token(.money(total), SourceRange(start, location))
    }

    private mutating func lexSymbol(start: SourceLocation) throws(Diagnostic) -> Token {
        let byte = peek() ?? 0
        let next = peek(1)
        advance()
        let symbol: Token.Symbol
        switch byte {
        case UInt8(ascii: "="):
            if next == UInt8(ascii: "=") { advance() }
            symbol = .equal
        case UInt8(ascii: "!") where next == UInt8(ascii: "="):
            advance()
            symbol = .notEqual
        case UInt8(ascii: "<"):
            if next == UInt8(ascii: "=") {
                advance()
                symbol = .lessEqual
            } else if next == UInt8(ascii: ">") {
                advance()
                symbol = .notEqual
            } else {
                symbol = .less
            }
        case UInt8(ascii: ">"):
            if next == UInt8(ascii: "=") {
                advance()
                symbol = .greaterEqual
            } else {
                symbol = .greater
            }
        case UInt8(ascii: "("): symbol = .leftParen
        case UInt8(ascii: ")"): symbol = .rightParen
        case UInt8(ascii: ","): symbol = .comma
        case UInt8(ascii: "."): symbol = .dot
        case UInt8(ascii: "+"): symbol = .plus
        case UInt8(ascii: "-"): symbol = .minus
        case UInt8(ascii: "*"): symbol = .star
        case UInt8(ascii: "/"): symbol = .slash
        case UInt8(ascii: ";"): symbol = .semicolon
        default:
            // Consume the whole (possibly multi-byte) character for the message.
            while let b = peek(), b & 0xC0 == 0x80 { advance() }
            let character = text(from: start)
            var help: String? = nil
            if character == "“" || character == "”" || character == "‘" || character == "’" {
                help = "use straight quotes (\" or ') around text"
            } else if character == "!" {
                help = "write 'not' or '!='"
            }
            throw Diagnostic(
                .unexpectedCharacter, "unexpected character '\(character)'", at: SourceRange(start, location),
                help: help)
        }
        return Token(.symbol(symbol), SourceRange(start, location))
    }
}
