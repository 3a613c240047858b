import Foundation
import GRDB
import RoloStore

/// SplitMix64 with the helpers the generators use: the same seed gives the same conditions on
/// every machine (the standard library's `random(in:using:)` is not promised to stay stable).
struct FuzzRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
    /// low...high.
    mutating func int(_ low: Int, _ high: Int) -> Int { low + below(high - low + 1) }
    mutating func chance(_ probability: Double) -> Bool { Double(next() >> 11) * 0x1.0p-53 < probability }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A seed of its own for item `index` of a run, so one item can be replayed alone.
    static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var r = FuzzRandom(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        return r.next()
    }
}

/// A field reachable from a root entity: `title`, `account.industry`, `owner.team.name`.
struct FieldPath {
    /// As written in a condition.
    let text: String
    let field: FieldDefinition
    /// The entity holding the field.
    let entity: EntityDefinition
    /// Relations followed (0, 1 or 2).
    let hops: Int
    /// Written by relation name (`owner`, `account`): compared by the related record's key or number.
    let byRelation: Bool

    var type: FieldType { field.type }
}

/// Random conditions for the query language, built from `CRMSchema` and values of the sample
/// company. Every condition is meant to be valid: the generator only compares a field with values
/// of its own type. Deterministic for a given `FuzzRandom`.
struct ConditionGenerator {
    /// The roots conditions are generated for (the domain entities).
    static let roots = [
        "contacts", "accounts", "deals", "leads", "tickets", "tasks", "activities", "campaigns", "campaign_members",
    ]

    /// Values of each `entity.field` present in the sample data (up to 40 distinct, by first id).
    let samples: [String: [DatabaseValue]]
    /// Paths from each root, up to two hops.
    let paths: [String: [FieldPath]]
    let handles: [String]
    /// Record counts, for plausible record numbers.
    let counts: [String: Int]

    init(db: Database) throws {
        var samples: [String: [DatabaseValue]] = [:]
        var counts: [String: Int] = [:]
        for entity in CRMSchema.entities where entity.kind != .system {
            counts[entity.name] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(entity.name)") ?? 0
            for field in entity.fields {
                let column = field.quotedName
                samples[entity.name + "." + field.name] = try DatabaseValue.fetchAll(
                    db,
                    sql: "SELECT \(column) FROM \(entity.name) WHERE \(column) IS NOT NULL GROUP BY \(column) ORDER BY min(id) LIMIT 40")
            }
        }
        self.samples = samples
        self.counts = counts
        self.handles = try String.fetchAll(db, sql: "SELECT handle FROM users ORDER BY id")
        var paths: [String: [FieldPath]] = [:]
        for root in Self.roots {
            guard let entity = CRMSchema.entity(named: root) else { continue }
            var list: [FieldPath] = []
            Self.walk(entity, prefix: "", hops: 0, into: &list)
            paths[root] = list
        }
        self.paths = paths
    }

    private static func walk(_ entity: EntityDefinition, prefix: String, hops: Int, into list: inout [FieldPath]) {
        for field in entity.fields {
            list.append(FieldPath(text: prefix + field.name, field: field, entity: entity, hops: hops, byRelation: false))
            guard let relation = field.relationName, let target = field.referencedEntity,
                let targetEntity = CRMSchema.entity(named: target), targetEntity.kind != .system
            else { continue }
            list.append(FieldPath(text: prefix + relation, field: field, entity: entity, hops: hops, byRelation: true))
            if hops < 2 { walk(targetEntity, prefix: prefix + relation + ".", hops: hops + 1, into: &list) }
        }
    }

    // MARK: - Conditions

    /// A random condition over `root`: predicates joined by and/or, negated, bracketed.
    func condition(_ root: String, _ rng: inout FuzzRandom, depth: Int = 0) -> String {
        let r = rng.below(100)
        if depth >= 3 || r < 45 { return predicate(root, &rng) }
        if r < 55 { return "not (" + condition(root, &rng, depth: depth + 1) + ")" }
        if r < 60 { return "not " + predicate(root, &rng) }
        if r < 78 { return condition(root, &rng, depth: depth + 1) + " and " + condition(root, &rng, depth: depth + 1) }
        if r < 95 { return condition(root, &rng, depth: depth + 1) + " or " + condition(root, &rng, depth: depth + 1) }
        return "(" + condition(root, &rng, depth: depth + 1) + ")"
    }

