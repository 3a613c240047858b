/// The recursive-descent parser of the Rolo language.
///
/// Grammar (words in quotes are contextual keywords, not reserved):
///
///     script      := { statement (NEWLINE | ';') }
///     statement   := command { option }
///     option      := '--' NAME [ VALUE ]           (--format, --anchor, --skip-bad and --auto take a value;
///                                                   the lexer reads the last two's bare up to a space)
///     command     := the commands' own rules: each command's type in RoloEngine's Commands/
///                    holds its rule (as a comment and as its parse function), and the
///                    registry's `Grammar` maps verbs to them; `dry-run` is one verb
///     clause      := 'where' condition | 'by' path { ',' path } | 'order' 'by' order { ',' order }
///                  | 'limit' NUMBER [ 'offset' NUMBER ] | 'as' ('table'|'csv'|'json')
///                  | 'having' condition         (count, sum, avg, min, max with 'by')
///     fields      := value { ',' value }       (find and export: fields or expressions)
///     order       := path [ 'asc' | 'desc' ]
///     key         := NUMBER | STRING | WORD
///     assignment  := WORD '=' value
///     condition   := conjunct { 'or' conjunct }
///     conjunct    := negation { 'and' negation }
///     negation    := 'not' negation | '(' condition ')' | predicate
///     predicate   := value ( compare-op value
///                          | ['not'] 'contains' value | ['not'] ('starts'|'ends') 'with' value
///                          | ['not'] 'in' '(' value { ',' value } ')' | ['not'] 'in' period
///                          | ['not'] 'between' value 'and' value
///                          | 'is' ['not'] ('empty' | 'null' | 'valid' ('email'|'phone')) )
///     value       := term { ('+'|'-') term }
///     term        := unary { ('*'|'/') unary }
///     unary       := '-' unary | primary
///     primary     := STRING | MONEY | DATE | $VARIABLE | 'null' | '(' value ')'
///                  | NUMBER [ UNIT [ 'ago' ] ] | 'in' NUMBER UNIT | ('this'|'last'|'next') UNIT
///                  | 'my' 'team' | WORD '(' [ value { ',' value } ] ')' | path
///     path        := WORD { '.' WORD }
///     UNIT        := minute(s) | hour(s) | day(s) | week(s) | month(s) | quarter(s) | year(s)
public struct Parser {
    private let grammar: Grammar
    /// Tokens, lexed as the parser reaches them; a script's statements are parsed one at a time,
    /// and only the current token, the one before it and any peeked at are held.
    fileprivate let tokens: TokenStream
    private var depth = 0
    /// How deeply the parse has recursed: brackets, `not`, unary minus.
    private var nesting = 0
    /// Deeper input is refused with a clear error rather than risking the stack (and SQLite's
    /// own expression-depth limit); long flat chains (`a and b and …`) do not nest and are fine.
    public static let maxNesting = 20
    /// Factors in one `*` / `/` chain (each nests a level in SQL); and/or chains are unlimited.
    public static let maxFactors = 20
    /// `+` and `-` in one sum: each nests a level of the syntax tree (SQL gets it balanced), so a
    /// generated sum of 100,000 terms is refused here rather than overflow the stack.
    public static let maxAdditions = 10_000

    private mutating func enterNesting() throws(Diagnostic) {
        depth += 1
        nesting += 1
        guard nesting <= Parser.maxNesting else {
            throw Diagnostic(
                .nestingTooDeep, "nested more than \(Parser.maxNesting) levels deep", at: current.range,
                help: "flatten it: a and b and c needs no brackets")
        }
    }

    /// Options a command may end with; --format, --anchor, --skip-bad and --auto take a value.
    public static let options = [
        "format", "dry-run", "yes", "quiet", "force", "exit-code", "anchor", "raw", "bom", "skip-bad", "skip-drifted", "auto", "typing", "restart", "save",
    ]

    /// Words that begin a clause of find/count, ending a field list.
    public static let clauseWords: Set<String> = ["where", "by", "order", "limit", "offset", "as"]

    init(source: String, grammar: Grammar) {
        self.init(bytes: Array(source.utf8), grammar: grammar)
    }

