import Foundation
import RoloEngine
import RoloStore
import RoloSyntax

/// The shell's Tab completion: a `Completer` whose names (users, roles, teams) the shell reads
/// again after each command line, so a user created a moment ago is offered.
public final class LiveCompleter: @unchecked Sendable {
    private let lock = NSLock()
    private var completer: Completer

    public init(vocabulary: Vocabulary) {
        completer = Completer(vocabulary: vocabulary)
    }

    public func update(_ vocabulary: Vocabulary) {
        lock.withLock { completer = Completer(vocabulary: vocabulary) }
    }

    public func candidates(for line: String) -> [String] {
        lock.withLock { completer }.candidates(for: line)
    }
}

/// Tab completion that knows commands, entities, fields (through relations), enum values,
/// users and roles. Works on the text before the cursor; returns whole candidate words.
public struct Completer: Sendable {
    let vocabulary: Vocabulary

    public init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
    }

    static let keywords = [
        "where", "and", "or", "not", "order", "by", "asc", "desc", "limit", "offset", "as", "csv", "json", "table", "bars",
        "contains", "starts", "ends", "with", "in", "between", "is", "empty", "set", "to", "into", "today",
        "yesterday", "tomorrow", "ago", "days", "weeks", "months", "years", "this", "last", "next", "week", "month",
        "quarter", "year", "me", "my", "team", "null",
    ]

    /// Candidates for the word being typed at the end of `line`.
    public func candidates(for line: String) -> [String] {
        let partialWord = TabCompletion.partialWord(line)
        let partial = partialWord.lowercased()
        let before = String(line[..<partialWord.startIndex])
        let words = before.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        let pool: [String]
        if words.isEmpty {
            pool = Parser.commands
        } else if let hint = Completer.argumentHint(words) {
            switch hint {
            case .helpTopics:
                pool = CommandRegistry.all.map { $0.name }
            case .entities(let singular):
                // Queries read in the plural; commands on one record may use the singular.
                pool =
                    CRMSchema.entities.filter { $0.kind != .system }.flatMap { singular ? [$0.name, $0.singular] : [$0.name] } + ["audit"]
            case .roles:
                pool = vocabulary.roles
            }
        } else if before.hasSuffix("."), let entity = entity(in: words) {
            pool = fieldsAfterPath(before, root: entity)
        } else if let entity = entity(in: words), let values = valuesForComparedField(words, entity: entity) {
            pool = values
        } else {
            var names: [String] = Completer.keywords + vocabulary.users
            if let entity = entity(in: words) {
                names += Catalog.fieldNames(of: entity)
                for field in entity.fields {
                    if case .enumeration(let values) = field.type { names += values }
                }
            }
            pool = names
        }
        var seen = Set<String>()
        return pool.filter { $0.hasPrefix(partial) && seen.insert($0).inserted }.sorted()
    }

    /// What the command's declaration says to offer for the argument being typed: the first
    /// argument after the command's words (`find <Tab>`, `grant <Tab>`, `create role <Tab>`).
    static func argumentHint(_ words: [String]) -> ArgumentHint? {
        guard let (command, taken) = CommandRegistry.command(startingWith: words), words.count == taken else { return nil }
        return command.arguments(after: Array(words.prefix(taken))).first
    }

    /// After `stage =` or `status in (`, the field's values (enum words, or user handles).
    private func valuesForComparedField(_ words: [String], entity: EntityDefinition) -> [String]? {
        var index = words.count - 1
        while index > 0, ["=", "!=", "in", "(", "not", "in(", ",", "to"].contains(words[index]) || words[index].hasSuffix(",") {
            index -= 1
        }
        guard index < words.count - 1, index >= 2 else { return nil }
        // The compared field, through relations: `account.industry =` completes industries.
        var parts = words[index].split(separator: ".").map(String.init)
        if parts.count > 1, parts[0] == entity.name || parts[0] == entity.singular { parts.removeFirst() }
        var holder = entity
        for part in parts.dropLast() {
            guard let relation = holder.relation(named: part) ?? holder.field(named: part),
                let target = relation.referencedEntity, let next = CRMSchema.entity(named: target)
            else { return nil }
            holder = next
        }
        guard let name = parts.last, let field = holder.field(named: name) ?? holder.relation(named: name) else { return nil }
        switch field.type {
        case .enumeration(let values): return values
        case .reference("users"): return vocabulary.users + ["me"]
        default: return nil
        }
    }

    private func entity(in words: [String]) -> EntityDefinition? {
        guard words.count >= 2 else { return nil }
        let name = words[1].split(separator: ".").first.map(String.init) ?? words[1]
        if name == "audit" { return CRMSchema.entity(named: "audit_log") }
        return CRMSchema.entity(named: name)
    }

    /// After `account.` complete the account's fields; follows several hops.
    private func fieldsAfterPath(_ before: String, root: EntityDefinition) -> [String] {
        let tail = before.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "," || $0 == "=" }).last.map(String.init) ?? ""
        var entity = root
        for part in tail.split(separator: ".").map(String.init) {
            if part == root.name || part == root.singular { continue }
            guard let relation = entity.relation(named: part) ?? entity.field(named: part),
                let target = relation.referencedEntity, let next = CRMSchema.entity(named: target)
            else { return [] }
            entity = next
        }
        return Catalog.fieldNames(of: entity)
    }
}
