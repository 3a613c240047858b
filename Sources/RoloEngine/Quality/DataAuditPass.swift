import GRDB
import RoloStore
import RoloSyntax

/// The one read of every record behind steps 2 to 7 (issue 22, item 1): per record, whether it
/// is valuable, the condition findings SQL decides (`email is not valid email`…), whether each
/// field is filled, and the spellings, phones, emails and company/account pairs counted by their
/// bytes (`ByteTally`), not as a Swift string a value.
///
/// On a file, the records are read in two shares by record number at once, the second on a
/// read-only connection of its own (two cores), both in one snapshot of the database: the second
/// connection's read transaction starts first, this one's after, and the shares are read only if
/// no change was committed between the two (`PRAGMA data_version`). This connection reads the
/// valuable records meanwhile; the second counts its valuable records once they are known
/// (`Part.resolve`). Inside a transaction of the session's, or in memory, the records are read in
/// one pass on this connection, as before.
extension DataAudit {
    /// What the pass reads, by column: the record's number (0), the conditions' truth (1…), the
    /// fields' text, then SQL's flags.
    struct Layout: Sendable {
        struct Finding: Sendable {
            /// The condition columns whose AND is the finding (its conjuncts, each bound alone).
            var parts: [Int]
            /// Its examples are the first records by number (else `examples` orders them in SQL).
            var byNumber: Bool
        }

        var conditions = 0
        var findings: [Finding] = []
        var fields: [String] = []
        /// Fields counted for step 5 (in `completenessFields`' order) and kept as spellings (in
        /// `spellingFields`' order), by their index in `fields`.
        var complete: [Int] = []
        var spelled: [Int] = []
        /// Per spelled field: only values `Normalizer.words` may change are kept.
        var wordsOnly: [Bool] = []
        var phone: Int?
        var email: Int?
        var company: Int?
        var account: Int?
        /// A valid phone or email, as the condition columns of `is not empty` and `is not valid …`
        /// tell it (`is valid` is the one and not the other), else a flag column of its own; an
        /// email SQL flags (capitals or spaces).
        var phoneValid: Validity?
        var emailFlag: Int?
        var validEmail: Validity?

        enum Validity: Sendable {
            case conditions(notEmpty: Int, invalid: Int)
            case column(Int)
        }

        var fieldBase: Int { 1 + conditions }
    }

    /// What one read (or half of one) gathered.
    struct Part: Sendable {
        var valuable: [Int64] = []
        var records = 0
        var counts: [Int]
        var valuableCounts: [Int]
        var firstValuable: [[Int64]]
        var firstOther: [[Int64]]
        var filled: [Int]
        var spellings: [ByteTally]
        var phones = ByteTally()
        var emails = ByteTally()
        var pairs = ByteTally()
        /// Valid emails by their key as SQL's NOCASE compares them, and each record's entry.
        var emailKeys = ByteTally()
        var keyEntries: [Int] = []
        var keyIDs: [Int64] = []
        /// Records read before the valuable ones were known (`resolve` counts them): each one's
        /// number, its findings (a bit each) and the tally entries it added to.
        var logIDs: [Int64] = []
        var logFindings: [UInt64] = []
        var logEntries: [Int32] = []

        init(_ layout: Layout) {
            counts = layout.findings.map { _ in 0 }
            valuableCounts = counts
            firstValuable = layout.findings.map { _ in [] }
            firstOther = firstValuable
            filled = layout.complete.map { _ in 0 }
            spellings = layout.spelled.map { _ in ByteTally() }
        }

