import GRDB
import RoloStore
import RoloSyntax

/// Step 6 of `DataAudit`: per field, the spellings in use and how many records `normalize` would
/// change — counted with `Normalizer`'s own rules over the values grouped, so the finding's
/// `normalize … --dry-run` lists exactly the records it counts.
extension DataAudit {
    /// One value in use: how many records hold it, how many of them are valuable, the first.
    struct Spelling {
        var value: String
        var count: Int
        var valuable: Int
        var first: Int64
    }

    func uniformFindings(_ scan: Scan, _ valuableIDs: Set<Int64>) throws -> [AuditReport.Finding] {
        var findings: [AuditReport.Finding] = []
        if has("email") {
            // Candidates by SQL (ASCII capitals, spaces), each confirmed by normalize's rule.
            let values = scan.emails.values.filter { Normalizer.email($0.value) != $0.value }
            let capitals = values.filter { $0.value != $0.value.lowercased() }.reduce(0) { $0 + $1.count }
            let spaced = values.filter { Normalizer.trimmedSpaces($0.value) != $0.value }.reduce(0) { $0 + $1.count }
            findings.append(
                try finding(
                    "email_format", "emails with capitals or spaces around them", values, valuableIDs,
                    formats: [("with capitals", capitals), ("with spaces around", spaced)], field: "email",
                    rule: "rule \(name).email must be valid email  (spaces; capitals are harmless: emails compare case-blind)"))
        }
        if has("phone") {
            let patterns = scan.phonePatterns
            let isE164 = { (pattern: String) in pattern.hasPrefix("+") && pattern.dropFirst().allSatisfy { $0 == "9" } }
            let off = patterns.values.filter { !isE164($0.value) }
            findings.append(
                try finding(
                    "phone_format", "phones not in E.164 (+15550101234)", off, valuableIDs,
                    formats: patterns.values.sorted { ($0.count, $1.value) > ($1.count, $0.value) }.map { ($0.value, $0.count) },
                    field: "phone", fix: "set region US (the numbers' country), then normalize \(name) phone",
                    rule: "rule \(name).phone must starts with \"+\""))
        }
        let companyField = name == "accounts" ? "name" : "company"
        if has(companyField) {
            let values = scan.spellings(of: companyField)
            var counts: [String: Int] = [:]
            for spelling in values { counts[spelling.value, default: 0] += spelling.count }
            let chosen = Normalizer.companySpellings(counts, key: scan.companyKeys.key)
            // What normalize writes, worked out once a chosen spelling.
            var written: [String: String] = [:]
            func words(_ text: String) -> String {
                if let found = written[text] { return found }
                var text = text
                let computed = text.withUTF8 { Self.wordsMayChange(UnsafeRawBufferPointer($0)) } ? Normalizer.words(text) : text
                written[text] = computed
                return computed
            }
            let changed = values.filter { spelling in chosen[spelling.value].map(words).map { $0 != spelling.value } ?? false }
            // The spellings of the company written the most ways.
            var variants: [String: [Spelling]] = [:]
            for spelling in values { variants[scan.companyKeys.key(spelling.value), default: []].append(spelling) }
            let widest = variants.values.filter { $0.count > 1 }.max { ($0.count, $1.first?.first ?? 0) < ($1.count, $0.first?.first ?? 0) } ?? []
            findings.append(
                try finding(
                    "company_suffixes", "\(companyField == "name" ? "names" : "companies") written another way than their company's most used spelling",
                    changed, valuableIDs, formats: widest.sorted { $0.count > $1.count }.map { ($0.value, $0.count) }, field: companyField))
        }
        for field in ["first_name", "last_name", "title", "street", "city"] where has(field) {
            let changed = scan.spellings(of: field).filter { Normalizer.words($0.value) != $0.value }
            func total(_ test: (String) -> Bool) -> Int { changed.filter { test($0.value) }.reduce(0) { $0 + $1.count } }
            let letters = { (value: String) in value.filter(\.isLetter) }
            findings.append(
                try finding(
                    "\(field)_format", "\(field) values in capitals, in lower case or with extra spaces", changed, valuableIDs,
                    formats: [
                        ("all capitals", total { letters($0).count > 1 && letters($0).allSatisfy(\.isUppercase) }),
                        ("all lower case", total { letters($0).count > 1 && letters($0).allSatisfy(\.isLowercase) }),
                        ("extra spaces", total { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") != $0 }),
                    ], field: field))
        }
        if has("website") {
            let values = scan.spellings(of: "website")
            func form(_ value: String) -> String {
                let lower = value.lowercased()
                for prefix in ["https://www.", "https://", "http://www.", "http://", "www."] where lower.hasPrefix(prefix) {
                    return value.hasPrefix(prefix) ? prefix + "…" : prefix.uppercased() + "… (capitals)"
                }
                return "no scheme"
            }
            var forms: [String: Int] = [:]
            for spelling in values { forms[form(spelling.value), default: 0] += spelling.count }
            let off = values.filter { !$0.value.lowercased().hasPrefix("https://") }
            var result = try finding(
                "website_format", "websites not starting with https://", off, valuableIDs,
                formats: forms.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }, field: "website",
                fix: "correct each one (update account N set website = \"https://…\")", rule: "rule \(name).website must starts with \"https://\"")
            result.list = "find \(name) where website is not empty and not (website starts with \"https://\")"
            findings.append(result)
        }
        return findings.filter { $0.count > 0 }
    }

    /// A spelling finding: its count and valuable count from the spellings, the examples their
    /// first records, the list and fix `normalize`.
    func finding(
        _ key: String, _ title: String, _ spellings: [Spelling], _ valuableIDs: Set<Int64>, formats: [(String, Int)], field: String,
        fix: String? = nil, rule: String? = nil
    ) throws -> AuditReport.Finding {
        let ranked = spellings.sorted { ($0.valuable, $0.count, $1.first) > ($1.valuable, $1.count, $0.first) }
        return AuditReport.Finding(
            key: key, title: title, count: spellings.reduce(0) { $0 + $1.count }, valuable: spellings.reduce(0) { $0 + $1.valuable },
            examples: try titles(ranked.prefix(Self.examplesShown).map(\.first)),
            list: "normalize \(name) \(field) --dry-run", fix: fix ?? "normalize \(name) \(field)", rule: rule,
            formats: formats.filter { $0.1 > 0 }.map { AuditReport.Format(format: TerminalText.safe($0.0), count: $0.1) })
    }
}
