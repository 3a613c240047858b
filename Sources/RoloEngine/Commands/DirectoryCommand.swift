import GRDB
import RoloStore
import RoloSyntax

/// `whoami`, `users`, `roles`, `teams`: who is here and what they hold.
struct DirectoryRunner {
    let engine: Engine
    let db: Database

    enum Listing { case whoami, users, roles, teams }

    func run(_ kind: Listing, format: OutputFormat, output: OutputSink) throws -> CommandResult {
        var result = CommandResult()
        switch kind {
        case .whoami:
            let actor = engine.access.actor
            let team =
                try String.fetchOne(
                    db, Select(Sql.name("name"), from: "teams").where(Sql.equals(Sql.name("id"), Sql.value(actor.teamID.databaseValue))).sql
                )
                ?? "no team"
            output.line("\(actor.handle) (\(actor.name)) · \(team) · roles: \(engine.access.roleNames)")
            result.rows = 1
        case .users:
            let users = try require("users", format: format)
            let u = { Sql.column("u", $0) }
            let roles = Select(
                [Sql.stringAggregate(Sql.name("name"), separator: ", ")],
                fromQuery: RecordLookup.grants(user: Sql.id("u"), column: Sql.column("r", "name")))
            let sql = Select([u("handle"), u("name"), Sql.column("t", "name"), Sql.subquery(roles), u("active")], from: "users", as: "u")
                .joining(Sql.leftJoin("teams", as: "t", on: Sql.equals(Sql.id("t"), u("team_id"))))
                .where(try scoped(users, alias: "u")).ordered(by: u("handle")).sql
            result.rows = try list(
                sql, [("handle", .text), ("name", .text), ("team", .text), ("roles", .text), ("active", .boolean)], format, output)
        case .roles:
            _ = try require("roles", format: format)
            var holders = RecordLookup.holders(role: Sql.id("r")).where(Sql.equals(Sql.column("u", "active"), Sql.true))
            holders.columns = [Sql.countAll]
            holders.orderBy = []
            let rules = Select(Sql.countAll, from: "role_permissions", as: "p").where(Sql.equals(Sql.column("p", "role_id"), Sql.id("r")))
            let sql = Select(
                [Sql.column("r", "name"), Sql.subquery(holders), Sql.subquery(rules), Sql.column("r", "description")], from: "roles",
                as: "r"
            )
            .ordered(by: Sql.descending(Sql.column("r", "builtin")), Sql.column("r", "name")).sql
            result.rows = try list(
                sql, [("role", .text), ("users", .integer), ("rules", .integer), ("description", .text)], format, output)
        case .teams:
            _ = try require("teams", format: format)
            let members = Select(Sql.countAll, from: "users", as: "u").where(Sql.equals(Sql.column("u", "team_id"), Sql.id("t")))
                .where(Sql.equals(Sql.column("u", "active"), Sql.true))
            let sql = Select(
                [Sql.column("t", "name"), Sql.column("m", "handle"), Sql.subquery(members), Sql.column("t", "description")], from: "teams",
                as: "t"
            )
            .joining(Sql.leftJoin("users", as: "m", on: Sql.equals(Sql.id("m"), Sql.column("t", "manager_id"))))
            .ordered(by: Sql.column("t", "name")).sql
            result.rows = try list(
                sql, [("team", .text), ("manager", .text), ("members", .integer), ("description", .text)], format, output)
        default:
            break
        }
        return result
    }

    private func require(_ name: String, format: OutputFormat) throws -> EntityDefinition {
        guard let entity = CRMSchema.entity(named: name) else {
            throw Diagnostic(.unknownEntity, "unknown entity '\(name)'")
        }
        _ = try engine.access.require(.read, entity, at: nil)
        try engine.access.requireExport(entity, format: format, at: nil)
        return entity
    }

    private func scoped(_ entity: EntityDefinition, alias: String) throws -> SQLFragment? {
        let decision = engine.access.decide(.read, on: entity.name)
        guard let level = decision.scope else { return nil }
        return engine.access.policy.scopeFilter(level, on: entity, alias: alias)
    }

    private func list(_ sql: SQLFragment, _ columns: [(String, FieldType)], _ format: OutputFormat, _ output: OutputSink) throws -> Int {
        var writer = ResultWriters.make(format, output: output)
        return try stream(
            CompiledQuery(sql: sql, columns: columns.map { ResultColumn($0.0, $0.1) }, hiddenNote: nil), into: &writer, db: db)
    }
}