        /// Counts the valuable records among those read before they were known, in the order
        /// they were read.
        mutating func resolve(_ valuable: Set<Int64>, _ layout: Layout) {
            let slots = spellings.count + 3
            for (row, id) in logIDs.enumerated() {
                let isValuable = valuable.contains(id)
                let found = logFindings[row]
                if found != 0 {
                    for (index, finding) in layout.findings.enumerated() where found & (1 << UInt64(index)) != 0 {
                        if isValuable {
                            valuableCounts[index] += 1
                            if finding.byNumber, firstValuable[index].count < DataAudit.examplesShown { firstValuable[index].append(id) }
                        } else if finding.byNumber, firstOther[index].count < DataAudit.examplesShown {
                            firstOther[index].append(id)
                        }
                    }
                }
                guard isValuable else { continue }
                for slot in 0..<slots {
                    let entry = Int(logEntries[row * slots + slot])
                    guard entry >= 0 else { continue }
                    switch slot - spellings.count {
                    case 0: phones.countValuable(entry)
                    case 1: emails.countValuable(entry)
                    case 2: pairs.countValuable(entry)
                    default: spellings[slot].countValuable(entry)
                    }
                }
            }
            logIDs = []
            logFindings = []
            logEntries = []
        }

        /// Adds the half of the records numbered after this one's.
        mutating func merge(_ other: Part) {
            valuable += other.valuable
            records += other.records
            for index in counts.indices {
                counts[index] += other.counts[index]
                valuableCounts[index] += other.valuableCounts[index]
                firstValuable[index] = Array((firstValuable[index] + other.firstValuable[index]).prefix(DataAudit.examplesShown))
                firstOther[index] = Array((firstOther[index] + other.firstOther[index]).prefix(DataAudit.examplesShown))
            }
            for index in filled.indices { filled[index] += other.filled[index] }
            for index in spellings.indices { _ = spellings[index].merge(other.spellings[index]) }
            _ = phones.merge(other.phones)
            _ = emails.merge(other.emails)
            _ = pairs.merge(other.pairs)
            let moved = emailKeys.merge(other.emailKeys)
            keyEntries += other.keyEntries.map { moved[$0] }
            keyIDs += other.keyIDs
        }
    }

    /// The pass's SQL: its records' query, for all records or those in a range of numbers.
    struct PassQueries: Sendable {
        var records: SQLFragment
        var layout: Layout
    }

    /// The columns and layout of the pass over `findings`.
    func passLayout(_ findings: [ConditionFinding]) throws -> (columns: [SQLFragment], layout: Layout) {
        var layout = Layout()
        var columns = [Sql.id("t0")]
        var conditionColumns: [String: Int] = [:]
        func column(_ condition: String) throws -> Int {
            if let known = conditionColumns[condition] { return known }
            columns.append(Sql.isTrue(try bind(condition)))
            layout.conditions += 1
            conditionColumns[condition] = layout.conditions - 1
            return layout.conditions - 1
        }
        for finding in findings {
            layout.findings.append(
                Layout.Finding(parts: try (finding.parts ?? [finding.condition]).map(column), byNumber: finding.orderBy == nil))
        }
        // `phone is valid phone` is `phone is not empty` and not `phone is not valid phone`:
        // the validity read once a record.
        func validity(_ field: String) throws -> Layout.Validity? {
            guard let invalid = conditionColumns["\(field) is not valid \(field)"] else { return nil }
            return .conditions(notEmpty: try column("\(field) is not empty"), invalid: invalid)
        }
        if has("phone") { layout.phoneValid = try validity("phone") }
        if has("email"), name != "accounts" { layout.validEmail = try validity("email") }
        let pairs = name == "contacts" && has("company") && has("account_id")
        var fields: [String] = []
        func field(_ name: String) -> Int {
            if let known = fields.firstIndex(of: name) { return known }
            fields.append(name)
            return fields.count - 1
        }
        layout.complete = completenessFields.map(field)
        layout.spelled = spellingFields.map(field)
        layout.wordsOnly = spellingFields.map { ["first_name", "last_name", "title", "street", "city"].contains($0) }
        if has("phone") { layout.phone = field("phone") }
        if has("email") { layout.email = field("email") }
        if pairs {
            layout.company = field("company")
            layout.account = field("account_id")
        }
        layout.fields = fields
        columns += fields.map { Sql.column("t0", $0) }
        if has("phone"), layout.phoneValid == nil {
            let phone = Sql.column("t0", "phone")
            layout.phoneValid = .column(columns.count)
            columns.append(Sql.all([Sql.not(Sql.isBlank(phone)), Sql.validPhone(phone)]))
        }
        if has("email") {
            let email = Sql.column("t0", "email")
            layout.emailFlag = columns.count
            columns.append(Sql.isTrue(Sql.isDistinct(email, Sql.call(.lower, [Sql.trim(email)]))))
            if name != "accounts", layout.validEmail == nil {
                layout.validEmail = .column(columns.count)
                columns.append(Sql.isTrue(AssignmentBinder.validEmailSQL(email)))
            }
        }
        return (columns, layout)
    }

