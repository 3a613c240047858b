import GRDB
import RoloStore
import RoloSyntax

/// Binding related records' fields, arithmetic and function calls (the rest of `ExpressionBinder`).
extension ExpressionBinder {
    // MARK: - Related records

    /// The date a `since` looks at, per entity: when the activity happened, the ticket was opened…
    static let sinceField: [String: String] = [
        "activities": "occurred_at", "tickets": "opened_at", "tasks": "created_at", "deals": "created_at",
        "campaign_members": "created_at",
    ]

    /// `(SELECT count(*) FROM child WHERE child.link = this.id …)`: how many records of another
    /// entity refer to the record at hand — only those the acting user may read.
    func relatedCount(_ related: RelatedRecords) throws -> SQLFragment {
        Sql.subquery(try relatedRecords(related, correlated: true).query.selecting([Sql.countAll]))
    }

    /// `has …` / `no …`: whether one related record exists — EXISTS stops at the first, where a
    /// count reads them all (a contact's activities since a date over a million contacts: 7.8 s
    /// by count). With `relatedAsSets`, the set of the related records' links instead.
    func relatedExist(_ related: RelatedRecords, negated: Bool) throws -> SQLFragment {
        guard relatedAsSets else {
            let exists = Sql.exists(try relatedRecords(related, correlated: true).query.selecting([Sql.true]))
            return negated ? Sql.group(Sql.not(exists)) : exists
        }
        // Every related record's link (never NULL, so NOT IN means none).
        let (query, link) = try relatedRecords(related, correlated: false)
        let links = query.selecting([link]).sql
        return Sql.group(negated ? Sql.notIn(Sql.id(scope.rootAlias), links) : Sql.in(Sql.id(scope.rootAlias), links))
    }

    /// The related records' query (its columns to choose) and their column linking them to the
    /// record at hand: tied to that record (`correlated`), or all of them with a link.
    func relatedRecords(_ related: RelatedRecords, correlated: Bool) throws -> (query: Select, link: SQLFragment) {
        let child = try Catalog.entity(related.entity)
        let parent = scope.root
        let links = child.fields.filter { $0.referencedEntity == parent.name }
        guard let link = links.first(where: { $0.name != "owner_id" && $0.name != "assignee_id" }) ?? links.first else {
            let referring = CRMSchema.entities.filter { entity in
                entity.kind == .domain && entity.fields.contains { $0.referencedEntity == parent.name }
            }.map(\.name)
            throw Diagnostic(
                .unknownRelation, "\(child.name) do not refer to \(parent.name)", at: related.entity.range,
                help: referring.isEmpty
                    ? "no records refer to \(parent.name)" : "\(parent.name) are referred to by " + referring.joined(separator: ", "))
        }
        let inner = scope.child(root: child)
        let binder = ExpressionBinder(
            db: database, scope: inner, temporal: temporal, actor: actor, parameters: parameterValues, rule: rule, dependencies: dependencies)
        let linkColumn = Sql.column(inner.rootAlias, link.name)
        var conditions = [correlated ? Sql.equals(linkColumn, Sql.id(scope.rootAlias)) : Sql.isNotNull(linkColumn)]
        if related.open {
            guard let filter = ShowRunner.openFilter(child.name, alias: inner.rootAlias) else {
                let open = ShowRunner.relatedFilters.filter { $0.value.filter != nil }.keys.sorted()
                throw Diagnostic(
                    .invalidValue, "'open' has no meaning for \(child.name)", at: related.entity.range,
                    help: "open applies to " + open.joined(separator: ", "))
            }
            conditions.append(filter)
        }
        if let since = related.since {
            let name = Self.sinceField[child.name] ?? "created_at"
            let column = try inner.resolve([Located(name, since.range)])
            let bound = try binder.bind(since, expecting: column.type)
            guard case .temporal = bound else {
                throw Diagnostic(.typeMismatch, "since takes a date, e.g. since 1 year ago", at: since.range)
            }
            conditions.append(try binder.comparison(SQLFragment(column.sql), column.type, .greaterEqual, bound, at: since.range))
        }
        if let filter = related.filter { conditions.append(try binder.condition(filter)) }
        if let readable = inner.readFilter(child, alias: inner.rootAlias) { conditions.append(readable) }
        var query = Select(Sql.true, from: child.name, as: inner.rootAlias).joining(inner.joinSQL)
        query.conditions = conditions
        return (query, linkColumn)
    }