    /// A parser over UTF-8 bytes, shared rather than copied (a long script is held once).
    init(bytes: [UInt8], grammar: Grammar) {
        self.grammar = grammar
        self.tokens = TokenStream(bytes: bytes)
        self.current = tokens.next()
        self.previousToken = current
        self.beforeNewlines = current
    }

    /// Parses every statement in `source` (a line, or a whole script).
    public static func parse(_ source: String, grammar: Grammar) throws(Diagnostic) -> [Statement] {
        try Lexer.check(source)
        var statements = Statements(source, grammar: grammar)
        var all: [Statement] = []
        while let statement = try statements.next() { all.append(statement) }
        return all
    }

    /// The statements of `source`, parsed one at a time as they are asked for: memory stays that
    /// of one statement however long the script.
    public struct Statements {
        private var parser: Parser

        public init(_ source: String, grammar: Grammar) {
            parser = Parser(source: source, grammar: grammar)
        }

        /// The statements of valid UTF-8 `bytes` (shared with the caller, not copied).
        public init(bytes: [UInt8], grammar: Grammar) {
            parser = Parser(bytes: bytes, grammar: grammar)
        }

        /// Tokens held ahead of the parser now (for tests): a few at most, however long the script.
        var heldTokens: Int { parser.tokens.held }

        /// The next statement, or nil at the end of the source. A lexing error is thrown where
        /// the parse reaches it (`Lexer.check` first finds it before any statement, as a whole
        /// parse does).
        public mutating func next() throws(Diagnostic) -> Statement? {
            let statement: Statement?
            do throws(Diagnostic) {
                statement = try parser.nextScriptStatement()
            } catch {
                throw parser.tokens.error ?? error
            }
            if let error = parser.tokens.error { throw error }
            return statement
        }
    }

    /// Parses exactly one statement.
    public static func parseStatement(_ source: String, grammar: Grammar) throws(Diagnostic) -> Statement {
        let statements = try parse(source, grammar: grammar)
        guard let first = statements.first else {
            throw Diagnostic(.unexpectedEnd, "empty command", at: nil)
        }
        return first
    }

    /// Parses `source` as one whole condition (a stored validation rule's, bound when enforced).
    public static func parseCondition(_ source: String) throws(Diagnostic) -> Condition {
        try Lexer.check(source)
        var parser = Parser(source: source, grammar: Grammar([]))
        let condition = try parser.parseCondition()
        guard parser.current.kind == .end else {
            throw Diagnostic(.unexpectedToken, "unexpected \(parser.current.display) after the condition", at: parser.current.range)
        }
        return condition
    }

    // MARK: - Token access

    /// The token being parsed, kept here (the parser asks for it several times a token).
    public private(set) var current: Token
    /// The token before `current` in the statement (nil at its first token).
    public var previous: Token? { hasPrevious ? previousToken : nil }
    /// `previous` and, while it is a new line, the last token before the run of new lines it
    /// ends in the statement (`lastSignificantToken`): kept as tokens with flags, not optionals,
    /// which `advance` would copy and destroy through Optional's generic witnesses.
    private var previousToken: Token
    private var hasPrevious = false
    private var beforeNewlines: Token
    private var hasBeforeNewlines = false

    public func peek(_ ahead: Int = 1) -> Token {
        ahead == 0 ? current : tokens.peek(ahead - 1)  // past the end: the end token
    }

    public mutating func advance() -> Token {
        guard !current.isEnd else { return current }
        var token = tokens.next()
        swap(&token, &current)
        if token.isNewline, hasPrevious, !previousToken.isNewline {
            beforeNewlines = previousToken
            hasBeforeNewlines = true
        }
        previousToken = token
        hasPrevious = true
        return token
    }

    public mutating func skipNewlines() {
        while current.isNewline { _ = advance() }
    }

    public mutating func acceptWord(_ word: String) -> Bool {
        if current.isWord(word) {
            _ = advance()
            return true
        }
        return false
    }

    public mutating func acceptSymbol(_ symbol: Token.Symbol) -> Bool {
        if current.isSymbol(symbol) {
            _ = advance()
            return true
        }
        return false
    }

