import Foundation
import Testing

@testable import RoloEngine
@testable import RoloSyntax

@Suite("Parser")
struct ParserTests {
    /// Every example of the language sketch's Reading section parses.
    @Test(arguments: [
        #"find contacts where account.name = "Acme" and title contains "VP" order by last_name limit 20"#,
        "find deals where stage in (proposal, negotiation) and close_date <= today + 14 days",
        "find tickets where status != closed and opened_at < 5 hours ago order by priority desc",
        "find contacts where email is empty or updated_at < 1 year ago",
        "count leads by source where created_at >= 30 days ago",
        "sum deals.amount by owner where stage = won and close_date in this quarter",
        "show contact 42",
        #"show contact "ana@acme.io""#,
        "history contact 42",
        #"find contacts where company = "Acme" as csv"#,
        "find contacts first_name, email where not (title is empty) limit 5 offset 10",
        "find deals where amount between $5,000 and 20000 and owner = me",
        "find tasks where due_date in next week and assignee in my team",
        "count deals where close_date in last quarter by owner",
        "explain find contacts where email = \"x\"",
        "find contacts where email is empty --format json",
    ])
    func parses(source: String) throws {
        let statements = try Parser.parse(source)
        #expect(statements.count == 1)
        #expect(statements[0].text == source)
    }

    @Test func findClausesBuildTheQuery() throws {
        let statement = try Parser.parseStatement(
            "find contacts email, account.name where score > 3 order by last_name desc limit 5 offset 2 as json")
        guard let query = (statement.command as? FindCommand)?.query else {
            Issue.record("expected find")
            return
        }
        #expect(query.entity.value == "contacts")
        #expect(query.fields.count == 2)
        #expect(query.order.first?.descending == true)
        #expect(query.limit?.value == 5)
        #expect(query.offset?.value == 2)
        #expect(query.format?.value == .json)
        guard case .compare(_, .greater, let right) = query.filter?.kind else {
            Issue.record("expected a comparison")
            return
        }
        #expect(right.kind == .number("3"))
    }

    @Test func andBindsTighterThanOr() throws {
        let statement = try Parser.parseStatement("find contacts where a = 1 or b = 2 and c = 3")
        guard let query = (statement.command as? FindCommand)?.query, case .or(let terms) = query.filter?.kind, terms.count == 2,
            let right = terms.last
        else {
            Issue.record("expected or at the top")
            return
        }
        guard case .and = right.kind else {
            Issue.record("expected and under or")
            return
        }
    }

    @Test func dateForms() throws {
        let statement = try Parser.parseStatement(
            "find deals where close_date <= today + 14 days and created_at > 3 months ago and d in this quarter")
        guard let query = (statement.command as? FindCommand)?.query, let filter = query.filter else {
            Issue.record("expected find")
            return
        }
        let text = String(describing: filter)
        #expect(text.contains("duration(amount: 14, unit: RoloSyntax.TimeUnit.day)"))
        #expect(text.contains("relative(amount: -3, unit: RoloSyntax.TimeUnit.month)"))
        #expect(text.contains("period(offset: 0, unit: RoloSyntax.TimeUnit.quarter)"))
    }

    @Test func scriptsSplitOnNewlinesAndSemicolons() throws {
        let statements = try Parser.parse("count contacts; count deals\n\n# a comment\nwhoami\n")
        #expect(statements.count == 3)
        #expect(statements[2].range.start.line == 4)
    }

    @Test func continuationLinesInsideAnExpression() throws {
        let statements = try Parser.parse("find contacts where\n  title contains \"VP\" and\n  email is empty")
        #expect(statements.count == 1)
    }

    /// Unfinished input asks for more; malformed input is an error. Checked by case, not wording.
    @Test(arguments: [
        ("find contacts where", true),
        ("find contacts where a = 1 and", true),
        ("find deals where stage in (won,", true),
        ("find contacts where name = \"ana", true),
        ("find contacts where (a = 1", true),
        ("find contacts where a =", true),
        ("find", false),
        ("find contacts where a", false),
        ("find contacts limit ten", false),
        ("fnd contacts", false),
        ("find contacts where a = 1 b = 2", false),
        ("count deals where x = 1 where y = 2", false),
    ])
    func unfinishedOrWrong(source: String, unfinished: Bool) {
        do {
            _ = try Parser.parse(source)
            Issue.record("expected an error for \(source)")
        } catch {
            #expect(error.isUnfinished == unfinished, "\(source): \(error.message)")
        }
    }

    @Test func unknownCommandSuggestsTheNearest() {
        do {
            _ = try Parser.parse("fnd contacts")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unknownCommand)
            #expect(error.help == "did you mean 'find'?")
            #expect(error.range?.start.column == 1)
        }
    }
}

