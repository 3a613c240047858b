/// The recursive-descent parser of the Rolo language.
///
/// Grammar (words in quotes are contextual keywords, not reserved):
///
///     script      := { statement (NEWLINE | ';') }
///     statement   := command { option }
///     option      := '--' NAME [ VALUE ]           (only --format takes a value)
///     command     := 'find' entity [ fields ] { clause }
///                  | 'count' entity { clause }
///                  | ('sum'|'avg'|'min'|'max') entity '.' field { clause }
///                  | 'show' entity key | 'history' entity key
///                  | 'explain' statement
///                  | 'create' entity { assignment [','] }
///                  | 'update' entity (key | 'where' condition | ε) 'set' assignment { ',' assignment }
///                  | 'delete' entity (key | 'where' condition)
///                  | 'assign' entity (key | 'where' condition) 'to' value
///                  | 'merge' entity key 'into' key
///                  | 'log' ('call'|'email'|'meeting'|'note') 'on' entity key STRING
///                  | 'add' 'task' STRING [ 'on' entity key ] [ 'due' value ] [ 'for' value ]
///                  | 'changes' [ NUMBER ] | 'undo' [ 'change' NUMBER ]
///                  | 'begin' | 'commit' | 'rollback' | 'dry-run' [ 'on' | 'off' ]
///                  | 'set' NAME VALUE | 'help' [ WORD ] | 'whoami' | 'users' | 'roles' | 'teams' | 'quit'
///                  | 'create' ('user' NAME | 'team' NAME) { assignment } | 'create' 'role' NAME [ 'like' NAME ]
///                  | ('activate'|'deactivate') 'user' NAME | 'move' NAME 'to' [ 'team' ] NAME
///                  | 'grant' NAME 'to' NAME | 'revoke' NAME 'from' NAME | 'drop' 'role' NAME
///                  | ('allow'|'deny') NAME ACTION entity [ '.' field { ',' field } ] [ 'scope' NAME ]
///                  | 'can' NAME ACTION entity [ key ] | 'as' NAME statement | 'login' NAME
///                  | 'verify' 'audit' [ '--anchor' (STRING|WORD) ] | 'audit' 'anchor'
///     clause      := 'where' condition | 'by' path { ',' path } | 'order' 'by' order { ',' order }
///                  | 'limit' NUMBER [ 'offset' NUMBER ] | 'as' ('table'|'csv'|'json')
///     fields      := path { ',' path }
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
///                          | 'is' ['not'] ('empty' | 'null') )
///     value       := term { ('+'|'-') term }
///     term        := unary { ('*'|'/') unary }
///     unary       := '-' unary | primary
///     primary     := STRING | MONEY | DATE | $VARIABLE | 'null' | '(' value ')'
///                  | NUMBER [ UNIT [ 'ago' ] ] | 'in' NUMBER UNIT | ('this'|'last'|'next') UNIT
///                  | 'my' 'team' | WORD '(' [ value { ',' value } ] ')' | path
///     path        := WORD { '.' WORD }
///     UNIT        := minute(s) | hour(s) | day(s) | week(s) | month(s) | quarter(s) | year(s)
public struct Parser {
    private let tokens: [Token]
    private let sourceBytes: [UInt8]
    private var position = 0
    private var depth = 0
    /// How deeply the parse has recursed: brackets, `not`, unary minus.
    private var nesting = 0
    /// Deeper input is refused with a clear error rather than risking the stack (and SQLite's
    /// own expression-depth limit); long flat chains (`a and b and …`) do not nest and are fine.
    public static let maxNesting = 20
    /// Factors in one `*` / `/` chain (each nests a level in SQL); sums and and/or chains are unlimited.
    public static let maxFactors = 20

    private mutating func enterNesting() throws(Diagnostic) {
        depth += 1
        nesting += 1
        guard nesting <= Parser.maxNesting else {
            throw Diagnostic(
                .nestingTooDeep, "nested more than \(Parser.maxNesting) levels deep", at: current.range,
                help: "flatten it: a and b and c needs no brackets")
        }
    }

