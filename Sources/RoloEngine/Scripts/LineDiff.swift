import Foundation

/// A line diff for people: `-` removed, `+` added, two lines of context around each change, `…`
/// for the lines between.
enum LineDiff {
    static func lines(from old: String, to new: String, context: Int = 2) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = b.difference(from: a)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        // Every line in order, marked; then unchanged lines far from a change are elided.
        var marked: [(mark: Character, text: String)] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, removed.contains(i) {
                marked.append(("-", a[i]))
                i += 1
            } else if j < b.count, inserted.contains(j) {
                marked.append(("+", b[j]))
                j += 1
            } else {
                if i < a.count { marked.append((" ", a[i])) }
                i += 1
                j += 1
            }
        }
        let changed = marked.indices.filter { marked[$0].mark != " " }
        var out: [String] = []
        var elided = false
        for (index, line) in marked.enumerated() {
            let near = context >= marked.count || changed.contains { abs($0 - index) <= context }
            if near {
                out.append("\(line.mark) \(line.text)")
                elided = false
            } else if !elided {
                out.append("  …")
                elided = true
            }
        }
        return out
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// The line diff `diff script` prints, every line shown (for tests).
public func scriptDiffLines(from old: String, to new: String) -> [String] {
    LineDiff.lines(from: old, to: new, context: Int.max / 2)
}
