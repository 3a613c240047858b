import GRDB
import RoloStore
import RoloSyntax

/// Measures one entity's data in the data-governance article's seven steps (issue 22, item 1):
/// locate, prioritise, duplicates and incorrect data, conflicts, missing data, uniform entry and
/// decay. Everything is read under the acting user's read rights: records they may not read are
/// not counted, and a field they may not read is not looked at (its section says so).
///
/// Most findings are a Rolo condition (`email is not valid email`), bound like any `find` and
/// counted together in one pass over the table; the `find` a finding prints is that condition.
/// Findings over groups of records (duplicates, conflicts) and over spellings (uniform entry)
/// are counted from grouped reads, the spellings with `normalize`'s own rules, so a finding's
/// `normalize … --dry-run` lists exactly the records it counted.
struct DataAudit {
    let engine: Engine
    let db: Database
    let entity: EntityDefinition
    let decayMonths: Int
    let hidden: Set<String>
    /// The read-scope filter on `t0`, if the user may read only some records.
    let readable: SQLFragment?

    static let valueTable = "rolo_audit_valuable"
    static let examplesShown = 3

    init(engine: Engine, db: Database, entity: EntityDefinition, decayMonths: Int) {
        self.engine = engine
        self.db = db
        self.entity = entity
        self.decayMonths = decayMonths
        self.hidden = engine.access.readVisibility(entity).hiddenFields
        self.readable = engine.access.readFilter(entity)
    }

    /// A field of the entity the user may read.
    func has(_ field: String) -> Bool { entity.field(named: field) != nil && !hidden.contains(field) }

    var name: String { entity.name }

    // MARK: - Conditions

    /// A condition in Rolo's language bound to SQL over `t0`, as `find` would bind it.
    func bind(_ text: String) throws -> SQLFragment {
        let condition = try Parser.parseCondition(text)
        let scope = engine.access.queryScope(entity)
        var binder = engine.binder(db, scope: scope)
        binder.relatedAsSets = true  // the audit reads whole tables: one set a relation, not a probe a record
        let sql = try binder.condition(condition)
        guard scope.hasJoins else { return Sql.group(sql) }
        return Sql.in(Sql.id("t0"), Select(Sql.id("t0"), from: name, as: "t0").joining(scope.joinSQL).where(sql))
    }

    func filtered(_ conditions: [SQLFragment]) -> SQLFragment? {
        let all = conditions + (readable.map { [Sql.group($0)] } ?? [])
        return all.isEmpty ? nil : Sql.all(all)
    }

    /// Counts records meeting a SQL condition (1 when true), for one pass's column list.
    static func countWhere(_ condition: SQLFragment) -> SQLFragment {
        Sql.aggregate(.count, Sql.nullIf(Sql.isTrue(condition), Sql.false))
    }

    var valuable: SQLFragment { Sql.in(Sql.id("t0"), Select(Sql.name("id"), from: Self.valueTable)) }

    /// The condition of step 2: records worth most, whose problems come first.
    var valueCondition: String {
        switch name {
        case "leads": return "status in (contacted, qualified) or has activities since 90 days ago"
        default: return "has open deals or has open tickets or has activities since 90 days ago"
        }
    }

    /// Keeps the valuable records' numbers (the pass found them) in a temporary table for the
    /// examples ordered in SQL.
    func rememberValuable(_ ids: [Int64]) throws { try Self.remember(ids, in: db) }

    static func remember(_ ids: [Int64], in db: Database) throws {
        try db.execute(SchemaSQL.dropTemporaryTable(valueTable))
        try db.execute(SchemaSQL.createTemporaryTable(valueTable, key: "id", columns: []))
        let insert = DirectStatement(statement: try db.makeStatement(sql: Insert.prepared(into: valueTable, columns: ["id"]).sql))
        for id in ids {
            try insert.bind([id.databaseValue])
            _ = try insert.step()
        }
        insert.finish()
    }

    func dropValuable() { try? db.execute(SchemaSQL.dropTemporaryTable(Self.valueTable)) }

    // MARK: - Examples

    /// "Ana Ruiz (contact 42)" for each record number, in the order given.
    func titles(_ ids: [Int64]) throws -> [String] {
        guard !ids.isEmpty else { return [] }
        let rows = try Row.fetchAll(
            db,
            Select([Sql.id("t0"), SQLFragment(entity.title(alias: "t0"))], from: name, as: "t0")
                .where(Sql.in(Sql.id("t0"), ids.map { Sql.value($0) })).sql)
        var byID: [Int64: String] = [:]
        for row in rows {
            let id: Int64 = try row.decode(atIndex: 0)
            let title: String? = try row.decode(String?.self, atIndex: 1)
            byID[id] = TerminalText.safe(title ?? "") + " (\(entity.singular) \(id))"
        }
        return ids.compactMap { byID[$0] }
    }

    /// The queries finding a few records meeting `condition` (`exampleIDs`): valuable ones
    /// first, then the others, each part in `order` (record number by default).
    func exampleQueries(_ condition: SQLFragment, order: SQLFragment?) -> [Select] {
        [valuable, Sql.not(valuable)].map { part in
            Select(Sql.id("t0"), from: name, as: "t0").where(filtered([condition, part])).ordered(by: [order ?? Sql.id("t0")])
        }
    }

    /// The first records of the queries, in turn, until there are enough (the valuable table
    /// filled on `db`).
    static func exampleIDs(_ queries: [Select], in db: Database) throws -> [Int64] {
        var ids: [Int64] = []
        for query in queries where ids.count < examplesShown {
            ids += try Int64.fetchAll(db, query.limited(examplesShown - ids.count).sql)
        }
        return ids
    }

    /// Examples for findings over record numbers found in Swift: valuable ones first.
    func examples(ids: [Int64], valuableIDs: Set<Int64>) throws -> [String] {
        let ranked = ids.filter { valuableIDs.contains($0) } + ids.filter { !valuableIDs.contains($0) }
        return try titles(Array(ranked.prefix(Self.examplesShown)))
    }
}

/// A finding defined by a condition, counted in the one pass over the table.
struct ConditionFinding {
    var key: String
    var title: String
    var condition: String
    var fix: String?
    var rule: String?
    /// The `find`'s `order by` and the examples' order (decay: oldest first).
    var orderBy: String?
    /// Conditions whose AND is `condition`, each counted alone (one shared by several findings is
    /// read once a record); nil for the condition itself.
    var parts: [String]? = nil
}
