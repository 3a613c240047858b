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
            let actor = engine.actor
            let team = try String.fetchOne(db, sql: "SELECT name FROM teams WHERE id = ?", arguments: [actor.teamID]) ?? "no team"
            output.line("\(actor.handle) (\(actor.name)) · \(team) · roles: \(engine.roleNames)")
            result.rows = 1
        case .users:
            let users = try require("users", format: format)
            let sql =
                SQLFragment(
                    """
                    SELECT u.handle, u.name, t.name,
                           (SELECT group_concat(name, ', ') FROM (SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                             WHERE ur.user_id = u.id ORDER BY r.name)),
                           u.active
                    FROM users u LEFT JOIN teams t ON t.id = u.team_id
                    """) + (try scoped(users, alias: "u")) + " ORDER BY u.handle"
            result.rows = try list(
                sql, [("handle", .text), ("name", .text), ("team", .text), ("roles", .text), ("active", .boolean)], format, output)
        case .roles:
            _ = try require("roles", format: format)
            let sql = SQLFragment(
                """
                SELECT r.name,
                       (SELECT count(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.role_id = r.id AND u.active = 1),
                       (SELECT count(*) FROM role_permissions p WHERE p.role_id = r.id),
                       r.description
                FROM roles r ORDER BY r.builtin DESC, r.name
                """)
            result.rows = try list(
                sql, [("role", .text), ("users", .integer), ("rules", .integer), ("description", .text)], format, output)
        case .teams:
            _ = try require("teams", format: format)
            let sql = SQLFragment(
                """
                SELECT t.name, m.handle, (SELECT count(*) FROM users u WHERE u.team_id = t.id AND u.active = 1), t.description
                FROM teams t LEFT JOIN users m ON m.id = t.manager_id ORDER BY t.name
                """)
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
        _ = try engine.require(.read, entity, at: nil)
        try engine.requireExport(entity, format: format, at: nil)
        return entity
    }

    private func scoped(_ entity: EntityDefinition, alias: String) throws -> SQLFragment {
        let decision = engine.decide(.read, on: entity.name)
        if let level = decision.scope, let filter = engine.policy.scopeFilter(level, on: entity, alias: alias) {
            return " WHERE " + filter
        }
        return SQLFragment("")
    }

    private func list(_ sql: SQLFragment, _ columns: [(String, FieldType)], _ format: OutputFormat, _ output: OutputSink) throws -> Int {
        var writer = ResultWriters.make(format, output: output)
        return try stream(
            CompiledQuery(sql: sql, columns: columns.map { ResultColumn($0.0, $0.1) }, hiddenNote: nil), into: &writer, db: db)
    }
}