    /// The pass's query over the records whose numbers lie in a range (all when nil).
    func passQueries(_ columns: [SQLFragment], _ layout: Layout, from low: Int64?, below high: Int64?) -> PassQueries {
        var range: [SQLFragment] = []
        if let low { range.append(Sql.compare(Sql.id("t0"), .greaterEqual, Sql.value(low))) }
        if let high { range.append(Sql.compare(Sql.id("t0"), .less, Sql.value(high))) }
        return PassQueries(records: Select(columns, from: name, as: "t0").where(filtered(range)).ordered(by: Sql.id("t0")).sql, layout: layout)
    }

    /// Reads every record once (in two halves at once where it can); returns what it gathered
    /// and, when the halves were read, the second connection, still in the snapshot this
    /// connection's read transaction shares (`Second.finish` ends the one, the caller the other).
    func readRecords(_ findings: [ConditionFinding]) throws -> (part: Part, second: Second?) {
        let (columns, layout) = try passLayout(findings)
        // Step 2's valuable records, read once (on this connection).
        let valuable = Select(Sql.id("t0"), from: name, as: "t0").where(filtered([try bind(valueCondition)])).sql
        if !db.isInsideTransaction, let reader = try? engine.store.reader(),
            let bounds = try Row.fetchOne(db, Select([Sql.aggregate(.min, Sql.id("t0")), Sql.aggregate(.max, Sql.id("t0"))], from: name, as: "t0").sql),
            let low: Int64 = try bounds.decode(Int64?.self, atIndex: 0), let high: Int64 = try bounds.decode(Int64?.self, atIndex: 1), high > low
        {
            // This connection reads the valuable records too (about as long as a third of the
            // records take): it takes the smaller share.
            let middle = low + (high - low) * 3 / 10 + 1
            let first = passQueries(columns, layout, from: nil, below: middle)
            let second = passQueries(columns, layout, from: middle, below: nil)
            for _ in 0..<3 {
                if let read = try readHalves(valuable, first, second, reader) { return read }
            }
        }
        let ids = try Int64.fetchAll(db, valuable)
        var part = try Self.pass(db, passQueries(columns, layout, from: nil, below: nil), valuable: Set(ids))
        part.valuable = ids
        return (part, nil)
    }

