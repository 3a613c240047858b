/// "Did you mean" from edit distance, as swift-argument-parser does.
public enum Suggestions {
    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    public static func nearest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lower = word.lowercased()
        let length = lower.unicodeScalars.count
        let limit = max(1, min(3, lower.count / 3 + 1))
        var best: (String, Int)?
        for candidate in candidates {
            // The distance is at least the difference in length: a far longer or shorter word
            // (a megabyte-long CSV header) is never measured, only skipped.
            let folded = candidate.lowercased()
            if abs(folded.unicodeScalars.count - length) > limit { continue }
            let distance = editDistance(lower, folded)
            if let current = best, current.1 <= distance { continue }
            best = (candidate, distance)
        }
        if let (name, distance) = best, distance <= limit { return name }
        // A prefix is a good hint too: "contac" → "contacts".
        if lower.count >= 3, let prefixed = candidates.first(where: { $0.lowercased().hasPrefix(lower) }) {
            return prefixed
        }
        return nil
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
