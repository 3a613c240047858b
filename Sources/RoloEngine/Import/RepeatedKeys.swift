import GRDB

/// The rows that may repeat an earlier row's key, found while the rows are read.
///
/// Each staged key is hashed — text folded as SQLite's NOCASE folds it (ASCII letters only), so
/// keys SQLite finds equal hash alike — and a row whose hash an earlier row had is a candidate.
/// A row that is no candidate cannot repeat a key; candidates are then checked exactly in SQL
/// (`ImportJob.match`). A clean file of a million rows has no candidates and needs no index on
/// its keys; the set-based check it replaces (an index on the staged keys, then a lookup per row)
/// took 0.26 s per 200,000 rows.
struct RepeatedKeys {
    private var seen = Set<UInt64>()
    /// Lines of rows whose key's hash an earlier row had, in file order.
    private(set) var candidates: [Int] = []
    let foldsCase: Bool

    init(foldsCase: Bool) { self.foldsCase = foldsCase }

    mutating func note(_ key: DatabaseValue, line: Int) {
        let hash: UInt64
        switch key.storage {
        case .null: return
        case .string(let text): hash = Self.hash(text.utf8, foldsCase: foldsCase)
        case .int64(let number): hash = Self.hash(number)
        case .double(let number):
            // SQLite finds 5 and 5.0 equal.
            if let exact = Int64(exactly: number) { hash = Self.hash(exact) } else { hash = Self.hash(number.bitPattern ^ 0x5851_F42D) }
        case .blob(let data): hash = Self.hash(data, foldsCase: false) ^ 0x1405_7B7E
        }
        if !seen.insert(hash).inserted { candidates.append(line) }
    }

    /// FNV-1a over the bytes, ASCII upper case folded to lower when `foldsCase`.
    static func hash(_ bytes: some Sequence<UInt8>, foldsCase: Bool) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for var byte in bytes {
            if foldsCase, byte >= 0x41, byte <= 0x5A { byte |= 0x20 }
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    private static func hash(_ number: some FixedWidthInteger) -> UInt64 {
        withUnsafeBytes(of: number.littleEndian) { hash($0, foldsCase: false) } ^ 0x9E37_79B9
    }
}
