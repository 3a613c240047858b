/// The commands the parser knows: for each verb, the parse functions of the commands it starts.
///
/// RoloSyntax parses the shared grammar (conditions, values, paths, keys, assignments, options);
/// the commands themselves are declared in RoloEngine, one type per command, and their
/// registry builds the grammar the parser dispatches on.
public struct Grammar: Sendable {
    /// Parses a command after its words (`merge`, or `create user`) were read; the first word's
    /// token is passed for ranges and messages.
    public typealias Rule = @Sendable (inout Parser, Token) throws(Diagnostic) -> any CommandSyntax

    public struct Form: Sendable {
        /// The words that start the command: one (`merge`), or two (`create user`), the second
        /// read only when the word after it is not `=` (`create user …`, not `create user=…`).
        public let words: [String]
        public let rule: Rule

        public init(words: [String], rule: @escaping Rule) {
            self.words = words
            self.rule = rule
        }
    }

    /// Forms by first word, two-word forms first.
    let forms: [String: [Form]]
    /// Every first word, in the registry's order: for "did you mean" and completion.
    public let verbs: [String]

    public init(_ forms: [Form]) {
        var byVerb: [String: [Form]] = [:]
        var verbs: [String] = []
        for form in forms {
            guard let first = form.words.first else { continue }
            if byVerb[first] == nil { verbs.append(first) }
            byVerb[first, default: []].append(form)
        }
        self.forms = byVerb.mapValues { $0.sorted { $0.words.count > $1.words.count } }
        self.verbs = verbs
    }
}
