/// One spelling for values that mean the same (issue 22, item 3): what `normalize` writes.
/// Pure functions of the value (and, for companies, of the spellings in use), tested alone.
enum Normalizer {
    /// What a field is normalised as, from its type and name.
    enum Kind: String, Sendable {
        /// Trimmed and lower-cased.
        case email
        /// E.164 (`+15554053153`), reading national numbers with the session's region.
        case phone
        /// Legal suffixes in one spelling per company: the most frequent in use.
        case company
        /// Trimmed to single spaces; all capitals or all lower case put in title case.
        case words
    }

    // MARK: - Email

    static func email(_ value: String) -> String {
        String(trimmedSpaces(value).lowercased())
    }

    // MARK: - Phones

    /// Calling codes of the regions `set region` takes (ISO 3166 codes, kept in lower case), for
    /// national numbers.
    private static let callingCodesByLowercaseCode: [String: String] = [
        "us": "1", "ca": "1", "gb": "44", "ie": "353", "de": "49", "at": "43", "ch": "41", "fr": "33", "be": "32",
        "nl": "31", "lu": "352", "es": "34", "pt": "351", "it": "39", "dk": "45", "se": "46", "no": "47", "fi": "358",
        "pl": "48", "cz": "420", "gr": "30", "au": "61", "nz": "64", "jp": "81", "sg": "65", "in": "91", "br": "55",
        "mx": "52", "za": "27",
    ]

    /// The calling code of a region (`US` → 1), by its ISO 3166 code in any case.
    static func callingCode(_ region: String) -> String? { callingCodesByLowercaseCode[region.lowercased()] }

    /// The regions `set region` takes, in capitals.
    static var regions: [String] { callingCodesByLowercaseCode.keys.map { $0.uppercased() }.sorted() }

    /// The phone in E.164, or nil when it cannot be read as one number: letters, an extension, too
    /// few or too many digits, or a national number with no region to read it in.
    static func phone(_ value: String, region: String?) -> String? {
        var text = Substring(trimmedSpaces(value))
        if text.hasPrefix("'") { text = text.dropFirst() }  // an exported cell's protective apostrophe
        var international = false
        if text.hasPrefix("+") {
            international = true
            text = text.dropFirst()
        } else if text.hasPrefix("00") {
            international = true
            text = text.dropFirst(2)
        }
        var digits = ""
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                digits.append(Character(String(digit)))
            } else if !" -.()/\u{00A0}".contains(character) {
                return nil  // a letter, `x123`, `;`: not one number
            }
        }
        if international { return (8...15).contains(digits.count) ? "+" + digits : nil }
        guard let region, let code = callingCode(region) else { return nil }
        if code == "1" {
            if digits.count == 11, digits.hasPrefix("1") { digits.removeFirst() }
            return digits.count == 10 ? "+1" + digits : nil
        }
        if digits.hasPrefix("0") { digits.removeFirst() }  // the trunk prefix
        let number = code + digits
        return (8...15).contains(number.count) && digits.count >= 6 ? "+" + number : nil
    }

    // MARK: - Companies

    /// Legal suffixes, each with the class it belongs to (`Inc.`, `Incorporated` → inc).
    static let legalSuffixes: [String: String] = [
        "inc": "inc", "incorporated": "inc", "llc": "llc", "ltd": "ltd", "limited": "ltd", "corp": "corp",
        "corporation": "corp", "co": "co", "company": "co", "gmbh": "gmbh", "ag": "ag", "sa": "sa", "bv": "bv", "nv": "nv",
        "plc": "plc", "srl": "srl", "spa": "spa", "oy": "oy", "ab": "ab", "as": "as", "kk": "kk", "pty": "pty", "lp": "lp",
        "llp": "llp", "sarl": "sarl", "sas": "sas",
    ]

    /// The name without case, punctuation and spacing differences, its legal suffix reduced to
    /// its class: "Acme, Inc." and "ACME inc" share `acme|inc`; "Acme" alone is `acme|`.
    static func companyKey(_ value: String) -> String {
        let folded = trimmedSpaces(value).lowercased().map { ",.;".contains($0) ? " " : $0 }
        var words = String(folded).split(whereSeparator: { $0 == " " || $0 == "\u{00A0}" }).map(String.init)
        var suffix = ""
        if words.count > 1, let last = words.last, let kind = legalSuffixes[last] {
            suffix = kind
            words.removeLast()
        }
        return words.joined(separator: " ") + "|" + suffix
    }

    /// For each spelling in use, the one its company should have: per key, the most frequent
    /// spelling (ties: the one sorting first), unless `preferred` names one for the key.
    static func companySpellings(_ counts: [String: Int], key companyKey: (String) -> String = companyKey) -> [String: String] {
        var best: [String: (spelling: String, count: Int)] = [:]
        var keys: [String: String] = [:]
        keys.reserveCapacity(counts.count)
        for (spelling, count) in counts {
            let key = companyKey(spelling)
            keys[spelling] = key
            if let known = best[key], known.count > count || (known.count == count && known.spelling < spelling) { continue }
            best[key] = (spelling, count)
        }
        var result: [String: String] = [:]
        for (spelling, key) in keys { result[spelling] = best[key]?.spelling }
        return result
    }

    // MARK: - Names and titles

    /// Words that stay in capitals when a value's casing is fixed.
    static let acronyms: Set<String> = [
        "VP", "SVP", "EVP", "CEO", "CTO", "CFO", "COO", "CIO", "CMO", "CISO", "IT", "HR", "PR", "QA", "UX", "UI", "R&D", "EMEA", "APAC", "US",
        "UK", "EU",
    ]

    /// Words that stay in lower case after the first: "Head of Sales", "Ludwig van Beethoven".
    static let smallWords: Set<String> = ["of", "and", "the", "for", "in", "at", "to", "on", "de", "del", "da", "van", "der", "von"]

    /// Single spaces, no spaces around; a value all in capitals or all in lower case put in
    /// title case (acronyms in capitals, small words after the first in lower case); a value of mixed case ("McDonald", "van der Berg") kept.
    static func words(_ value: String) -> String {
        let spaced = trimmedSpaces(value).split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        let letters = spaced.filter(\.isLetter)
        guard !letters.isEmpty else { return spaced }
        let allUpper = letters.allSatisfy { $0.isUppercase }
        let allLower = letters.allSatisfy { $0.isLowercase }
        guard allUpper || allLower, letters.count > 1 else { return spaced }
        return spaced.split(separator: " ").enumerated().map { index, word in
            if acronyms.contains(word.uppercased()) { return word.uppercased() }
            if index > 0, smallWords.contains(word.lowercased()) { return word.lowercased() }
            // Hyphenated and apostrophised parts each get a capital: Anne-Marie, O'Brien.
            var result = ""
            var capitalNext = true
            for character in word.lowercased() {
                result += capitalNext ? character.uppercased() : String(character)
                capitalNext = character == "-" || character == "'"
            }
            return result
        }.joined(separator: " ")
    }

    // MARK: - Shared

    static func trimmedSpaces(_ value: String) -> String {
        AssignmentBinder.trimmed(value) ?? value
    }
}