    /// One predicate on a random path of `root`.
    func predicate(_ root: String, _ rng: inout FuzzRandom) -> String {
        let all = paths[root] ?? []
        // Root fields half the time, so conditions are not mostly about related records.
        let candidates = rng.chance(0.5) ? all.filter { $0.hops == 0 } : all
        let path = rng.pick(candidates)
        if rng.chance(0.06) { return path.text + rng.pick([" is empty", " is not empty", " is null", " is not null"]) }
        if path.byRelation { return relationPredicate(path, &rng) }
        if path.type.isTextual, rng.chance(0.04) {
            return path.text + rng.pick([" is valid ", " is not valid "]) + rng.pick(["email", "phone"])
        }
        switch path.type {
        case .text, .email: return textPredicate(path, &rng)
        case .enumeration(let values): return enumPredicate(path, values, &rng)
        case .integer, .reference: return numberPredicate(path, &rng)
        case .money: return moneyPredicate(path, root, &rng)
        case .date, .timestamp: return datePredicate(path, root, &rng)
        case .boolean:
            return path.text + rng.pick([" = ", " != "]) + rng.pick(["yes", "no", "true", "false", "on", "\"yes\"", "\"no\""])
        case .duration:  // never stored: no field has it
            return path.text + " is not empty"
        }
    }

    private func sample(_ path: FieldPath) -> [DatabaseValue] { samples[path.entity.name + "." + path.field.name] ?? [] }

    private func sampleText(_ path: FieldPath, _ rng: inout FuzzRandom) -> String {
        let values = sample(path).compactMap { String.fromDatabaseValue($0) }
        if values.isEmpty || rng.chance(0.08) { return rng.pick(Self.oddTexts) }
        return rng.pick(values)
    }

    /// Text that tests folding, escapes and SQL's wildcards.
    static let oddTexts = [
        "", " ", "a", "ZOË", "zoë", "Zoe\u{308}", "Straße", "STRASSE", "директор", "%", "_", "a%b", "\\", "\"", "'", "O'Brien",
        "😀", "İ", "ﬁ", "x\ny", "\t", "acme", "ACME", ".io", "@", "Inc", "inc.", "—",
    ]

