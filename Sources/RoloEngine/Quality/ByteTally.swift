import Foundation

/// Counts of the distinct values of one column, keyed by their bytes: the audit's spellings read
/// a million records without making a Swift string a value (issue 22, item 1). A string is made
/// once a distinct value, when the tally is read.
struct ByteTally {
    struct Entry {
        var start: Int
        var length: Int
        var hash: UInt64
        var count: Int
        var valuable: Int
        var first: Int64
    }

    private(set) var entries: [Entry] = []
    private var bytes: [UInt8] = []
    /// Open addressing: an entry's index plus one, 0 for a free slot.
    private var slots: [Int32] = Array(repeating: 0, count: 1024)

    var isEmpty: Bool { entries.isEmpty }

    /// Counts one record holding `value` (records come in record-number order, so an entry's
    /// first record is the first counted).
    @discardableResult
    mutating func add(_ value: UnsafeRawBufferPointer, id: Int64, valuable: Bool) -> Int {
        add(value, hash: Self.hash(value), count: 1, valuable: valuable ? 1 : 0, first: id)
    }

    /// Adds `count` records (`valuable` of them valuable, the first `first`) holding `value`;
    /// returns its entry's index.
    private mutating func add(_ value: UnsafeRawBufferPointer, hash: UInt64, count: Int, valuable: Int, first: Int64) -> Int {
        let mask = slots.count - 1
        var slot = Self.slot(hash) & mask
        while true {
            let index = Int(slots[slot])
            if index == 0 { break }
            let entry = entries[index - 1]
            if entry.hash == hash, entry.length == value.count, equal(entry, value) {
                entries[index - 1].count += count
                entries[index - 1].valuable += valuable
                return index - 1
            }
            slot = (slot + 1) & mask
        }
        entries.append(Entry(start: bytes.count, length: value.count, hash: hash, count: count, valuable: valuable, first: first))
        bytes.append(contentsOf: value)
        slots[slot] = Int32(entries.count)
        if entries.count * 2 > slots.count { grow() }
        return entries.count - 1
    }

    /// Counts one more valuable record holding entry `index`'s value.
    mutating func countValuable(_ index: Int) { entries[index].valuable += 1 }

    /// Adds another tally of records numbered after this one's; returns where each of its entries
    /// went.
    mutating func merge(_ other: ByteTally) -> [Int] {
        var moved: [Int] = []
        moved.reserveCapacity(other.entries.count)
        for entry in other.entries {
            moved.append(other.withBytes(entry) { add($0, hash: entry.hash, count: entry.count, valuable: entry.valuable, first: entry.first) })
        }
        return moved
    }

    private static func slot(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: (hash >> 32) ^ hash) }

    private func equal(_ entry: Entry, _ value: UnsafeRawBufferPointer) -> Bool {
        bytes.withUnsafeBufferPointer { stored in
            guard let base = stored.baseAddress, let other = value.baseAddress else { return entry.length == 0 }
            return memcmp(base + entry.start, other, entry.length) == 0
        }
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, entry) in entries.enumerated() {
            var slot = Self.slot(entry.hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }

    /// An entry's bytes.
    func withBytes<T>(_ entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[entry.start..<(entry.start + entry.length)])) }
    }

    /// An entry's value as a string, decoded as GRDB decodes text (invalid UTF-8 repaired).
    func string(_ entry: Entry) -> String {
        withBytes(entry) { String(decoding: $0, as: UTF8.self) }
    }

    /// FNV-1a, 8 bytes at a time where it can.
    static func hash(_ value: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var offset = 0
        let count = value.count
        while offset + 8 <= count {
            let word = value.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            hash = (hash ^ word) &* 0x0000_0100_0000_01b3
            hash ^= hash >> 29
            offset += 8
        }
        while offset < count {
            hash = (hash ^ UInt64(value[offset])) &* 0x0000_0100_0000_01b3
            offset += 1
        }
        hash ^= hash >> 32
        return hash &* 0x9E37_79B9_7F4A_7C15
    }
}