    /// Words that start a command, for "did you mean" and completion.
    public static let commands = [
        "find", "count", "sum", "avg", "min", "max", "show", "history", "explain", "create", "update",
        "delete", "assign", "merge", "log", "add", "changes", "undo", "begin", "commit", "rollback",
        "dry-run", "set", "help", "whoami", "users", "roles", "teams", "quit", "exit", "grant", "revoke", "allow",
        "deny", "can", "as", "login", "deactivate", "activate", "move", "drop", "verify", "audit",
    ]

    /// Options a command may end with; --format and --anchor take a value.
    public static let options = ["format", "dry-run", "yes", "quiet", "force", "exit-code", "anchor"]

    /// Words that begin a clause of find/count, ending a field list.
    static let clauseWords: Set<String> = ["where", "by", "order", "limit", "offset", "as"]

    init(tokens: [Token], source: String) {
        self.tokens = tokens
        self.sourceBytes = Array(source.utf8)
    }

    /// Parses every statement in `source` (a line, or a whole script).
    public static func parse(_ source: String) throws(Diagnostic) -> [Statement] {
        let tokens = try Lexer.tokenize(source)
        var parser = Parser(tokens: tokens, source: source)
        return try parser.parseScript()
    }

    /// Parses exactly one statement.
    public static func parseStatement(_ source: String) throws(Diagnostic) -> Statement {
        let statements = try parse(source)
        guard let first = statements.first else {
            throw Diagnostic(.unexpectedEnd, "empty command", at: nil)
        }
        return first
    }

    // MARK: - Token access

    private var current: Token { tokens[position] }
    private var previous: Token? { position > 0 ? tokens[position - 1] : nil }

    private func peek(_ ahead: Int = 1) -> Token {
        tokens[min(position + ahead, tokens.count - 1)]
    }

    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private mutating func skipNewlines() {
        while current.kind == .newline { _ = advance() }
    }

    private mutating func acceptWord(_ word: String) -> Bool {
        if current.isWord(word) {
            _ = advance()
            return true
        }
        return false
    }

    private mutating func acceptSymbol(_ symbol: Token.Symbol) -> Bool {
        if current.isSymbol(symbol) {
            _ = advance()
            return true
        }
        return false
    }

    private var atStatementEnd: Bool {
        switch current.kind {
        case .newline, .end, .symbol(.semicolon), .option: return true
        default: return false
        }
    }