@Suite("Diagnostics")
struct DiagnosticTests {
    @Test func rendersCaretUnderTheToken() {
        let source = "find contacts\nwhere emial = 1"
        let start = SourceLocation(offset: 20, line: 2, column: 7)
        let end = SourceLocation(offset: 25, line: 2, column: 12)
        let diagnostic = Diagnostic(
            DiagnosticCode("E202"), "unknown field 'emial' on contacts", at: SourceRange(start, end), help: "did you mean 'email'?")
        let text = DiagnosticRenderer().render(diagnostic, source: source, file: "fix.rolo")
        #expect(
            text == """
                error[E202]: unknown field 'emial' on contacts
                 --> fix.rolo:2:7
                  |
                2 | where emial = 1
                  |       ^^^^^
                  = help: did you mean 'email'?
                """)
    }

    @Test func suggestionsFromEditDistance() {
        #expect(Suggestions.nearest(to: "emial", in: ["email", "phone", "title"]) == "email")
        #expect(Suggestions.nearest(to: "contcts", in: ["contacts", "accounts"]) == "contacts")
        #expect(Suggestions.nearest(to: "zzzz", in: ["email", "phone"]) == nil)
        #expect(Suggestions.editDistance("ab", "ba") == 1)
    }
}

/// `rule …` in its three forms: the text kept and the condition every record must meet.
@Suite("Parsing rules")
struct RuleParserTests {
    @Test(arguments: [
        ("rule contacts.email must be valid email", "contacts.email must be valid email", "email is empty or email is valid email"),
        ("rule contacts.phone must match phone \"x\"", "contacts.phone must match phone", "phone is empty or phone is valid phone"),
        (
            "rule leads.source must be in (web, referral)", "leads.source must be in (web, referral)",
            "source is empty or source in (web, referral)"
        ),
        ("rule deals.amount must >= $0", "deals.amount must >= $0", "amount is empty or amount >= $0"),
        ("rule deals.name must not be empty", "deals.name must not be empty", "name is not empty"),
        (
            "rule contacts.title must not contains \"intern\"", "contacts.title must not contains \"intern\"",
            "title is empty or title not contains \"intern\""
        ),
        (
            "rule deals require close_date when stage >= proposal", "deals require close_date when stage >= proposal",
            "close_date is not empty or not (stage >= proposal)"
        ),
        ("rule tickets require contact", "tickets require contact", "contact is not empty"),
        (
            "rule deals must close_date is empty or close_date >= created_at",
            "deals must close_date is empty or close_date >= created_at", "close_date is empty or close_date >= created_at"
        ),
    ])
    func ruleTextAndCondition(source: String, text: String, condition: String) throws {
        let statement = try Parser.parseStatement(source)
        guard case .create(let rule) = (statement.command as? RuleCommand)?.action else {
            Issue.record("expected a rule")
            return
        }
        #expect(rule.text == text)
        #expect(rule.condition == condition)
        // What is stored parses back as a condition.
        _ = try Parser.parseCondition(rule.condition)
    }

    @Test func theOtherFormsAndDropDispatch() throws {
        #expect((try Parser.parseStatement("rules").command as? RuleCommand)?.action == .list(entity: nil))
        #expect((try Parser.parseStatement("drop rule 3").command as? RuleCommand)?.action.isDrop == true)
        #expect(try Parser.parseStatement("drop role x").command is RoleCommand)
        #expect((try Parser.parseStatement("check rules deals").command as? RuleCommand) != nil)
        #expect(throws: Diagnostic.self) { try Parser.parseStatement("drop rule x") }
        #expect(throws: Diagnostic.self) { try Parser.parseStatement("rule contacts.email should be valid email") }
    }

    /// How deeply conditions nest in `condition` (a test alone is 1), counted with a loop.
    static func depth(_ condition: Condition) -> Int {
        var deepest = 0
        var pending = [(condition, 1)]
        while let (next, level) = pending.popLast() {
            deepest = max(deepest, level)
            switch next.kind {
            case .and(let terms), .or(let terms): pending += terms.map { ($0, level + 1) }
            case .not(let inner): pending.append((inner, level + 1))
            default: break
            }
        }
        return deepest
    }

    /// A chain is one node however long (issue 21): 100,000 terms parse to one `or` of 100,000,
    /// two levels deep, not a tree 100,000 deep (which took the stack to walk and to free).
    @Test func chainsAreFlatNodes() throws {
        let n = 100_000
        let ors = (0..<n).map { "id = \($0)" }.joined(separator: " or ")
        let condition = try Parser.parseCondition(ors)
        guard case .or(let terms) = condition.kind else {
            Issue.record("expected one or")
            return
        }
        #expect(terms.count == n)
        #expect(terms.allSatisfy { if case .compare = $0.kind { true } else { false } })
        #expect(condition.range.start.offset == 0 && condition.range.end.offset == ors.utf8.count)
        #expect(Self.depth(condition) == 2)
        #expect(condition.testCount == n)
        // `and` under `or`, brackets and `not`: each chain one node, the depth that of the brackets.
        let mixed = (0..<n).map { $0 % 3 == 0 ? "a = \($0) and b = 1 and c = 2" : $0 % 3 == 1 ? "not (c = 1 or c = 2)" : "d = 1" }
            .joined(separator: " or ")
        let tree = try Parser.parseCondition(mixed)
        guard case .or(let parts) = tree.kind, case .and(let first) = parts[0].kind, case .not(let inner) = parts[1].kind,
            case .or(let bracketed) = inner.kind, case .compare = parts[2].kind
        else {
            Issue.record("expected or over and, not (or) and a test")
            return
        }
        #expect(parts.count == n && first.count == 3 && bracketed.count == 2)
        #expect(Self.depth(tree) == 4)
        #expect(tree.testCount == (0..<n).reduce(0) { $0 + [3, 2, 1][$1 % 3] })
        let ands = try Parser.parseCondition((0..<n).map { "id != \($0)" }.joined(separator: " and "))
        guard case .and(let conjuncts) = ands.kind else {
            Issue.record("expected one and")
            return
        }
        #expect(conjuncts.count == n && Self.depth(ands) == 2)
    }