    /// At `=`, `!=`, `<`, `<=`, `>` or `>=`.
    public var atComparison: Bool {
        if case .symbol(let symbol) = current.kind { return ComparisonOperator(symbol) != nil }
        return false
    }

    public var atStatementEnd: Bool {
        switch current.kind {
        case .newline, .end, .symbol(.semicolon), .option: return true
        default: return false
        }
    }

    /// An error at the current token; at the end of input after an operator or inside brackets,
    /// marked unfinished so the shell asks for a continuation line.
    public func failure(
        _ code: DiagnosticCode = .unexpectedToken, expected: String, help: String? = nil
    ) -> Diagnostic {
        let atEnd = current.kind == .end
        let found = atEnd ? "end of input" : current.display
        let code = atEnd ? DiagnosticCode.unexpectedEnd : code
        var unfinished = false
        if atEnd {
            if depth > 0 {
                unfinished = true
            } else if let last = lastSignificantToken() {
                unfinished = Parser.continues(after: last)
            }
        }
        // At the end of input, point just after the last token rather than at an empty line.
        var range = current.range
        if atEnd, let last = lastSignificantToken() { range = SourceRange(last.range.end, last.range.end) }
        return Diagnostic(code, "expected \(expected), found \(found)", at: range, help: help, unfinished: unfinished)
    }

    private func lastSignificantToken() -> Token? {
        guard hasPrevious else { return nil }
        if !previousToken.isNewline { return previousToken }
        return hasBeforeNewlines ? beforeNewlines : nil
    }

    /// Tokens after which a line is clearly not finished.
    static func continues(after token: Token) -> Bool {
        switch token.kind {
        case .symbol(let s):
            return [
                .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .leftParen, .comma, .plus,
                .minus, .star, .slash, .dot,
            ].contains(s)
        case .word(let w):
            return ["where", "and", "or", "not", "set", "contains", "between", "in", "with", "by", "is", "having"]
                .contains(w.lowercased())
        default:
            return false
        }
    }

    public func text(of range: SourceRange) -> String {
        String(decoding: tokens.bytes[range.start.offset..<range.end.offset], as: UTF8.self)
    }

    // MARK: - Script and statement

    /// The script's next statement (nil at its end); the tokens before it are let go.
    mutating func nextScriptStatement() throws(Diagnostic) -> Statement? {
        while current.isNewline || current.isSymbol(.semicolon) { _ = advance() }
        if current.isEnd { return nil }
        hasPrevious = false
        hasBeforeNewlines = false
        let statement = try parseStatement()
        guard current.isNewline || current.isEnd || current.isSymbol(.semicolon) else {
            throw Diagnostic(
                .unexpectedToken, "unexpected \(current.display) after the end of the command",
                at: current.range, help: "one command per line, or separate them with ';'")
        }
        return statement
    }

    public mutating func parseStatement() throws(Diagnostic) -> Statement {
        let start = current.range
        let command = try parseCommand()
        var options: [CommandOption] = []
        while case .option(let name) = current.kind {
            guard Parser.options.contains(name) else {
                let near = Suggestions.nearest(to: name, in: Parser.options)
                throw Diagnostic(
                    .unknownOption, "unknown option --\(name)", at: current.range,
                    help: near.map { "did you mean --\($0)?" } ?? "options are " + Parser.options.map { "--" + $0 }.joined(separator: ", "))
            }
            let nameToken = advance()
            var value: Located<String>? = nil
            if name == "format" {
                guard let word = current.word ?? stringValue(current) else {
                    throw failure(expected: "a format after --format (table, csv or json)")
                }
                value = Located(word, advance().range)
            } else if name == "anchor" {
                guard let word = stringValue(current) ?? current.word else {
                    throw failure(expected: "an anchor after --anchor: N:HASH as `audit anchor` prints it, or a file holding one")
                }
                value = Located(word, advance().range)
            } else if name == "auto" {
                // `play FILE --auto SECONDS`: a number, 0 for no wait.
                guard case .number(let seconds) = current.kind else {
                    throw failure(expected: "the seconds to wait between steps after --auto, e.g. --auto 2 (0: no wait)")
                }
                value = Located(seconds, advance().range)
            } else if name == "skip-bad" {
                // A file: quoted, or bare up to a space (the lexer reads rejects.csv, out/bad-rows.csv whole).
                guard let text = stringValue(current) else {
                    throw failure(expected: "a file for the rejected rows after --skip-bad, e.g. --skip-bad rejects.csv")
                }
                value = Located(text, advance().range)
            }
            options.append(CommandOption(name: Located(name, nameToken.range), value: value))
        }
        let end = previous?.range ?? start
        let range = SourceRange(start.start, end.end)
        return Statement(command: command, options: options, range: range, text: text(of: range))
    }