    /// Reads the records of `queries` on `db`, the valuable ones being `valuable` (nil: not yet
    /// known, `Part.resolve` counts them).
    static func pass(_ db: Database, _ queries: PassQueries, valuable: Set<Int64>?) throws -> Part {
        let layout = queries.layout
        var part = Part(layout)
        let logged = valuable == nil
        let slots = layout.spelled.count + 3
        let statement = DirectStatement(statement: try db.makeStatement(sql: queries.records.sql))
        try statement.bind(queries.records.arguments)
        defer { statement.finish() }
        var truth = [Bool](repeating: false, count: layout.conditions)
        func holds(_ validity: Layout.Validity?) -> Bool {
            switch validity {
            case .conditions(let notEmpty, let invalid): return truth[notEmpty] && !truth[invalid]
            case .column(let index): return statement.int64(at: index) != 0
            case nil: return false
            }
        }
        var key: [UInt8] = []
        let base = layout.fieldBase
        while try statement.step() {
            let id = statement.int64(at: 0)
            let isValuable = valuable?.contains(id) ?? false
            part.records += 1
            let row = part.logEntries.count
            if logged {
                part.logIDs.append(id)
                part.logFindings.append(0)
                part.logEntries.append(contentsOf: repeatElement(-1, count: slots))
            }
            func log(_ slot: Int, _ entry: Int) { if logged { part.logEntries[row + slot] = Int32(entry) } }
            for index in truth.indices { truth[index] = statement.int64(at: 1 + index) != 0 }
            for (index, finding) in layout.findings.enumerated() where finding.parts.allSatisfy({ truth[$0] }) {
                part.counts[index] += 1
                if logged {
                    part.logFindings[part.logFindings.count - 1] |= 1 << UInt64(index)
                } else if isValuable {
                    part.valuableCounts[index] += 1
                    if finding.byNumber, part.firstValuable[index].count < examplesShown { part.firstValuable[index].append(id) }
                } else if finding.byNumber, part.firstOther[index].count < examplesShown {
                    part.firstOther[index].append(id)
                }
            }
            // Filled as `hasText` means it: a number, or text with a character other than a space.
            for (index, field) in layout.complete.enumerated() {
                if statement.isNumber(at: base + field) {
                    part.filled[index] += 1
                } else if let text = statement.text(at: base + field), !isBlank(text) {
                    part.filled[index] += 1
                }
            }
            for (index, field) in layout.spelled.enumerated() {
                guard let text = statement.text(at: base + field), !isBlank(text) else { continue }
                if layout.wordsOnly[index], !wordsMayChange(text) { continue }
                log(index, part.spellings[index].add(text, id: id, valuable: isValuable))
            }
            if let phone = layout.phone, holds(layout.phoneValid), let text = statement.text(at: base + phone) {
                // Valid phones are ASCII: each digit written 9.
                key.removeAll(keepingCapacity: true)
                for byte in text { key.append(byte >= 0x30 && byte <= 0x39 ? 0x39 : byte) }
                log(slots - 3, key.withUnsafeBytes { part.phones.add($0, id: id, valuable: isValuable) })
            }
            if let email = layout.email, let text = statement.text(at: base + email) {
                if let flag = layout.emailFlag, statement.int64(at: flag) != 0 { log(slots - 2, part.emails.add(text, id: id, valuable: isValuable)) }
                if holds(layout.validEmail) {
                    // NOCASE folds ASCII letters only.
                    key.removeAll(keepingCapacity: true)
                    for byte in text { key.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte) }
                    let entry = key.withUnsafeBytes { part.emailKeys.add($0, id: id, valuable: isValuable) }
                    part.keyEntries.append(entry)
                    part.keyIDs.append(id)
                }
            }
            if let company = layout.company, let account = layout.account, !statement.isNull(at: base + account),
                let text = statement.text(at: base + company), !isBlank(text)
            {
                let number = statement.int64(at: base + account)
                key.removeAll(keepingCapacity: true)
                key.append(contentsOf: text)
                withUnsafeBytes(of: number) { key.append(contentsOf: $0) }
                log(slots - 1, key.withUnsafeBytes { part.pairs.add($0, id: id, valuable: isValuable) })
            }
        }
        return part
    }

    /// Empty as Rolo means it (nothing, or only spaces), over text's bytes.
    static func isBlank(_ text: UnsafeRawBufferPointer) -> Bool { text.allSatisfy { $0 == 0x20 } }

    /// Whether `Normalizer.words` may change a value: false only for printable ASCII with capitals
    /// and small letters both, no space around and no two spaces together, which it keeps as is.
    static func wordsMayChange(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let first = text.first, let last = text.last, first != 0x20, last != 0x20 else { return true }
        var upper = false
        var lower = false
        var space = false
        for byte in text {
            if byte < 0x20 || byte >= 0x7F { return true }
            if byte == 0x20 {
                if space { return true }
                space = true
                continue
            }
            space = false
            if byte >= 0x41 && byte <= 0x5A { upper = true } else if byte >= 0x61 && byte <= 0x7A { lower = true }
        }
        return !(upper && lower)
    }
}