    /// A quoted string literal of `text`, escaped for the lexer.
    static func quote(_ text: String, _ rng: inout FuzzRandom) -> String {
        let useSingle = rng.chance(0.15)
        var out = useSingle ? "'" : "\""
        for ch in text {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where !useSingle: out += "\\\""
            case "'" where useSingle: out += "\\'"
            default: out.append(ch)
            }
        }
        return out + (useSingle ? "'" : "\"")
    }

    private func recase(_ text: String, _ rng: inout FuzzRandom) -> String {
        switch rng.below(4) {
        case 0: return text.uppercased()
        case 1: return text.lowercased()
        default: return text
        }
    }

    private func textPredicate(_ path: FieldPath, _ rng: inout FuzzRandom) -> String {
        let value = sampleText(path, &rng)
        let chars = Array(value)
        let q = { (t: String, rng: inout FuzzRandom) in Self.quote(t, &rng) }
        let negation = rng.chance(0.25) ? "not " : ""
        var subject = path.text
        if rng.chance(0.12) {
            subject = rng.pick(["lower(", "upper(", "trim(", "concat(", "coalesce("]) + path.text
            if subject.hasPrefix("concat") { subject += ", " + q("x", &rng) }
            if subject.hasPrefix("coalesce") { subject += ", " + q("none", &rng) }
            subject += ")"
        }
        switch rng.below(11) {
        case 0, 1:
            return subject + rng.pick([" = ", " != "]) + q(path.type == .email ? recase(value, &rng) : value, &rng)
        case 2:
            let start = chars.isEmpty ? 0 : rng.below(chars.count)
            let length = chars.isEmpty ? 0 : rng.int(1, min(6, chars.count - start))
            return subject + " \(negation)contains " + q(recase(String(chars[start..<start + length]), &rng), &rng)
        case 3:
            return subject + " \(negation)starts with " + q(recase(String(chars.prefix(rng.int(0, 4))), &rng), &rng)
        case 4:
            return subject + " \(negation)ends with " + q(recase(String(chars.suffix(rng.int(0, 4))), &rng), &rng)
        case 5:
            let items = (0..<rng.int(1, 4)).map { _ in q(sampleText(path, &rng), &rng) }
            return subject + " \(negation)in (" + items.joined(separator: ", ") + ")"
        case 6:
            let (a, b) = (sampleText(path, &rng), sampleText(path, &rng))
            return subject + " \(negation)between " + q(min(a, b), &rng) + " and " + q(max(a, b), &rng)
        case 7:
            return subject + rng.pick([" < ", " <= ", " > ", " >= "]) + q(value, &rng)
        case 8:
            return "length(" + path.text + ")" + rng.pick([" > ", " < ", " = ", " >= "]) + String(rng.int(0, 30))
        case 9:
            return "substr(" + path.text + ", 1, \(rng.int(1, 4))) = " + q(String(chars.prefix(rng.int(1, 4))), &rng)
        default:
            return "replace(" + path.text + ", " + q("a", &rng) + ", " + q("", &rng) + ") " + "\(negation)contains "
                + q(recase(String(chars.prefix(2)), &rng), &rng)
        }
    }

    private func enumPredicate(_ path: FieldPath, _ values: [String], _ rng: inout FuzzRandom) -> String {
        let value = rng.pick(values)
        let negation = rng.chance(0.3) ? "not " : ""
        switch rng.below(8) {
        case 0, 1: return path.text + rng.pick([" = ", " != "]) + (rng.chance(0.15) ? "\"\(value)\"" : value)
        case 2, 3:
            let items = (0..<rng.int(1, 3)).map { _ in rng.pick(values) }
            return path.text + " \(negation)in (" + items.joined(separator: ", ") + ")"
        case 4: return path.text + rng.pick([" < ", " <= ", " > ", " >= "]) + value
        case 5:
            let (a, b) = (rng.below(values.count), rng.below(values.count))
            return path.text + " \(negation)between " + values[min(a, b)] + " and " + values[max(a, b)]
        case 6: return path.text + " \(negation)contains " + "\"\(String(value.prefix(rng.int(1, 3))))\""
        default: return path.text + " \(negation)starts with " + "\"\(String(value.prefix(rng.int(1, 3))).uppercased())\""
        }
    }

    private func numberValue(_ path: FieldPath, _ rng: inout FuzzRandom) -> String {
        let values = sample(path).compactMap { Int64.fromDatabaseValue($0) }
        if values.isEmpty || rng.chance(0.2) { return String(rng.pick([0, 1, 2, 5, 10, 50, 100, 1000, -1, 3_000_000])) }
        return String(rng.pick(values))
    }

    private func numberPredicate(_ path: FieldPath, _ rng: inout FuzzRandom) -> String {
        let negation = rng.chance(0.25) ? "not " : ""
        let value = numberValue(path, &rng)
        // A reference's number (`owner_id`) compares, but takes no arithmetic.
        var isReference = false
        if case .reference = path.type { isReference = true }
        switch rng.below(isReference ? 5 : 9) {
        case 0, 1, 2: return path.text + rng.pick([" = ", " != ", " < ", " <= ", " > ", " >= "]) + value
        case 3:
            let (a, b) = (Int(numberValue(path, &rng)) ?? 0, Int(numberValue(path, &rng)) ?? 0)
            return path.text + " \(negation)between \(min(a, b)) and \(max(a, b))"
        case 4:
            let items = (0..<rng.int(1, 5)).map { _ in numberValue(path, &rng) }
            return path.text + " \(negation)in (" + items.joined(separator: ", ") + ")"
        case 5: return path.text + rng.pick([" * 2", " + 10", " - 1", " / 3", " * -1"]) + rng.pick([" > ", " < ", " = "]) + value
        case 6: return "abs(" + path.text + " - " + value + ")" + rng.pick([" < ", " > "]) + String(rng.int(0, 500))
        case 7: return "-" + path.text + rng.pick([" < ", " >= "]) + "-" + value.trimmingCharacters(in: ["-"])
        default: return "round(" + path.text + " / " + String(rng.int(1, 7)) + ")" + rng.pick([" = ", " > "]) + value
        }
    }

    static func dollars(_ cents: Int64, _ rng: inout FuzzRandom) -> String {
        let whole = cents / 100
        let fraction = abs(cents % 100)
        switch rng.below(4) {
        case 0:
            // $50,000 or $12.50
            let formatter = NumberFormatter()
            formatter.numberStyle = .decimal
            formatter.groupingSeparator = ","
            formatter.usesGroupingSeparator = true
            let text = formatter.string(from: NSNumber(value: abs(whole))) ?? String(abs(whole))
            return (cents < 0 ? "-" : "") + "$" + text + (fraction == 0 ? "" : String(format: ".%02d", fraction))
        case 1: return String(whole)
        case 2: return String(whole) + String(format: ".%02d", fraction)
        default: return "\"$\(whole)\""
        }
    }

    private func moneyValue(_ path: FieldPath, _ rng: inout FuzzRandom) -> String {
        let values = sample(path).compactMap { Int64.fromDatabaseValue($0) }
        // Now and then the documented extremes: ±$92,233,720,368,547,758.07.
        let extremes: [Int64] = rng.chance(0.02) ? [Int64.max, -Int64.max, Int64.max - 7] : []
        let cents =
            values.isEmpty || rng.chance(0.2)
            ? rng.pick([0, 100, 500_000, 5_000_000, 10_000_050, 1_000_000_000] + extremes) : rng.pick(values)
        return Self.dollars(cents, &rng)
    }

    private func moneyPredicate(_ path: FieldPath, _ root: String, _ rng: inout FuzzRandom) -> String {
        let negation = rng.chance(0.25) ? "not " : ""
        let value = moneyValue(path, &rng)
        let op = rng.pick([" = ", " != ", " < ", " <= ", " > ", " >= "])
        switch rng.below(9) {
        case 0, 1, 2: return path.text + op + value
        case 3: return path.text + rng.pick([" * 2", " * 1.1", " * 0.5", " / 4", " / 3", " + 100", " - $5", " + $1,000.50"]) + op + value
        case 4:
            let other = (paths[root] ?? []).filter { $0.type == .money && !$0.byRelation }
            let second = other.isEmpty ? path : rng.pick(other)
            if rng.chance(0.3) { return path.text + " / " + second.text + op + String(rng.int(0, 3)) }
            return path.text + rng.pick([" + ", " - "]) + second.text + op + value
        case 5:
            let (a, b) = (moneyValue(path, &rng), moneyValue(path, &rng))
            return path.text + " \(negation)between " + a + " and " + b
        case 6:
            let items = (0..<rng.int(1, 4)).map { _ in moneyValue(path, &rng) }
            return path.text + " \(negation)in (" + items.joined(separator: ", ") + ")"
        case 7: return "round(" + path.text + " / 7)" + op + value
        default: return "abs(" + path.text + " - " + value + ")" + op + value
        }
    }

    private func dateValue(_ path: FieldPath, _ rng: inout FuzzRandom) -> String {
        let units =
            ["day", "days", "week", "weeks", "month", "months", "quarter", "year", "years"]
            + (path.type == .timestamp ? ["hour", "hours", "minutes"] : [])
        switch rng.below(9) {
        case 0, 1:
            let values = sample(path).compactMap { String.fromDatabaseValue($0) }
            guard let text = values.isEmpty ? nil : rng.pick(values) else { return "today" }
            if path.type == .timestamp && rng.chance(0.5) { return "\"\(text)\"" }
            return String(text.prefix(10))
        case 2: return rng.pick(["today", "yesterday", "tomorrow"] + (path.type == .timestamp ? ["now"] : []))
        case 3: return "\(rng.int(0, 400)) \(rng.pick(units)) ago"
        case 4: return rng.chance(0.5) ? "in \(rng.int(1, 30)) \(rng.pick(units))" : "\(rng.int(1, 30)) \(rng.pick(units)) from now"
        case 5: return "today " + rng.pick(["+", "-"]) + " \(rng.int(1, 90)) \(rng.pick(units))"
        case 6: return rng.pick(["2026-11-22", "2026-01-01", "2025-06-30", "2024-02-29", "2027-01-09", "2020-11-23"])
        default: return rng.pick(["this", "last", "next"]) + " " + rng.pick(["week", "month", "quarter", "year"])
        }
    }

    private func datePredicate(_ path: FieldPath, _ root: String, _ rng: inout FuzzRandom) -> String {
        let negation = rng.chance(0.25) ? "not " : ""
        switch rng.below(8) {
        case 0, 1, 2: return path.text + rng.pick([" = ", " != ", " < ", " <= ", " > ", " >= "]) + dateValue(path, &rng)
        case 3:
            return path.text + " \(negation)in " + rng.pick(["this", "last", "next"]) + " "
                + rng.pick(["week", "month", "quarter", "year"])
        case 4: return path.text + " \(negation)between " + dateValue(path, &rng) + " and " + dateValue(path, &rng)
        case 5:
            let items = (0..<rng.int(1, 3)).map { _ in dateValue(path, &rng) }
            return path.text + " \(negation)in (" + items.joined(separator: ", ") + ")"
        case 6:
            return path.text + " " + rng.pick(["+", "-"]) + " \(rng.int(1, 12)) "
                + rng.pick(["days", "weeks", "months", "quarter", "year"])
                + rng.pick([" < ", " > ", " >= "]) + dateValue(path, &rng)
        default:
            // Two dates of the record (or its relations) compared.
            let others = (paths[root] ?? []).filter {
                $0.type.isTemporal && $0.hops == path.hops && !$0.byRelation
            }
            return path.text + rng.pick([" < ", " > ", " = "]) + (others.isEmpty ? path.text : rng.pick(others).text)
        }
    }

    private func relationPredicate(_ path: FieldPath, _ rng: inout FuzzRandom) -> String {
        guard let target = path.field.referencedEntity, let entity = CRMSchema.entity(named: target) else {
            return path.text + " is empty"
        }
        let negation = rng.chance(0.25) ? "not " : ""
        func key(_ rng: inout FuzzRandom) -> String {
            if target == "users" {
                return rng.chance(0.15) ? "me" : (rng.chance(0.2) ? "\"\(rng.pick(handles))\"" : rng.pick(handles))
            }
            let keys = entity.naturalKey.first.flatMap { samples[target + "." + $0] }?.compactMap { String.fromDatabaseValue($0) } ?? []
            if keys.isEmpty || rng.chance(0.4) { return String(rng.int(1, max(1, counts[target] ?? 1) + 2)) }
            var r = rng
            defer { rng = r }
            return Self.quote(rng.pick(keys), &r)
        }
        switch rng.below(6) {
        case 0, 1, 2: return path.text + rng.pick([" = ", " != "]) + key(&rng)
        case 3:
            let items = (0..<rng.int(1, 3)).map { _ in key(&rng) }
            return path.text + " \(negation)in (" + items.joined(separator: ", ") + ")"
        case 4 where target == "users": return path.text + rng.pick([" = ", " != "]) + "my team"
        default: return path.text + rng.pick([" is empty", " is not empty"])
        }
    }

    // MARK: - Other pieces of commands

    /// A field to group by: enums, short texts, relations, dates, booleans (one or two hops).
    func groupPath(_ root: String, _ rng: inout FuzzRandom) -> String {
        let candidates = (paths[root] ?? []).filter { path in
            switch path.type {
            case .enumeration, .boolean, .date: return true
            case .reference: return path.byRelation || path.hops == 0
            case .text: return ["country", "city", "job_function", "company", "name", "handle"].contains(path.field.name)
            case .email: return true
            default: return path.field.name == "employees" || path.field.name == "score"
            }
        }
        return rng.pick(candidates).text
    }

    /// Money fields to sum: the root's own or through relations (`contacts.account.annual_revenue`).
    func moneyPaths(_ root: String) -> [String] {
        (paths[root] ?? []).filter { $0.type == .money }.map(\.text)
    }

    /// `F = V` for `update ROOT where … set F = V`: a field of the root and a value of its type.
    func assignment(_ root: String, _ rng: inout FuzzRandom) -> String {
        guard let entity = CRMSchema.entity(named: root) else { return "" }
        let settable = entity.fields.filter { !$0.system }
        let field = rng.pick(settable)
        let name = field.relationName ?? field.name
        let orNull = !field.required && rng.chance(0.15)
        if orNull { return name + " = null" }
        switch field.type {
        case .text:
            return name + " = "
                + rng.pick([
                    "\"fuzz \(rng.below(1000))\"", "upper(\(name))", "concat(\(name), \"!\")", "trim(\(name))", "lower(\(name))",
                    "\"Zoë \(rng.below(9))\"", "replace(\(name), \"a\", \"4\")",
                ])
        case .email:
            return name + " = " + rng.pick(["lower(\(name))", "upper(\(name))", "\"fuzz\(rng.below(1000))@example.com\"", "trim(\(name))"])
        case .enumeration(let values): return name + " = " + rng.pick(values)
        case .integer:
            return name + " = "
                + rng.pick([
                    "\(rng.int(0, 5000))", "\(name) + 1", "\(name) * 2", "abs(\(name) - 50)", "9223372036854775807",
                    "\(name) + 9223372036854775000", "-\(name)",
                ])
        case .money:
            return name + " = "
                + rng.pick([
                    "\(name) * 1.1", "\(name) / 3", "\(name) + 100", "$1,234.50", "\(name) - $5", "round(\(name) / 2)",
                    "\(name) * 1000000000000", "\"$92,233,720,368,547,758.07\"",
                ])
        case .date: return name + " = " + rng.pick(["\(name) + 30 days", "today", "2026-12-01", "\(name) - 1 month", "next week"])
        case .timestamp: return name + " = " + rng.pick(["now", "\(name) + 1 hour", "\"2026-11-22T09:00:00Z\"", "yesterday"])
        case .boolean: return name + " = " + rng.pick(["yes", "no"])
        case .reference(let target):
            if target == "users" { return name + " = " + rng.pick(handles.filter { $0 != "admin" }.prefix(8) + ["me"]) }
            return name + " = " + String(rng.int(1, max(1, counts[target] ?? 1)))
        case .duration:  // never stored: no field has it
            return name + " = " + name
        }
    }
}
