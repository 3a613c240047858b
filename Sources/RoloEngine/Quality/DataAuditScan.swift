import GRDB
import RoloStore
import RoloSyntax

/// One read of every record for step 6's spellings and step 4's company-against-account pairs:
/// a million contacts read once, in Swift, rather than grouped by SQL once a field (eight sorts).
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

        func spellings(of field: String) -> [Spelling] {
            fields.firstIndex(of: field).map { Array(spellings[$0].values) } ?? []
        }
    }

    struct Pair: Hashable {
        var company: String
        var account: Int64
    }

    /// The valuable records as a join (`rolo_v.id` is set on them): one lookup a record.
    var valueJoin: SQLFragment { Sql.leftJoin(Self.valueTable, as: "rolo_v", on: Sql.equals(Sql.id("rolo_v"), Sql.id("t0"))) }
    var valuableFlag: SQLFragment { Sql.isNotNull(Sql.id("rolo_v")) }

    /// The fields whose spellings step 6 looks at, as the user may read them.
    var spellingFields: [String] {
        let company = name == "accounts" ? "name" : "company"
        return [company, "first_name", "last_name", "title", "street", "city", "website"].filter { has($0) }
    }

    func scan() throws -> Scan {
        var result = Scan()
        result.fields = spellingFields
        result.spellings = result.fields.map { _ in [:] }
        var columns = [Sql.id("t0"), valuableFlag] + result.fields.map { Sql.column("t0", $0) }
        let phoneAt = columns.count, readsPhones = has("phone")
        if readsPhones {
            let phone = Sql.column("t0", "phone")
            columns += [phone, Sql.all([Sql.not(Sql.isBlank(phone)), Sql.validPhone(phone)])]
        }
        let emailAt = columns.count, readsEmails = has("email")
        if readsEmails {
            let email = Sql.column("t0", "email")
            columns += [email, Sql.isTrue(Sql.isDistinct(email, Sql.call(.lower, [Sql.trim(email)])))]
        }
        let accountAt = columns.count
        let pairs = name == "contacts" && has("company") && has("account_id")
        if pairs { columns.append(Sql.column("t0", "account_id")) }

        func add(_ value: String, _ id: Int64, _ valuable: Bool, to map: inout [String: Spelling]) {
            if var known = map[value] {
                known.count += 1
                if valuable { known.valuable += 1 }
                map[value] = known
            } else {
                map[value] = Spelling(value: value, count: 1, valuable: valuable ? 1 : 0, first: id)
            }
        }
        let query = Select(columns, from: name, as: "t0").joining(valueJoin).where(filtered([])).ordered(by: Sql.id("t0"))
        let cursor = try Row.fetchCursor(db, query.sql)
        while let row = try cursor.next() {
            let id: Int64 = try row.decode(atIndex: 0)
            let valuable: Bool = try row.decode(atIndex: 1)
            for index in result.fields.indices {
                guard let value = try row.decode(String?.self, atIndex: 2 + index), !Self.isBlank(value) else { continue }
                add(value, id, valuable, to: &result.spellings[index])
            }
            if readsPhones, try row.decode(Bool.self, atIndex: phoneAt + 1), let phone = try row.decode(String?.self, atIndex: phoneAt) {
                add(String(phone.map { $0.isASCII && $0.isNumber ? "9" : $0 }), id, valuable, to: &result.phonePatterns)
            }
            if readsEmails, try row.decode(Bool.self, atIndex: emailAt + 1), let email = try row.decode(String?.self, atIndex: emailAt) {
                add(email, id, valuable, to: &result.emails)
            }
            if pairs, let account = try row.decode(Int64?.self, atIndex: accountAt),
                let company = try row.decode(String?.self, atIndex: result.fields.firstIndex(of: "company").map { 2 + $0 } ?? 0),
                !Self.isBlank(company)
            {
                let key = Pair(company: company, account: account)
                if var known = result.pairs[key] {
                    known.count += 1
                    if valuable { known.valuable += 1 }
                    result.pairs[key] = known
                } else {
                    result.pairs[key] = Spelling(value: company, count: 1, valuable: valuable ? 1 : 0, first: id)
                }
            }
        }
        return result
    }

    /// Empty as Rolo means it (`is empty`, SQL's `trim(x) = ''`): nothing, or only spaces.
    static func isBlank(_ value: String) -> Bool { value.utf8.allSatisfy { $0 == 0x20 } }
}