    @Test func isValidIsAPredicate() throws {
        let condition = try Parser.parseCondition("phone is not valid phone and email is valid email")
        guard case .and(let terms) = condition.kind, terms.count == 2, let left = terms.first, let right = terms.last,
            case .isValid(_, .phone, negated: true) = left.kind,
            case .isValid(_, .email, negated: false) = right.kind
        else {
            Issue.record("expected two validity tests: \(condition.kind)")
            return
        }
        #expect(throws: Diagnostic.self) { try Parser.parseCondition("email is valid postcode") }
    }
}

extension RuleCommand.Action {
    fileprivate var isDrop: Bool {
        if case .drop = self { return true }
        return false
    }
}

/// Issue 20's query-language forms: `having`, expressions in a field list.
@Suite("Parsing having and field expressions")
struct QueryLanguageParserTests {
    @Test(arguments: [
        "count contacts by email having count > 1",
        "sum deals.amount by stage having sum > $100,000",
        "avg deals.amount by owner having avg >= 5000 and count > 2",
        "count deals by stage having not (count < 3) or count = 10 order by count desc limit 3",
        "count contacts having count > 1 by email",
    ])
    func havingParses(source: String) throws {
        let statement = try Parser.parseStatement(source)
        let query = (statement.command as? CountCommand)?.query ?? (statement.command as? SumCommand)?.query
        #expect(query?.having != nil, "\(source)")
        #expect(query?.groupBy.isEmpty == false)
    }

    @Test func havingBuildsAComparisonOfTheFigure() throws {
        let statement = try Parser.parseStatement("count contacts by email having count > 1")
        guard let query = (statement.command as? CountCommand)?.query,
            case .compare(let left, .greater, let right) = query.having?.kind
        else {
            Issue.record("expected a comparison in having")
            return
        }
        #expect(left.kind == .path([Located("count", left.range)]))
        #expect(right.kind == .number("1"))
        #expect(query.filter == nil)
    }

    /// `having` with no groups is refused where it is written, with an example in the help.
    @Test func havingNeedsBy() {
        do {
            _ = try Parser.parseStatement("count contacts where country = \"US\" having count > 1")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidAggregate)
            #expect(error.range?.start.column == 37)
            #expect(error.help?.contains("by FIELD") == true)
        }
    }

    @Test(arguments: [
        ("count contacts by email having", true),
        ("count contacts by email having count >", true),
        ("count contacts by email having count > 1 and", true),
        ("count contacts by email having (count > 1", true),
        ("count contacts by email having count", false),
        ("count contacts by email having count > 1 having count < 5", false),
        ("find contacts id, coalesce(phone,", true),
        ("find deals name, amount *", true),
        ("find contacts id,", true),
        ("find deals name, (amount * 2", true),
    ])
    func unfinishedOrWrong(source: String, unfinished: Bool) {
        do {
            _ = try Parser.parse(source)
            Issue.record("expected an error for \(source)")
        } catch {
            #expect(error.isUnfinished == unfinished, "\(source): \(error.message)")
        }
    }

    @Test func fieldListTakesExpressionsWithTheirTextAsHeader() throws {
        let statement = try Parser.parseStatement(
            "find contacts id, coalesce(phone, \"none\"), account.name, amount * (2 +\n    1) where id < 5")
        guard let query = (statement.command as? FindCommand)?.query else {
            Issue.record("expected find")
            return
        }
        #expect(query.fields.count == 4)
        #expect(query.fieldLabels == ["id", #"coalesce(phone, "none")"#, "account.name", "amount * (2 + 1)"])
        guard case .call(let name, let arguments) = query.fields[1].kind else {
            Issue.record("expected a call")
            return
        }
        #expect(name.value == "coalesce")
        #expect(arguments.count == 2)
        #expect(query.filter != nil)
    }

    @Test func exportTakesExpressionsToo() throws {
        let statement = try Parser.parseStatement(#"export deals name, amount * 2 where id < 5 to "d.csv""#)
        guard let command = statement.command as? ExportCommand else {
            Issue.record("expected export")
            return
        }
        #expect(command.query.fieldLabels == ["name", "amount * 2"])
    }
}