    public func stringValue(_ token: Token) -> String? {
        if case .string(let s) = token.kind { return s }
        return nil
    }

    /// The command's words, then its own rule from the grammar.
    private mutating func parseCommand() throws(Diagnostic) -> any CommandSyntax {
        guard var verb = current.word else {
            throw failure(.unknownCommand, expected: "a command", help: "type 'help' to list the commands")
        }
        let verbToken = advance()
        // `dry-run` arrives as three tokens.
        if current.isSymbol(.minus), let next = peek().word, grammar.forms[verb + "-" + next] != nil {
            verb += "-" + next
            _ = advance()
            _ = advance()
        }
        guard let forms = grammar.forms[verb] else { throw unknownCommand(verbToken) }
        for form in forms {
            if form.words.count == 2 {
                guard current.isWord(form.words[1]), peek().kind != .symbol(.equal) else { continue }
                _ = advance()
            }
            return try form.rule(&self, verbToken)
        }
        throw unknownCommand(verbToken)
    }

    private func unknownCommand(_ token: Token) -> Diagnostic {
        let word = token.word ?? token.display
        var help = "type 'help' to list the commands"
        if let near = Suggestions.nearest(to: word, in: grammar.verbs) {
            help = "did you mean '\(near)'?"
        }
        return Diagnostic(.unknownCommand, "unknown command '\(word)'", at: token.range, help: help)
    }

    // MARK: - Reading commands

    public mutating func parseEntity() throws(Diagnostic) -> EntityName {
        guard let word = current.word else {
            throw failure(expected: "an entity (contacts, accounts, deals, leads, …)")
        }
        return Located(word, advance().range)
    }

    /// `order by FIELD [asc|desc] {, …}`.
    public mutating func parseOrder() throws(Diagnostic) -> [OrderItem] {
        _ = advance()
        guard acceptWord("by") else { throw failure(expected: "'by' after 'order'") }
        var order: [OrderItem] = []
        repeat {
            skipNewlines()
            let isCount = current.word == "count" && peek().isSymbol(.leftParen)
            let field = isCount ? try parseValue() : try parsePath()
            var descending = false
            if acceptWord("desc") || acceptWord("descending") {
                descending = true
            } else if acceptWord("asc") || acceptWord("ascending") {
                descending = false
            }
            order.append(OrderItem(field: field, descending: descending))
        } while acceptSymbol(.comma)
        return order
    }

    /// `where CONDITION`, once per command.
    public mutating func parseWhere(after existing: Condition?) throws(Diagnostic) -> Condition {
        try rejectRepeat(existing != nil)
        _ = advance()
        skipNewlines()
        return try parseCondition()
    }

    public func rejectRepeat(_ seen: Bool) throws(Diagnostic) {
        if seen {
            throw Diagnostic(
                .unexpectedToken, "\(current.display) is given twice", at: current.range,
                help: "combine the conditions with 'and'")
        }
    }

    public mutating func parseFormat() throws(Diagnostic) -> Located<OutputFormat> {
        guard let word = current.word, let format = OutputFormat(rawValue: word) else {
            throw failure(expected: "an output format (table, csv, json or bars)")
        }
        return Located(format, advance().range)
    }

    public mutating func parseInteger(what: String) throws(Diagnostic) -> Located<Int> {
        guard case .number(let text) = current.kind, let value = Int(text) else {
            throw failure(expected: what)
        }
        return Located(value, advance().range)
    }

