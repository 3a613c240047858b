/// Finds records that are one person or one company written twice (issue 22, item 2): blocking
/// on normalised keys, scoring the pairs a block holds, and joining pairs over the threshold into
/// groups. Pure: it is given the records' values and knows nothing of the database.
struct DuplicateDetector {
    /// One record's values, as the detector compares them.
    struct Record {
        var id: Int64
        var first: String = ""
        var last: String = ""
        /// An account's name, or a person's company.
        var company: String = ""
        var email: String = ""
        var phone: String = ""
        var website: String = ""
    }

    /// Why two records were found alike, and how much each reason weighed.
    struct Pair {
        var a: Int
        var b: Int
        var score: Double
        var reasons: [String]
    }

    struct Group {
        /// Indexes into the records, in record order.
        var members: [Int]
        /// The weakest pair that joins the group.
        var score: Double
        var reasons: [String]
    }

    /// Blocks larger than this are not paired (a common name at a large company): counted, not compared.
    static let largestBlock = 200

    let records: [Record]
    let threshold: Double
    /// The fields compared (the entity's, or `by FIELDS`): first, last, company, email, phone, website.
    let fields: Set<String>

    private(set) var skippedBlocks = 0

    init(records: [Record], threshold: Double, fields: Set<String>) {
        self.records = records
        self.threshold = threshold
        self.fields = fields
    }

    // MARK: - Keys

    static func emailKey(_ email: String) -> String { Normalizer.email(email) }

    /// The phone's last ten digits: `+1 555 405 3153`, `(555) 405-3153` and `5554053153` agree.
    static func phoneKey(_ phone: String) -> String {
        let digits = phone.unicodeScalars.filter { $0.properties.numericType == .decimal && $0.isASCII }
        guard digits.count >= 7 else { return "" }
        return String(String.UnicodeScalarView(digits.suffix(10)))
    }

    static func nameKey(_ name: String) -> String {
        Normalizer.trimmedSpaces(name).lowercased().filter { $0.isLetter }
    }

    static func websiteKey(_ website: String) -> String {
        var text = Normalizer.trimmedSpaces(website).lowercased()
        for prefix in ["https://", "http://", "www."] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        return String(text.prefix { $0 != "/" })
    }

    // MARK: - Similarity

    /// Jaro–Winkler similarity of two strings, 0 … 1.
    static func jaroWinkler(_ s: String, _ t: String) -> Double { jaroWinkler(Array(s.unicodeScalars), Array(t.unicodeScalars)) }

