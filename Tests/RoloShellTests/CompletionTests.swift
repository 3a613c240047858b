import RoloEngine
import RoloStore
import RoloSyntax
import Testing

@testable import RoloShell

/// Tab completion without a terminal: what the completer offers and what Tab does with it.
@Suite("Completion")
struct CompletionTests {
    let completer: Completer = {
        var vocabulary = Vocabulary()
        vocabulary.users = ["alice", "bob", "carol"]
        vocabulary.roles = ["admin", "sales_rep"]
        return Completer(vocabulary: vocabulary)
    }()

    @Test func offersWhatFitsWhereTheCursorIs() {
        #expect(completer.candidates(for: "fi") == ["find"])
        #expect(completer.candidates(for: "count con") == ["contacts"])
        #expect(completer.candidates(for: "show con").contains("contact"))
        #expect(completer.candidates(for: "find contacts where emai") == ["email"])
        #expect(completer.candidates(for: "find contacts where account.na") == ["name"])
        #expect(completer.candidates(for: "find deals where stage = w") == ["won"])
        #expect(completer.candidates(for: "find deals where owner = c") == ["carol"])
        #expect(completer.candidates(for: "grant sa") == ["sales_rep"])
        #expect(completer.candidates(for: "help upd") == ["update"])
        // Hints follow the form: `rules` takes an entity, `drop rule` a number, `drop` a role's word.
        #expect(completer.candidates(for: "rules con") == ["contacts"])
        #expect(completer.candidates(for: "check rules de") == ["deals"])
        #expect(!completer.candidates(for: "drop rule c").contains("contacts"))
        // Enum values and users through relation paths.
        #expect(completer.candidates(for: "find contacts where account.industry = so") == ["software"])
        #expect(completer.candidates(for: "count activities where deal.stage = neg") == ["negotiation"])
        #expect(completer.candidates(for: "find tasks where deal.owner = ca") == ["carol"])
        // Every command the parser accepts is offered at the start of a line.
        for command in Parser.commands { #expect(completer.candidates(for: command).contains(command), "\(command)") }
    }

    @Test func tabInsertsTheCommonPartOrLists() {
        #expect(TabCompletion(lineBeforeCursor: "fi", candidates: ["find"]) == .replace(partialLength: 2, with: "find "))
        #expect(TabCompletion(lineBeforeCursor: "co", candidates: ["count", "contacts"]) == .list(["count", "contacts"]))
        #expect(TabCompletion(lineBeforeCursor: "con", candidates: ["contact", "contacts"]) == .replace(partialLength: 3, with: "contact"))
        #expect(TabCompletion(lineBeforeCursor: "zz", candidates: []) == TabCompletion.none)
        #expect(TabCompletion.partialWord("find contacts where account.na") == "na")
    }
}