    public mutating func parseKey() throws(Diagnostic) -> Located<RecordKey> {
        let token = current
        switch token.kind {
        case .number(let text):
            guard let id = Int(text) else { throw failure(expected: "a record number") }
            _ = advance()
            return Located(.id(id), token.range)
        case .string(let s):
            _ = advance()
            return Located(.natural(s), token.range)
        case .word(let w):
            _ = advance()
            return Located(.natural(w), token.range)
        default:
            throw failure(expected: "a record: its number, or its name or email in quotes")
        }
    }

    public mutating func parseRecordReference() throws(Diagnostic) -> RecordReference {
        let entity = try parseEntity()
        return RecordReference(entity: entity, key: try parseKey())
    }

    // MARK: - Changing commands

    public mutating func parseAssignments(separatedByCommaOnly: Bool) throws(Diagnostic) -> [Assignment] {
        var assignments: [Assignment] = []
        repeat {
            skipNewlines()
            guard let name = current.word else { throw failure(expected: "a field assignment like email = \"x@y.z\"") }
            let nameToken = advance()
            guard acceptSymbol(.equal) else { throw failure(expected: "'=' after '\(name)'") }
            skipNewlines()
            assignments.append(Assignment(field: Located(name, nameToken.range), value: try parseValue()))
            if acceptSymbol(.comma) { continue }
            if separatedByCommaOnly || atStatementEnd { break }
        } while true
        return assignments
    }

    /// A name: a bare word or a quoted string (`dana`, `"Sales West"`).
    public mutating func parseName(_ what: String) throws(Diagnostic) -> Located<String> {
        switch current.kind {
        case .word(let w):
            return Located(w, advance().range)
        case .string(let s):
            return Located(s, advance().range)
        default:
            throw failure(expected: what)
        }
    }

    /// Names separated by commas (`email, phone`): at least one.
    public mutating func parseNames(_ what: String) throws(Diagnostic) -> [Located<String>] {
        var names: [Located<String>] = []
        repeat {
            names.append(try parseName(what))
        } while acceptSymbol(.comma)
        return names
    }

    public mutating func parseSelector(allowAll: Bool) throws(Diagnostic) -> RecordSelector {
        if acceptWord("where") {
            skipNewlines()
            return .matching(try parseCondition())
        }
        if allowAll, current.isWord("set") { return .matching(nil) }
        switch current.kind {
        case .number, .string: return .one(try parseKey())
        case .word where !["to", "set", "where"].contains(current.word ?? ""): return .one(try parseKey())
        default:
            throw failure(expected: "a record number or 'where' and a condition")
        }
    }

    // MARK: - Conditions

    /// `a or b or …`: one `.or` node holding every term of the chain (one `.and` node for each
    /// `and` chain under it), built with a loop, so a chain's length costs no depth.
    public mutating func parseCondition() throws(Diagnostic) -> Condition {
        let first = try parseConjunct()
        guard current.isWord("or") else { return first }
        var terms = [first]
        while acceptWord("or") {
            skipNewlines()
            terms.append(try parseConjunct())
        }
        return Condition(.or(terms), first.range.union(terms[terms.count - 1].range))
    }

    private mutating func parseConjunct() throws(Diagnostic) -> Condition {
        let first = try parseNegation()
        guard current.isWord("and") else { return first }
        var terms = [first]
        while acceptWord("and") {
            skipNewlines()
            terms.append(try parseNegation())
        }
        return Condition(.and(terms), first.range.union(terms[terms.count - 1].range))
    }