    // MARK: - Arithmetic and functions

    /// A long `a + b - c + …` (more than 8 terms) of numbers or money, bound with a loop rather than
    /// recursion and written as a balanced sum of signed terms, so 10,000 terms neither exhaust the
    /// stack nor pass SQLite's expression-depth limit. Nil when it is short, or involves dates.
    func bindLongSum(_ expression: Expression, expecting expected: FieldType?) throws -> BoundExpression? {
        var terms: [(negative: Bool, expression: Expression)] = []
        var node = expression
        while case .binary(let op, let left, let right) = node.kind, op == .add || op == .subtract {
            terms.append((op == .subtract, right))
            node = left
        }
        guard terms.count >= 8 else { return nil }
        terms.append((false, node))
        terms.reverse()
        let first = try bind(terms[0].expression, expecting: expected)
        if first.type?.isTemporal == true { return nil }
        if case .duration = first { return nil }
        let type = first.type ?? expected
        var parts: [SQLFragment] = []
        var isMoney = first.type == .money
        for (index, term) in terms.enumerated() {
            let bound = index == 0 ? first : try bind(term.expression, expecting: type)
            switch bound {
            case .temporal, .duration: return nil
            default: break
            }
            let (sql, termType) = try numericSQL(bound, at: term.expression.range)
            if termType == .money { isMoney = true }
            parts.append(term.negative ? Sql.negate(sql) : sql)
        }
        return .computed(Sql.balancedSum(parts), isMoney ? .money : .integer)
    }

    func bindArithmetic(
        _ op: ArithmeticOperator, _ left: Expression, _ right: Expression, expecting expected: FieldType?,
        range: SourceRange
    ) throws -> BoundExpression {
        // × and ÷ take plain numbers: in `amount * 1.1` the 1.1 is a factor, not $1.10. In + and −
        // a number beside money means dollars (`amount + 100` adds $100), so it binds as money.
        let multiplicative = op == .multiply || op == .divide
        let l = try bind(left, expecting: multiplicative ? nil : expected)
        let r = try bind(right, expecting: multiplicative ? nil : (l.type ?? expected))
        // Constant date arithmetic: today + 14 days.
        if case .temporal(let t) = l, case .duration(let n, let unit) = r, op == .add || op == .subtract {
            try Self.checkSpan(n, unit, at: right.range)
            return .temporal(try Self.checkDate(temporal.add(t, amount: op == .add ? n : -n, unit: unit), at: range))
        }
        // A date column moved by a duration: close_date + 7 days.
        if case .duration(let n, let unit) = r, op == .add || op == .subtract, let type = l.type, type.isTemporal {
            let amount = op == .add ? n : -n
            let (sql, _) = try valueSQL(l, at: left.range)
            return .computed(Sql.dateAdd(sql, amount, unit.calendarUnit, moment: type != .date), type)
        }
        // The time between two dates or moments: closed_at - opened_at, a length of time in seconds.
        if op == .subtract, let lt = l.type, lt.isTemporal, let rt = r.type, rt.isTemporal {
            let (ls, _) = try valueSQL(l, at: left.range, for: lt)
            let (rs, _) = try valueSQL(r, at: right.range, for: rt)
            return .computed(Sql.secondsBetween(ls, rs), .duration)
        }
        if case .duration = l {
            throw Diagnostic(.typeMismatch, "a duration must come after a date, as in today + 14 days", at: left.range)
        }
        if case .duration = r {
            throw Diagnostic(.typeMismatch, "a duration can only be added to a date, as in today + 14 days", at: right.range)
        }
        let (ls, lt) = try numericSQL(l, at: left.range)
        var (rs, rt) = try numericSQL(r, at: right.range)
        if op == .divide, case .constant(let value, _) = r, (Double.fromDatabaseValue(value) ?? 1) == 0 {
            throw Diagnostic(.divisionByZero, "division by zero", at: right.range, help: "divide by a number other than 0")
        }
        let (lMoney, rMoney) = (lt == .money, rt == .money)
        switch op {
        case .add, .subtract:
            return .computed(Sql.arithmetic(ls, op == .add ? .add : .subtract, rs), lMoney || rMoney ? .money : .integer)
        case .multiply, .divide:
            if lMoney && rMoney && op == .multiply {
                throw Diagnostic(
                    .typeMismatch, "money times money has no meaning", at: range, help: "multiply an amount by a number, e.g. amount * 1.1")
            }
            if rMoney && !lMoney && op == .divide {
                throw Diagnostic(
                    .typeMismatch, "a number divided by money has no meaning", at: range,
                    help: "divide an amount by a number, e.g. amount / 3")
            }
            if !lMoney && !rMoney || (lMoney && rMoney) {
                // Numbers, or the ratio of two amounts: a number (real division, not SQLite's integer one).
                let cast = op == .divide ? Sql.realDivide(ls, rs) : Sql.arithmetic(ls, .multiply, rs)
                return .computed(cast, .integer)
            }
            // Money × number, number × money, money ÷ number: cents, in decimal, rounded half-even.
            let (cents, factor, factorExpression) = lMoney ? (ls, rs, right) : (rs, ls, left)
            if case .number(let text) = factorExpression.kind { rs = Sql.value(text) } else { rs = factor }
            rt = .money
            return .computed(op == .multiply ? Sql.moneyMultiply(cents, rs) : Sql.moneyDivide(cents, rs), rt)
        }
    }

