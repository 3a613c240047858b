import RoloStore
import RoloSyntax

/// The session's compiled reads (`find`, `count`, `sum`…), by statement text: a script repeating a
/// query binds names, builds its scope filters and writes its SQL once.
///
/// What a compiled query depends on, and how the cache keeps to it:
/// - the statement's text, its output format, the acting user and the admin behind an `as`: the key;
/// - the acting user's policy (read and export scopes, hidden fields): the engine empties the
///   cache whenever its policy is set — `grant`, `revoke`, `rule`, `role` changes, `as`, `login`,
///   a policy reload and a sandbox reset all go through it;
/// - the clock (`today`, `3 days ago`), a script's `$parameters` and the database (a record named
///   by its key, a user by handle): a query whose binding read any of these is never kept
///   (`BindingDependencies`), so it is bound again each time, as before.
///
/// The permission check itself runs for every statement, cached or not (`Engine.require`), and
/// every statement is still audited: only the compiling is skipped.
final class CompiledQueryCache {
    enum Kind: UInt8 {
        case find, aggregate
    }

    struct Key: Hashable {
        let kind: Kind
        let text: String
        let format: OutputFormat
        let actor: Int64
        let impersonator: Int64?
    }

    private var entries: [Key: CompiledQuery] = [:]
    /// The query found last: a script repeating a statement finds it by comparing keys, without
    /// hashing the statement's text.
    private var last: (key: Key, compiled: CompiledQuery)? = nil
    /// A session of many distinct queries keeps at most this many; then it starts again.
    static let capacity = 256

    /// How many compiled queries are kept (for tests).
    var count: Int { entries.count }

    func removeAll() {
        last = nil
        if !entries.isEmpty { entries.removeAll(keepingCapacity: true) }
    }

    /// The query compiled for `key`, compiled now by `compile` when not kept; kept afterwards only
    /// when its binding read nothing but its text and the policy.
    func compiled(_ key: Key?, engine: Engine, _ compile: () throws -> CompiledQuery) throws -> CompiledQuery {
        guard let key else { return try compile() }
        if let last, last.key == key { return last.compiled }
        if let known = entries[key] {
            last = (key, known)
            return known
        }
        let dependencies = BindingDependencies()
        let outer = engine.bindingDependencies
        engine.bindingDependencies = dependencies
        defer {
            engine.bindingDependencies = outer
            // A nested compile's reads count for the one around it.
            if dependencies.volatile { outer?.volatile = true }
        }
        let compiled = try compile()
        if !dependencies.volatile {
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = compiled
            last = (key, compiled)
        }
        return compiled
    }
}

/// Set while a query is bound when the binding reads the clock, a script's parameters or the
/// database: the compiled query holds values of this moment, and is not kept.
final class BindingDependencies {
    var volatile = false
}

extension Engine {
    /// A read's compiled query (`find`, `count` …): the export and read rights checked every time,
    /// the query kept by `text` when one is given. `compile` gets the export filter to add (none
    /// for a table).
    func compiledRead(
        _ kind: CompiledQueryCache.Kind, entity: EntityDefinition, format: OutputFormat, formatAt: SourceRange, entityAt: SourceRange,
        text: String?, _ compile: ([SQLFragment]) throws -> CompiledQuery
    ) throws -> CompiledQuery {
        try access.requireExport(entity, format: format, at: formatAt)
        // Checked every time, kept query or not.
        _ = try access.require(.read, entity, at: entityAt)
        let key = text.map {
            CompiledQueryCache.Key(kind: kind, text: $0, format: format, actor: access.actor.id, impersonator: access.impersonator)
        }
        return try access.compiledQueries.compiled(key, engine: self) {
            try compile(format == .table ? [] : access.exportFilter(entity))
        }
    }
}