    private mutating func parseNegation() throws(Diagnostic) -> Condition {
        let start = current.range
        if acceptWord("not") {
            skipNewlines()
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= Parser.maxNesting else {
                throw Diagnostic(.nestingTooDeep, "nested more than \(Parser.maxNesting) levels deep", at: start)
            }
            let inner = try parseNegation()
            return Condition(.not(inner), start.union(inner.range))
        }
        if current.isSymbol(.leftParen) {
            _ = advance()
            try enterNesting()
            skipNewlines()
            let inner = try parseCondition()
            skipNewlines()
            guard acceptSymbol(.rightParen) else {
                throw failure(.unclosedParenthesis, expected: "')'")
            }
            depth -= 1
            nesting -= 1
            return Condition(inner.kind, start.union(previous?.range ?? start))
        }
        // `has [open] ENTITY [since VALUE]`, `no …`: whether related records exist.
        if let word = current.word, word == "has" || word == "no", peek().word != nil {
            _ = advance()
            let related = try parseRelated(allowWhere: false)
            return Condition(.exists(related, negated: word == "no"), start.union(previous?.range ?? start))
        }
        return try parsePredicate()
    }

    /// `[open] ENTITY [since VALUE] [where CONDITION]` (the where only inside `count( … )`).
    private mutating func parseRelated(allowWhere: Bool) throws(Diagnostic) -> RelatedRecords {
        let open = acceptWord("open")
        guard let word = current.word else { throw failure(expected: "an entity, e.g. has open tickets") }
        let entity = Located(word, advance().range)
        var since: Expression? = nil
        if acceptWord("since") { since = try parseValue() }
        var filter: Condition? = nil
        if allowWhere, acceptWord("where") {
            skipNewlines()
            filter = try parseCondition()
        }
        return RelatedRecords(entity: entity, open: open, since: since, filter: filter)
    }

    private mutating func parsePredicate() throws(Diagnostic) -> Condition {
        try parsePredicate(after: try parseValue())
    }

    /// The rest of a predicate after its left-hand value (`> 0`, `in (a, b)`, `is valid email`…):
    /// `rule ENTITY.FIELD must …` reads it with the field as the value.
    public mutating func parsePredicate(after left: Expression) throws(Diagnostic) -> Condition {
        let operatorStart = current.range
        func made(_ kind: Condition.Kind, _ last: SourceRange) -> Condition {
            Condition(kind, left.range.union(last))
        }
        if case .symbol(let symbol) = current.kind,
            let op = ComparisonOperator(symbol)
        {
            _ = advance()
            skipNewlines()
            let right = try parseValue()
            return made(.compare(left, op, right), right.range)
        }
        var negated = false
        if current.isWord("not"), let next = peek().word, ["contains", "in", "between", "starts", "ends", "like"].contains(next) {
            _ = advance()
            negated = true
        }
        guard let word = current.word else {
            throw failure(expected: "a comparison after \(describe(left)) (=, !=, <, >, contains, in, between, is empty)")
        }
        switch word {
        case "contains", "like":
            _ = advance()
            skipNewlines()
            let right = try parseValue()
            return made(.text(left, .contains, right, negated: negated), right.range)
        case "starts", "ends":
            _ = advance()
            guard acceptWord("with") else { throw failure(expected: "'with' after '\(word)'") }
            skipNewlines()
            let right = try parseValue()
            return made(.text(left, word == "starts" ? .startsWith : .endsWith, right, negated: negated), right.range)
        case "in":
            _ = advance()
            if acceptSymbol(.leftParen) {
                try enterNesting()
                var items: [Expression] = []
                skipNewlines()
                if !current.isSymbol(.rightParen) {
                    repeat {
                        skipNewlines()
                        items.append(try parseValue())
                        skipNewlines()
                    } while acceptSymbol(.comma)
                }
                guard acceptSymbol(.rightParen) else { throw failure(.unclosedParenthesis, expected: "',' or ')'") }
                depth -= 1
                nesting -= 1
                guard !items.isEmpty else {
                    throw Diagnostic(
                        .unexpectedToken, "an 'in' list needs at least one value",
                        at: operatorStart.union(previous?.range ?? operatorStart))
                }
                return made(.inList(left, items, negated: negated), previous?.range ?? operatorStart)
            }
            skipNewlines()
            let period = try parseValue()
            return made(.inPeriod(left, period, negated: negated), period.range)
        case "between":
            _ = advance()
            skipNewlines()
            let low = try parseValue()
            guard acceptWord("and") else { throw failure(expected: "'and' in 'between … and …'") }
            skipNewlines()
            let high = try parseValue()
            return made(.between(left, low, high, negated: negated), high.range)
        case "is":
            _ = advance()
            let not = acceptWord("not")
            if acceptWord("valid") {
                guard let word = current.word, let format = ValueFormat(rawValue: word) else {
                    throw failure(expected: "'email' or 'phone' after 'valid'")
                }
                _ = advance()
                return made(.isValid(left, format, negated: not), previous?.range ?? operatorStart)
            }
            guard acceptWord("empty") || acceptWord("null") || acceptWord("blank") else {
                throw failure(expected: "'empty' or 'valid email' after 'is\(not ? " not" : "")'")
            }
            return made(.isEmpty(left, negated: not), previous?.range ?? operatorStart)
        default:
            throw failure(expected: "a comparison after \(describe(left)) (=, !=, <, >, contains, in, between, is empty)")
        }
    }