    func numericSQL(_ bound: BoundExpression, at range: SourceRange) throws -> (SQLFragment, FieldType) {
        switch bound.type {
        case .integer, .money, nil:
            let (sql, _) = try valueSQL(bound, at: range)
            return (sql, bound.type ?? .integer)
        case .some(let type):
            throw Diagnostic(.typeMismatch, "arithmetic needs numbers, but this is \(type.displayName)", at: range)
        }
    }

    static let functions: [String: (arity: ClosedRange<Int>, text: Bool)] = [
        "lower": (1...1, true), "upper": (1...1, true), "trim": (1...1, true), "replace": (3...3, true),
        "concat": (1...16, true), "length": (1...1, false), "coalesce": (2...8, false), "round": (1...2, false),
        "abs": (1...1, false), "substr": (2...3, true),
    ]

    func bindCall(
        _ name: Located<String>, _ arguments: [Expression], expecting expected: FieldType?, range: SourceRange
    ) throws -> BoundExpression {
        guard let spec = Self.functions[name.value] else {
            let near = Suggestions.nearest(to: name.value, in: Self.functions.keys.sorted())
            throw Diagnostic(
                .unknownFunction, "unknown function '\(name.value)'", at: name.range,
                help: near.map { "did you mean '\($0)'?" }
                    ?? "functions are " + Self.functions.keys.sorted().joined(separator: ", "))
        }
        guard spec.arity.contains(arguments.count) else {
            let count =
                spec.arity.lowerBound == spec.arity.upperBound
                ? "\(spec.arity.lowerBound)" : "\(spec.arity.lowerBound) to \(spec.arity.upperBound)"
            throw Diagnostic(
                .invalidValue, "\(name.value) takes \(count) argument\(count == "1" ? "" : "s"), got \(arguments.count)", at: range)
        }
        var parts: [SQLFragment] = []
        var firstType: FieldType? = nil
        for (index, argument) in arguments.enumerated() {
            let bound = try bind(argument, expecting: index == 0 ? nil : firstType)
            if index == 0 { firstType = bound.type }
            parts.append(try valueSQL(bound, at: argument.range).0)
        }
        guard let builtin = Sql.Builtin(rawValue: name.value) else {
            // concat, the one function that is not the database's own.
            return .computed(Sql.concatenate(parts), .text)
        }
        switch builtin {
        case .length, .abs, .round:
            return .computed(Sql.call(builtin, parts), builtin == .length ? .integer : firstType)
        case .coalesce:
            return .computed(Sql.call(builtin, parts), firstType)
        default:
            let type: FieldType = (firstType == .email) ? .email : .text
            return .computed(Sql.call(builtin, parts), type)
        }
    }
}
