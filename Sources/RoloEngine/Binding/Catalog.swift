import RoloStore
import RoloSyntax

/// Name lookups against the declared schema, with "did you mean" on failure.
public enum Catalog {
    /// Entities the language can name (domain, security and system tables).
    public static var entities: [EntityDefinition] { CRMSchema.entities }

    /// Every spelling of every entity: plural and singular.
    public static var entityNames: [String] {
        entities.flatMap { [$0.name, $0.singular] } + ["audit"]
    }

    /// Resolves `contacts`, `contact` (and `audit` for the audit log).
    public static func entity(_ name: EntityName) throws(Diagnostic) -> EntityDefinition {
        if name.value == "audit", let log = CRMSchema.entity(named: "audit_log") { return log }
        if let entity = CRMSchema.entity(named: name.value) { return entity }
        var help = "entities are " + CRMSchema.entities.filter { $0.kind == .domain }.map(\.name).joined(separator: ", ")
        if let near = Suggestions.nearest(to: name.value, in: entityNames) {
            help = "did you mean '\(near)'?"
        }
        throw Diagnostic(.unknownEntity, "unknown entity '\(name.value)'", at: name.range, help: help)
    }

    /// The names a user may write after an entity: fields and relation names.
    public static func fieldNames(of entity: EntityDefinition) -> [String] {
        entity.fields.map(\.name) + entity.fields.compactMap(\.relationName)
    }
}