    private func describe(_ expression: Expression) -> String {
        "'" + text(of: expression.range) + "'"
    }

    // MARK: - Values

    public mutating func parseValue() throws(Diagnostic) -> Expression {
        try parseBinary(Parser.additive) { parser throws(Diagnostic) in try parser.parseTerm() }
    }

    private mutating func parseTerm() throws(Diagnostic) -> Expression {
        try parseBinary(Parser.multiplicative) { parser throws(Diagnostic) in try parser.parseUnary() }
    }

    /// The operators of each precedence level. A function, not a dictionary literal: every value in
    /// every command passes through here, and a literal would build a dictionary each time.
    private static func additive(_ symbol: Token.Symbol) -> ArithmeticOperator? {
        switch symbol {
        case .plus: .add
        case .minus: .subtract
        default: nil
        }
    }

    private static func multiplicative(_ symbol: Token.Symbol) -> ArithmeticOperator? {
        switch symbol {
        case .star: .multiply
        case .slash: .divide
        default: nil
        }
    }

    /// One left-associative precedence level: `operand { op operand }`.
    private mutating func parseBinary(
        _ operators: (Token.Symbol) -> ArithmeticOperator?,
        operand: (inout Parser) throws(Diagnostic) -> Expression
    ) throws(Diagnostic) -> Expression {
        var left = try operand(&self)
        var operands = 1
        while case .symbol(let symbol) = current.kind, let op = operators(symbol) {
            operands += 1
            if op == .multiply || op == .divide {
                guard operands <= Parser.maxFactors else {
                    throw Diagnostic(
                        .nestingTooDeep, "more than \(Parser.maxFactors) factors in one product", at: current.range,
                        help: "multiply fewer terms at once")
                }
            } else if operands > Parser.maxAdditions + 1 {
                throw Diagnostic(
                    .nestingTooDeep, "more than \(Parser.maxAdditions) additions and subtractions in one sum", at: current.range,
                    help: "add fewer terms at once: split the sum, or use sum over records")
            }
            _ = advance()
            skipNewlines()
            let right = try operand(&self)
            left = Expression(.binary(op, left, right), left.range.union(right.range))
        }
        return left
    }