    /// An error at the current token; at the end of input after an operator or inside brackets,
    /// marked unfinished so the shell asks for a continuation line.
    private func failure(
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
        var index = position - 1
        while index >= 0 {
            if tokens[index].kind != .newline { return tokens[index] }
            index -= 1
        }
        return nil
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
            return ["where", "and", "or", "not", "set", "contains", "between", "in", "with", "by", "is"]
                .contains(w.lowercased())
        default:
            return false
        }
    }

    private func text(of range: SourceRange) -> String {
        String(decoding: sourceBytes[range.start.offset..<range.end.offset], as: UTF8.self)
    }

    // MARK: - Script and statement

    mutating func parseScript() throws(Diagnostic) -> [Statement] {
        var statements: [Statement] = []
        while true {
            while current.kind == .newline || current.isSymbol(.semicolon) { _ = advance() }
            if current.kind == .end { return statements }
            statements.append(try parseStatement())
            guard current.kind == .newline || current.kind == .end || current.isSymbol(.semicolon) else {
                throw Diagnostic(
                    .unexpectedToken, "unexpected \(current.display) after the end of the command",
                    at: current.range, help: "one command per line, or separate them with ';'")
            }
        }
    }

    mutating func parseStatement() throws(Diagnostic) -> Statement {
        let start = current.range
        let kind = try parseCommand()
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
                    throw failure(expected: "an anchor after --anchor: \"N:HASH\" as `audit anchor` prints it, or a file holding one")
                }
                value = Located(word, advance().range)
            }
            options.append(CommandOption(name: Located(name, nameToken.range), value: value))
        }
        let end = previous?.range ?? start
        let range = SourceRange(start.start, end.end)
        return Statement(kind: kind, options: options, range: range, text: text(of: range))
    }

    private func stringValue(_ token: Token) -> String? {
        if case .string(let s) = token.kind { return s }
        return nil
    }

    private mutating func parseCommand() throws(Diagnostic) -> StatementKind {
        guard let verb = current.word else {
            throw failure(.unknownCommand, expected: "a command", help: "type 'help' to list the commands")
        }
        let verbToken = advance()
        switch verb {
        case "help":
            if atStatementEnd { return .help(topic: nil) }
            let topic = advance()
            let name = topic.word ?? stringValue(topic) ?? topic.display
            if name == "dry", current.isSymbol(.minus), peek().isWord("run") {
                _ = advance()
                let last = advance()
                return .help(topic: Located("dry-run", topic.range.union(last.range)))
            }
            return .help(topic: Located(name, topic.range))
        case "whoami": return .whoami
        case "users": return .users
        case "roles": return .roles
        case "teams": return .teams
        case "quit", "exit": return .quit
        case "find": return .find(try parseFind())
        case "count": return .aggregate(try parseAggregate(.count))
        case "sum", "avg", "min", "max":
            return .aggregate(try parseAggregate(AggregateFunction(rawValue: verb) ?? .sum))
        case "show": return .show(try parseRecordReference())
        case "history": return .history(try parseRecordReference())
        case "explain":
            guard !atStatementEnd else { throw failure(expected: "a query to explain, e.g. explain find contacts") }
            return .explain(try parseStatement())
        case "create":
            if let kind = current.word, ["user", "team", "role"].contains(kind), peek().kind != .symbol(.equal) {
                return try parseCreateSecurity(kind)
            }
            return try parseCreate()
        case "deactivate", "activate":
            guard acceptWord("user") else { throw failure(expected: "'user', e.g. \(verb) user bob") }
            return .setUserActive(handle: try parseName("a user's handle"), active: verb == "activate")
        case "move":
            let user = try parseName("a user's handle")
            guard acceptWord("to") else { throw failure(expected: "'to', e.g. move bob to team \"Sales West\"") }
            _ = acceptWord("team")
            return .moveUser(handle: user, team: try parseName("a team"))
        case "grant":
            let role = try parseName("a role, e.g. grant data_analyst to dana")
            guard acceptWord("to") else { throw failure(expected: "'to' and a user") }
            return .grant(role: role, user: try parseName("a user's handle"))
        case "revoke":
            let role = try parseName("a role, e.g. revoke sales_rep from bob")
            guard acceptWord("from") else { throw failure(expected: "'from' and a user") }
            return .revoke(role: role, user: try parseName("a user's handle"))
        case "drop":
            guard acceptWord("role") else { throw failure(expected: "'role', e.g. drop role regional_manager") }
            return .dropRole(name: try parseName("a role"))
        case "allow", "deny":
            let effect = Located(verb, verbToken.range)
            let role = try parseName("a role")
            let action = try parseName("an action (read, create, update, delete, assign, merge, export, import, grant, manage_scripts)")
            let entity = try parseEntity()
            var fields: [Located<String>] = []
            if acceptSymbol(.dot) {
                repeat { fields.append(try parseName("a field")) } while acceptSymbol(.comma)
            }
            var scope: Located<String>? = nil
            if acceptWord("scope") { scope = try parseName("own, team or all") }
            return .rule(effect: effect, role: role, action: action, entity: entity, fields: fields, scope: scope)
        case "can":
            let user = try parseName("a user's handle, e.g. can dana export contacts")
            let action = try parseName("an action")
            let entity = try parseEntity()
            let key = atStatementEnd ? nil : try parseKey()
            return .can(user: user, action: action, entity: entity, key: key)
        case "as":
            let user = try parseName("a user's handle, e.g. as bob find deals")
            guard !atStatementEnd else { throw failure(expected: "a command to run as \(user.value)") }
            return .asUser(user: user, statement: try parseStatement())
        case "login":
            return .login(user: try parseName("a user's handle"))
        case "verify":
            guard acceptWord("audit") else { throw failure(expected: "'audit', e.g. verify audit") }
            return .verifyAudit
        case "audit":
            guard acceptWord("anchor") else { throw failure(expected: "'anchor', e.g. audit anchor") }
            return .auditAnchor
        case "update": return try parseUpdate()
        case "delete":
            let entity = try parseEntity()
            return .delete(entity: entity, selector: try parseSelector(allowAll: false))
        case "assign":
            let entity = try parseEntity()
            let selector = try parseSelector(allowAll: false)
            guard acceptWord("to") else { throw failure(expected: "'to' and a user, e.g. assign deals where owner = bob to carol") }
            return .assign(entity: entity, selector: selector, to: try parseValue())
        case "merge":
            let entity = try parseEntity()
            let from = try parseKey()
            guard acceptWord("into") else { throw failure(expected: "'into', e.g. merge contact 17 into 12") }
            return .merge(entity: entity, from: from, into: try parseKey())
        case "log": return try parseLog()
        case "add": return try parseAddTask()
        case "changes":
            if case .number(let n) = current.kind {
                _ = advance()
                return .changes(limit: Int(n))
            }
            return .changes(limit: nil)
        case "undo":
            if acceptWord("change") {
                return .undo(changeSet: try parseInteger(what: "a change set number, e.g. undo change 57"))
            }
            return .undo(changeSet: nil)
        case "begin": return .begin
        case "commit": return .commit
        case "rollback": return .rollback
        case "dry":
            guard current.isSymbol(.minus), peek().isWord("run") else {
                throw unknownCommand(verbToken)
            }
            _ = advance()
            _ = advance()
            if acceptWord("on") { return .dryRun(true) }
            if acceptWord("off") { return .dryRun(false) }
            return .dryRun(nil)
        case "set":
            guard let name = current.word else { throw failure(expected: "a setting name, e.g. set confirm 100") }
            let nameToken = advance()
            let valueToken = advance()
            let value: String
            switch valueToken.kind {
            case .word(let w): value = w
            case .number(let n): value = n
            case .string(let s): value = s
            default:
                position -= 1
                throw failure(expected: "a value for '\(name)'")
            }
            return .setting(name: Located(name, nameToken.range), value: Located(value, valueToken.range))
        default:
            throw unknownCommand(verbToken)
        }
    }

    private func unknownCommand(_ token: Token) -> Diagnostic {
        let word = token.word ?? token.display
        var help = "type 'help' to list the commands"
        if let near = Suggestions.nearest(to: word, in: Parser.commands) {
            help = "did you mean '\(near)'?"
        }
        return Diagnostic(.unknownCommand, "unknown command '\(word)'", at: token.range, help: help)
    }

    // MARK: - Reading commands

    private mutating func parseEntity() throws(Diagnostic) -> EntityName {
        guard let word = current.word else {
            throw failure(expected: "an entity (contacts, accounts, deals, leads, …)")
        }
        return Located(word, advance().range)
    }

    private mutating func parseFind() throws(Diagnostic) -> FindQuery {
        var query = FindQuery(entity: try parseEntity())
        // An optional field list before the clauses.
        if let word = current.word, !Parser.clauseWords.contains(word) {
            query.fields = [try parsePath()]
            while acceptSymbol(.comma) {
                skipNewlines()
                query.fields.append(try parsePath())
            }
        }
        while !atStatementEnd {
            guard let word = current.word else { throw failure(expected: "'where', 'order by', 'limit' or 'as'") }
            switch word {
            case "where":
                query.filter = try parseWhere(after: query.filter)
            case "order":
                try rejectRepeat(!query.order.isEmpty)
                query.order = try parseOrder()
            case "limit":
                try rejectRepeat(query.limit != nil)
                _ = advance()
                query.limit = try parseInteger(what: "a number after 'limit'")
                if acceptWord("offset") {
                    query.offset = try parseInteger(what: "a number after 'offset'")
                }
            case "as":
                try rejectRepeat(query.format != nil)
                _ = advance()
                query.format = try parseFormat()
            default:
                throw failure(expected: "'where', 'order by', 'limit' or 'as'")
            }
        }
        return query
    }

    /// `order by FIELD [asc|desc] {, …}`.
    private mutating func parseOrder() throws(Diagnostic) -> [OrderItem] {
        _ = advance()
        guard acceptWord("by") else { throw failure(expected: "'by' after 'order'") }
        var order: [OrderItem] = []
        repeat {
            skipNewlines()
            let isCount = current.word?.lowercased() == "count" && peek().isSymbol(.leftParen)
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
    private mutating func parseWhere(after existing: Condition?) throws(Diagnostic) -> Condition {
        try rejectRepeat(existing != nil)
        _ = advance()
        skipNewlines()
        return try parseCondition()
    }

    private func rejectRepeat(_ seen: Bool) throws(Diagnostic) {
        if seen {
            throw Diagnostic(
                .unexpectedToken, "\(current.display) is given twice", at: current.range,
                help: "combine the conditions with 'and'")
        }
    }

    private mutating func parseFormat() throws(Diagnostic) -> Located<OutputFormat> {
        guard let word = current.word, let format = OutputFormat(rawValue: word) else {
            throw failure(expected: "an output format (table, csv, json or bars)")
        }
        return Located(format, advance().range)
    }

    private mutating func parseInteger(what: String) throws(Diagnostic) -> Located<Int> {
        guard case .number(let text) = current.kind, let value = Int(text) else {
            throw failure(expected: what)
        }
        return Located(value, advance().range)
    }

    private mutating func parseAggregate(_ function: AggregateFunction) throws(Diagnostic) -> AggregateQuery {
        var query: AggregateQuery
        if function == .count {
            query = AggregateQuery(function: .count, entity: try parseEntity(), field: nil)
        } else {
            let entity = try parseEntity()
            guard acceptSymbol(.dot) else {
                throw failure(expected: "'.' and a field, e.g. \(function.rawValue) deals.amount")
            }
            // A field, or an expression in brackets: avg tickets.(closed_at - opened_at).
            let field = current.isSymbol(.leftParen) ? try parseValue() : try parsePath()
            query = AggregateQuery(function: function, entity: entity, field: field)
        }
        while !atStatementEnd {
            guard let word = current.word else { throw failure(expected: "'by', 'where', 'order by', 'limit' or 'as'") }
            switch word {
            case "where":
                query.filter = try parseWhere(after: query.filter)
            case "order":
                try rejectRepeat(!query.order.isEmpty)
                query.order = try parseOrder()
            case "limit":
                try rejectRepeat(query.limit != nil)
                _ = advance()
                query.limit = try parseInteger(what: "a number after 'limit'")
            case "by":
                try rejectRepeat(!query.groupBy.isEmpty)
                _ = advance()
                repeat {
                    skipNewlines()
                    // A field, or how many related records: count accounts by count(contacts).
                    let isCount = current.word?.lowercased() == "count" && peek().isSymbol(.leftParen)
                    query.groupBy.append(isCount ? try parseValue() : try parsePath())
                } while acceptSymbol(.comma)
            case "as":
                try rejectRepeat(query.format != nil)
                _ = advance()
                query.format = try parseFormat()
            default:
                throw failure(expected: "'by', 'where', 'order by', 'limit' or 'as'")
            }
        }
        return query
    }

    private mutating func parseKey() throws(Diagnostic) -> Located<RecordKey> {
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

    private mutating func parseRecordReference() throws(Diagnostic) -> RecordReference {
        let entity = try parseEntity()
        return RecordReference(entity: entity, key: try parseKey())
    }

    // MARK: - Changing commands

    private mutating func parseAssignments(separatedByCommaOnly: Bool) throws(Diagnostic) -> [Assignment] {
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
    private mutating func parseName(_ what: String) throws(Diagnostic) -> Located<String> {
        switch current.kind {
        case .word(let w):
            return Located(w, advance().range)
        case .string(let s):
            return Located(s, advance().range)
        default:
            throw failure(expected: what)
        }
    }

    private mutating func parseCreateSecurity(_ kind: String) throws(Diagnostic) -> StatementKind {
        _ = advance()
        switch kind {
        case "user":
            let handle = try parseName("the new user's handle, e.g. create user dana name=\"Dana Lee\"")
            let assignments = atStatementEnd ? [] : try parseAssignments(separatedByCommaOnly: false)
            return .createUser(handle: handle, assignments: assignments)
        case "team":
            let name = try parseName("the new team's name")
            let assignments = atStatementEnd ? [] : try parseAssignments(separatedByCommaOnly: false)
            return .createTeam(name: name, assignments: assignments)
        default:
            let name = try parseName("the new role's name")
            var like: Located<String>? = nil
            if acceptWord("like") { like = try parseName("the role to copy") }
            return .createRole(name: name, like: like)
        }
    }

    private mutating func parseCreate() throws(Diagnostic) -> StatementKind {
        let entity = try parseEntity()
        if atStatementEnd {
            throw failure(expected: "field values, e.g. create contact first_name=\"Ana\" last_name=\"Ruiz\"")
        }
        return .create(entity: entity, assignments: try parseAssignments(separatedByCommaOnly: false))
    }

    private mutating func parseSelector(allowAll: Bool) throws(Diagnostic) -> RecordSelector {
        if acceptWord("where") {
            skipNewlines()
            return .matching(try parseCondition())
        }
        if allowAll, current.isWord("set") { return .matching(nil) }
        switch current.kind {
        case .number, .string: return .one(try parseKey())
        case .word(let w) where !["to", "set", "where"].contains(w.lowercased()): return .one(try parseKey())
        default:
            throw failure(expected: "a record number or 'where' and a condition")
        }
    }

    private mutating func parseUpdate() throws(Diagnostic) -> StatementKind {
        let entity = try parseEntity()
        let selector = try parseSelector(allowAll: true)
        guard acceptWord("set") else {
            throw failure(expected: "'set' and the changes, e.g. set email = \"ana@acme.io\"")
        }
        return .update(entity: entity, selector: selector, assignments: try parseAssignments(separatedByCommaOnly: true))
    }

    private mutating func parseLog() throws(Diagnostic) -> StatementKind {
        guard let kind = current.word, ["call", "email", "meeting", "note"].contains(kind) else {
            throw failure(expected: "call, email, meeting or note")
        }
        let kindToken = advance()
        guard acceptWord("on") else { throw failure(expected: "'on', e.g. log call on contact 42 \"text\"") }
        let target = try parseRecordReference()
        guard case .string(let text) = current.kind else { throw failure(expected: "the text in quotes") }
        let textToken = advance()
        return .log(kind: Located(kind, kindToken.range), target: target, text: Located(text, textToken.range))
    }

    private mutating func parseAddTask() throws(Diagnostic) -> StatementKind {
        guard acceptWord("task") else { throw failure(expected: "'task', e.g. add task \"Send proposal\" on deal 9") }
        guard case .string(let title) = current.kind else { throw failure(expected: "the task's title in quotes") }
        let titleToken = advance()
        var target: RecordReference? = nil
        var due: Expression? = nil
        var assignee: Expression? = nil
        while !atStatementEnd {
            if acceptWord("on") {
                target = try parseRecordReference()
            } else if acceptWord("due") {
                due = try parseValue()
            } else if acceptWord("for") {
                assignee = try parseValue()
            } else {
                throw failure(expected: "'on', 'due' or 'for'")
            }
        }
        return .addTask(title: Located(title, titleToken.range), target: target, due: due, assignee: assignee)
    }

    // MARK: - Conditions

    mutating func parseCondition() throws(Diagnostic) -> Condition {
        var left = try parseConjunct()
        while acceptWord("or") {
            skipNewlines()
            let right = try parseConjunct()
            left = Condition(.or(left, right), left.range.union(right.range))
        }
        return left
    }

    private mutating func parseConjunct() throws(Diagnostic) -> Condition {
        var left = try parseNegation()
        while acceptWord("and") {
            skipNewlines()
            let right = try parseNegation()
            left = Condition(.and(left, right), left.range.union(right.range))
        }
        return left
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
        if let word = current.word?.lowercased(), word == "has" || word == "no", peek().word != nil {
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
        let left = try parseValue()
        let operatorStart = current.range
        func made(_ kind: Condition.Kind, _ last: SourceRange) -> Condition {
            Condition(kind, left.range.union(last))
        }
        if case .symbol(let symbol) = current.kind,
            let op = ComparisonOperator(rawValue: symbol.rawValue)
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
            guard acceptWord("empty") || acceptWord("null") || acceptWord("blank") else {
                throw failure(expected: "'empty' after 'is\(not ? " not" : "")'")
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

    mutating func parseValue() throws(Diagnostic) -> Expression {
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
            if op == .multiply || op == .divide {
                operands += 1
                guard operands <= Parser.maxFactors else {
                    throw Diagnostic(
                        .nestingTooDeep, "more than \(Parser.maxFactors) factors in one product", at: current.range,
                        help: "multiply fewer terms at once")
                }
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
        let token = current
        switch token.kind {
        case .string(let s):
            _ = advance()
            return Expression(.string(s), token.range)
        case .money(let cents):
            _ = advance()
            return Expression(.money(cents: cents), token.range)
        case .date(let d):
            _ = advance()
            return Expression(.date(d), token.range)
        case .variable(let v):
            _ = advance()
            return Expression(.variable(v), token.range)
        case .number(let n):
            _ = advance()
            if let unitWord = current.word, let unit = TimeUnit(word: unitWord) {
                guard let amount = Int(n) else { throw failure(expected: "a whole number of \(unit.rawValue)s") }
                let unitToken = advance()
                if acceptWord("ago") {
                    return Expression(.relative(amount: -amount, unit: unit), token.range.union(previous?.range ?? unitToken.range))
                }
                if acceptWord("from") {
                    guard acceptWord("now") else { throw failure(expected: "'now' after 'from'") }
                    return Expression(.relative(amount: amount, unit: unit), token.range.union(previous?.range ?? unitToken.range))
                }
                return Expression(.duration(amount: amount, unit: unit), token.range.union(unitToken.range))
            }
            return Expression(.number(n), token.range)
        case .symbol(.leftParen):
            _ = advance()
            try enterNesting()
            skipNewlines()
            let inner = try parseValue()
            skipNewlines()
            guard acceptSymbol(.rightParen) else { throw failure(.unclosedParenthesis, expected: "')'") }
            depth -= 1
            nesting -= 1
            return Expression(inner.kind, token.range.union(previous?.range ?? token.range))
        case .word(let raw):
            let word = raw.lowercased()
            if word == "null" {
                _ = advance()
                return Expression(.null, token.range)
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
                return Expression(.related(related), token.range.union(previous?.range ?? token.range))
            }
            if word == "in", case .number(let n) = peek().kind, let unitWord = peek(2).word,
                let unit = TimeUnit(word: unitWord), let amount = Int(n)
            {
                _ = advance()
                _ = advance()
                let last = advance()
                return Expression(.relative(amount: amount, unit: unit), token.range.union(last.range))
            }
            if ["this", "last", "next"].contains(word), let unitWord = peek().word, let unit = TimeUnit(word: unitWord) {
                _ = advance()
                let last = advance()
                let offset = word == "this" ? 0 : word == "last" ? -1 : 1
                return Expression(.period(offset: offset, unit: unit), token.range.union(last.range))
            }
            if word == "my", peek().isWord("team") {
                _ = advance()
                let last = advance()
                return Expression(.myTeam, token.range.union(last.range))
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
                    .call(name: Located(word, token.range), arguments: arguments),
                    token.range.union(previous?.range ?? token.range))
            }
            return try parsePath()
        default:
            throw failure(expected: "a value (a field, \"text\", a number, a date or a word like today)")
        }
    }

    mutating func parsePath() throws(Diagnostic) -> Expression {
        guard case .word(let first) = current.kind else {
            throw failure(expected: "a field name")
        }
        let firstToken = advance()
        var parts = [Located(first.lowercased(), firstToken.range)]
        while current.isSymbol(.dot) {
            _ = advance()
            guard case .word(let next) = current.kind else { throw failure(expected: "a field name after '.'") }
            parts.append(Located(next.lowercased(), advance().range))
        }
        return Expression(.path(parts), firstToken.range.union(parts[parts.count - 1].range))
    }
}