    static func jaroWinkler(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Double {
        if a.isEmpty || b.isEmpty { return a.isEmpty && b.isEmpty ? 1 : 0 }
        if a == b { return 1 }
        let window = max(0, max(a.count, b.count) / 2 - 1)
        var aMatched = [Bool](repeating: false, count: a.count)
        var bMatched = [Bool](repeating: false, count: b.count)
        var matches = 0
        for i in a.indices {
            let low = max(0, i - window), high = min(b.count - 1, i + window)
            guard low <= high else { continue }
            for j in low...high where !bMatched[j] && a[i] == b[j] {
                aMatched[i] = true
                bMatched[j] = true
                matches += 1
                break
            }
        }
        guard matches > 0 else { return 0 }
        var transpositions = 0
        var j = 0
        for i in a.indices where aMatched[i] {
            while !bMatched[j] { j += 1 }
            if a[i] != b[j] { transpositions += 1 }
            j += 1
        }
        let m = Double(matches)
        let jaro = (m / Double(a.count) + m / Double(b.count) + (m - Double(transpositions / 2)) / m) / 3
        var prefix = 0
        while prefix < min(4, a.count, b.count), a[prefix] == b[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }

    /// A record's keys, normalised once (a record is in many pairs).
    struct Keys {
        var email: String
        var phone: String
        var website: String
        var first: [Unicode.Scalar]
        var last: [Unicode.Scalar]
        /// The company's key (`acme|inc`) and its name part (`acme`).
        var company: String
        var companyName: Substring
    }

    static func keys(_ record: Record) -> Keys {
        let company = record.company.isEmpty ? "" : Normalizer.companyKey(record.company)
        return Keys(
            email: record.email.isEmpty ? "" : emailKey(record.email), phone: phoneKey(record.phone),
            website: record.website.isEmpty ? "" : websiteKey(record.website), first: Array(nameKey(record.first).unicodeScalars),
            last: Array(nameKey(record.last).unicodeScalars), company: company, companyName: company.split(separator: "|", omittingEmptySubsequences: false).first ?? "")
    }

    /// The score of two records, 0 … 1, with its reasons: evidence adds up, capped at 1. The same
    /// email is near proof; the same phone strong; alike names and the same company support.
    func score(_ x: Record, _ y: Record) -> (Double, [String]) { score(x, Self.keys(x), y, Self.keys(y)) }

    /// `explain` false leaves the reasons out (most pairs compared fall short of the threshold).
    func score(_ x: Record, _ xk: Keys, _ y: Record, _ yk: Keys, explain: Bool = true) -> (Double, [String]) {
        var score = 0.0
        var reasons: [String] = []
        func because(_ reason: @autoclosure () -> String) { if explain { reasons.append(reason()) } }
        if fields.contains("email"), !xk.email.isEmpty, xk.email == yk.email {
            score += 0.6
            because(x.email == y.email ? "same email" : "same email (case and spaces aside)")
        }
        if fields.contains("phone"), !xk.phone.isEmpty, xk.phone == yk.phone {
            score += 0.3
            because(x.phone == y.phone ? "same phone" : "same phone (format aside)")
        }
        if fields.contains("website"), !xk.website.isEmpty, xk.website == yk.website {
            score += 0.4
            because("same website")
        }
        if fields.contains("last") {
            let last = Self.jaroWinkler(xk.last, yk.last)
            let first = fields.contains("first") ? Self.jaroWinkler(xk.first, yk.first) : 1
            let name = (first + last) / 2
            if name >= 0.85 {
                score += 0.3 * name
                because(name == 1 ? "same name" : "names alike (\(x.first) \(x.last) ~ \(y.first) \(y.last), \(Self.percent(name)))")
            } else if !x.email.isEmpty, score > 0 {
                // One email, two different names: a shared inbox, not one person.
                score -= 0.3
                because("different names")
            }
        }
        if fields.contains("company"), !xk.company.isEmpty {
            let (xKey, yKey) = (xk.company, yk.company)
            if fields.contains("last") {
                // A person's company supports the names: suffixes aside ("Acme, Inc." ~ "Acme").
                if xk.companyName == yk.companyName {
                    score += 0.1
                    because(x.company == y.company ? "same company" : "same company (\(x.company) ~ \(y.company))")
                }
            } else if xKey == yKey {
                // An account's name is the company: "Maple Travel AG" and "Maple Travel LLC" are two.
                score += 0.5
                because(x.company == y.company ? "same name" : "same name (\(x.company) ~ \(y.company))")
            } else if xk.companyName == yk.companyName {
                score += 0.2
                because("names alike but for the legal form (\(x.company) ~ \(y.company))")
            }
        }
        // In hundredths, as shown: 0.6 + 0.3 is 0.9 (not 0.8999…) against a threshold of 0.9.
        return (min(1, max(0, (score * 100).rounded() / 100)), reasons)
    }

    static func percent(_ value: Double) -> String { String(Int((value * 100).rounded())) + "%" }

    // MARK: - Groups

    /// The groups of records whose pairs score at least the threshold, largest score first.
    mutating func groups() -> [Group] {
        let normalised = records.map(Self.keys)
        // Blocks: each record under the hash of each of its keys; sorted, a run of one hash is a
        // block (no table of key strings: a million records make three million keys).
        var entries: [(key: Int, index: Int32)] = []
        entries.reserveCapacity(records.count * 3)
        for (index, record) in normalised.enumerated() {
            func add(_ kind: UInt8, _ parts: String...) {
                var hasher = Hasher()
                hasher.combine(kind)
                for part in parts { hasher.combine(part) }
                entries.append((hasher.finalize(), Int32(index)))
            }
            if fields.contains("email"), !record.email.isEmpty { add(1, record.email) }
            if fields.contains("phone"), !record.phone.isEmpty { add(2, record.phone) }
            if fields.contains("website"), !record.website.isEmpty { add(3, record.website) }
            if fields.contains("last") {
                // The last name's first two letters and the first name's initial, within the company.
                if !record.last.isEmpty {
                    var letters = String(String.UnicodeScalarView(record.last.prefix(2))) + "|"
                    letters += String(String.UnicodeScalarView(record.first.prefix(1)))
                    add(4, letters, String(record.companyName))
                }
            } else if fields.contains("company"), !record.company.isEmpty {
                add(5, record.company)
            }
        }
        entries.sort { ($0.key, $0.index) < ($1.key, $1.index) }
        // A pair in several blocks (one email, one phone) is compared in each; only pairs over the
        // threshold are remembered, once (a set of every pair compared would hold tens of millions).
        var found = Set<Int64>()
        var pairs: [Pair] = []
        var start = 0
        while start < entries.count {
            var end = start + 1
            while end < entries.count, entries[end].key == entries[start].key { end += 1 }
            defer { start = end }
            guard end - start > 1 else { continue }
            let members = entries[start..<end].map { Int($0.index) }
            guard members.count <= Self.largestBlock else {
                skippedBlocks += 1
                continue
            }
            for i in 0..<members.count {
                for j in (i + 1)..<members.count {
                    let (a, b) = (min(members[i], members[j]), max(members[i], members[j]))
                    let (score, _) = score(records[a], normalised[a], records[b], normalised[b], explain: false)
                    if score >= threshold, found.insert(Int64(a) << 32 | Int64(b)).inserted {
                        let reasons = self.score(records[a], normalised[a], records[b], normalised[b]).1
                        pairs.append(Pair(a: a, b: b, score: score, reasons: reasons))
                    }
                }
            }
        }
        // Union–find over the pairs.
        var parent = Array(records.indices)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        for pair in pairs {
            let (ra, rb) = (root(pair.a), root(pair.b))
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        var byRoot: [Int: Group] = [:]
        for pair in pairs.sorted(by: { ($0.a, $0.b) < ($1.a, $1.b) }) {
            let r = root(pair.a)
            var group = byRoot[r] ?? Group(members: [], score: 1, reasons: [])
            for member in [pair.a, pair.b] where !group.members.contains(member) { group.members.append(member) }
            group.score = min(group.score, pair.score)
            // One reason of each kind: "names alike (…)" once, with the first pair's detail.
            func kind(_ reason: String) -> String { String(reason.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces) }
            for reason in pair.reasons where !group.reasons.contains(where: { kind($0) == kind(reason) }) { group.reasons.append(reason) }
            byRoot[r] = group
        }
        return byRoot.values.map { group in
            var group = group
            group.members.sort()
            return group
        }.sorted { ($0.score, -$0.members[0]) > ($1.score, -$1.members[0]) }
    }
}