    private mutating func parseUnary() throws(Diagnostic) -> Expression {
        let start = current.range
        if acceptSymbol(.minus) {
            // `--5` is not a sign written twice: one minus makes an amount negative, as in an
            // import cell or a quoted value (`-(-5)`, or `- -5` spaced, negates twice).
            if current.isSymbol(.minus), current.range.start.offset == start.end.offset {
                throw Diagnostic(
                    .invalidNumber, "two minus signs in a row", at: start.union(current.range),
                    help: "a negative number or amount has one: -5, -$5")
            }
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= Parser.maxNesting else {
                throw Diagnostic(.nestingTooDeep, "nested more than \(Parser.maxNesting) levels deep", at: start)
            }
            let inner = try parseUnary()
            return Expression(.negate(inner), start.union(inner.range))
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(Diagnostic) -> Expression {
        // The token is read in place (`current`), its range kept: a copy of it is a switch and a retain.
        let range = current.range
        switch current.kind {
        case .string(let s):
            _ = advance()
            return Expression(.string(s), range)
        case .money(let cents):
            _ = advance()
            return Expression(.money(cents: cents), range)
        case .date(let d):
            _ = advance()
            return Expression(.date(d), range)
        case .variable(let v):
            _ = advance()
            return Expression(.variable(v), range)
        case .number(let n):
            _ = advance()
            if let unitWord = current.word, let unit = TimeUnit(word: unitWord) {
                guard let amount = Int(n) else { throw failure(expected: "a whole number of \(unit.rawValue)s") }
                let unitToken = advance()
                if acceptWord("ago") {
                    return Expression(.relative(amount: -amount, unit: unit), range.union(previous?.range ?? unitToken.range))
                }
                if acceptWord("from") {
                    guard acceptWord("now") else { throw failure(expected: "'now' after 'from'") }
                    return Expression(.relative(amount: amount, unit: unit), range.union(previous?.range ?? unitToken.range))
                }
                return Expression(.duration(amount: amount, unit: unit), range.union(unitToken.range))
            }
            return Expression(.number(n), range)
        case .symbol(.leftParen):
            _ = advance()
            try enterNesting()
            skipNewlines()
            let inner = try parseValue()
            skipNewlines()
            guard acceptSymbol(.rightParen) else { throw failure(.unclosedParenthesis, expected: "')'") }
            depth -= 1
            nesting -= 1
            return Expression(inner.kind, range.union(previous?.range ?? range))
        case .word(let raw):
            let word = current.word ?? raw
            if word == "null" {
                _ = advance()
                return Expression(.null, range)
            }
            // count(ENTITY [where CONDITION]): how many related records.
            if word == "count", peek().isSymbol(.leftParen) {
                _ = advance()
                _ = advance()
                try enterNesting()
                skipNewlines()
                let related = try parseRelated(allowWhere: true)
                skipNewlines()
                guard acceptSymbol(.rightParen) else { throw failure(.unclosedParenthesis, expected: "')'") }
                depth -= 1
                nesting -= 1
                return Expression(.related(related), range.union(previous?.range ?? range))
            }
            if word == "in", case .number(let n) = peek().kind, let unitWord = peek(2).word,
                let unit = TimeUnit(word: unitWord), let amount = Int(n)
            {
                _ = advance()
                _ = advance()
                let last = advance()
                return Expression(.relative(amount: amount, unit: unit), range.union(last.range))
            }
            if ["this", "last", "next"].contains(word), let unitWord = peek().word, let unit = TimeUnit(word: unitWord) {
                _ = advance()
                let last = advance()
                let offset = word == "this" ? 0 : word == "last" ? -1 : 1
                return Expression(.period(offset: offset, unit: unit), range.union(last.range))
            }
            if word == "my", peek().isWord("team") {
                _ = advance()
                let last = advance()
                return Expression(.myTeam, range.union(last.range))
            }
            if peek().isSymbol(.leftParen) {
                _ = advance()
                _ = advance()
                try enterNesting()
                var arguments: [Expression] = []
                skipNewlines()
                if !current.isSymbol(.rightParen) {
                    repeat {
                        skipNewlines()
                        arguments.append(try parseValue())
                    } while acceptSymbol(.comma)
                }
                skipNewlines()
                guard acceptSymbol(.rightParen) else { throw failure(.unclosedParenthesis, expected: "',' or ')'") }
                depth -= 1
                nesting -= 1
                return Expression(
                    .call(name: Located(word, range), arguments: arguments),
                    range.union(previous?.range ?? range))
            }
            return try parsePath()
        default:
            throw failure(expected: "a value (a field, \"text\", a number, a date or a word like today)")
        }
    }

    public mutating func parsePath() throws(Diagnostic) -> Expression {
        guard case .word(let first) = current.kind else {
            throw failure(expected: "a field name")
        }
        let firstToken = advance()
        var parts = [Located(firstToken.word ?? first, firstToken.range)]
        while current.isSymbol(.dot) {
            _ = advance()
            guard let next = current.word else { throw failure(expected: "a field name after '.'") }
            parts.append(Located(next, advance().range))
        }
        return Expression(.path(parts), firstToken.range.union(parts[parts.count - 1].range))
    }
}
