import Foundation
import RoloEngine

/// What Tab does to a line, worked out from the text before the cursor and the provider's
/// candidates — without a terminal, so it can be tested on its own.
enum TabCompletion: Equatable {
    /// Nothing to complete: beep.
    case none
    /// Replace the last `partialLength` characters (Unicode scalars, as libedit counts them)
    /// before the cursor by `text`.
    case replace(partialLength: Int, with: String)
    /// Several candidates and nothing more in common: show them.
    case list([String])

    /// Where a word starts: after whitespace, and after `.`, `(`, `,`, `=` (so `account.na`
    /// completes `name`), and after the comparison signs.
    static let boundaries: Set<Character> = [" ", "\t", "\n", ".", "(", ",", "=", "<", ">", "!"]

    /// The part of the word being typed at the end of `lineBeforeCursor`.
    static func partialWord(_ lineBeforeCursor: String) -> Substring {
        let start =
            lineBeforeCursor.lastIndex(where: { boundaries.contains($0) })
            .map { lineBeforeCursor.index(after: $0) } ?? lineBeforeCursor.startIndex
        return lineBeforeCursor[start...]
    }

    init(lineBeforeCursor: String, candidates: [String]) {
        let partial = String(Self.partialWord(lineBeforeCursor))
        var seen = Set<String>()
        let words = candidates.filter { !$0.isEmpty && seen.insert($0).inserted }
        guard let first = words.first else {
            self = .none
            return
        }
        let length = partial.unicodeScalars.count
        if words.count == 1 {
            // One candidate: the whole word, and a space to go on typing.
            self = .replace(partialLength: length, with: first + " ")
            return
        }
        let common = Self.commonPrefix(words)
        // Extend the typed word only when the common part really continues it (ignoring case,
        // as the provider may); otherwise typed characters would be lost.
        if common.count > partial.count, common.lowercased().hasPrefix(partial.lowercased()) {
            self = .replace(partialLength: length, with: common)
        } else {
            self = .list(words)
        }
    }

    /// The longest prefix (in characters) all words share.
    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    /// Words in columns that fit `width`, filled top to bottom, one string with a newline after
    /// each row.
    static func columns(_ words: [String], width: Int) -> String {
        guard !words.isEmpty else { return "" }
        let cell = (words.map(DisplayWidth.of).max() ?? 0) + 2
        let columnCount = max(1, min(words.count, max(width - 1, 1) / cell))
        let rowCount = (words.count + columnCount - 1) / columnCount
        var text = ""
        for row in 0..<rowCount {
            var line = ""
            for column in 0..<columnCount {
                let index = column * rowCount + row
                guard index < words.count else { break }
                line += DisplayWidth.pad(words[index], to: cell)
            }
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}
