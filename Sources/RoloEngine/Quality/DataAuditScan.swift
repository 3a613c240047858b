import GRDB
import RoloStore
import RoloSyntax

/// Step 6's spellings and step 4's company-against-account pairs, from the one read of the
/// records (`DataAudit.readRecords`): a million contacts read once rather than grouped by SQL
/// once a field (eight sorts).
extension DataAudit {
    /// What one read gathered.
    struct Scan {
        /// The text fields whose spellings were kept, and per field each spelling in use.
        var fields: [String] = []
        var spellings: [[String: Spelling]] = []
        /// Valid phones by pattern (each digit written 9).
        var phonePatterns: [String: Spelling] = [:]
        /// Emails SQL flagged (capitals or spaces in ASCII), each as read.
        var emails: [String: Spelling] = [:]
        /// Contacts: each (company as typed, account) pair.
        var pairs: [Pair: Spelling] = [:]

        /// `Normalizer.companyKey` worked out once a text: companies are typed alike by many
        /// records, and steps 3, 4 and 6 all compare them.
        var companyKeys = CompanyKeys()

        func spellings(of field: String) -> [Spelling] {
            fields.firstIndex(of: field).map { Array(spellings[$0].values) } ?? []
        }
    }

    final class CompanyKeys {
        private var known: [String: String] = [:]

        func key(_ text: String) -> String {
            if let found = known[text] { return found }
            let computed = Normalizer.companyKey(text)
            known[text] = computed
            return computed
        }
    }

    struct Pair: Hashable {
        var company: String
        var account: Int64
    }

    /// The fields whose spellings step 6 looks at, as the user may read them.
    var spellingFields: [String] {
        let company = name == "accounts" ? "name" : "company"
        return [company, "first_name", "last_name", "title", "street", "city", "website"].filter { has($0) }
    }

    /// The spellings the pass counted by their bytes, as strings: one a distinct value (for
    /// first and last names, titles, streets and cities only those `Normalizer.words` may change).
    func scan(_ part: Part) -> Scan {
        var result = Scan()
        result.fields = spellingFields
        func text(_ bytes: UnsafeRawBufferPointer) -> (String, String) {
            let value = String(decoding: bytes, as: UTF8.self)
            return (value, value)
        }
        result.spellings = part.spellings.map { Self.spellings($0, text) }
        result.phonePatterns = Self.spellings(part.phones, text)
        result.emails = Self.spellings(part.emails, text)
        result.pairs = Self.spellings(part.pairs) { bytes in
            let company = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 8)]), as: UTF8.self)
            return (Pair(company: company, account: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: Int64.self)), company)
        }
        return result
    }

    /// A tally's values keyed as Swift compares them: values whose bytes differ but whose strings
    /// are equal (canonically equivalent, or repaired alike) are one spelling, as when they were
    /// counted as strings. Entries come in the order of their first records, so each spelling
    /// keeps its first record and its first way of writing.
    static func spellings<Key: Hashable>(_ tally: ByteTally, _ key: (UnsafeRawBufferPointer) -> (Key, String)) -> [Key: Spelling] {
        var result: [Key: Spelling] = [:]
        result.reserveCapacity(tally.entries.count)
        for entry in tally.entries {
            let (value, text) = tally.withBytes(entry, key)
            if var known = result[value] {
                known.count += entry.count
                known.valuable += entry.valuable
                result[value] = known
            } else {
                result[value] = Spelling(value: text, count: entry.count, valuable: entry.valuable, first: entry.first)
            }
        }
        return result
    }

    /// Empty as Rolo means it (`is empty`, SQL's `trim(x) = ''`): nothing, or only spaces.
    static func isBlank(_ value: String) -> Bool { value.utf8.allSatisfy { $0 == 0x20 } }
}
