/// Integers written in decimal straight into a byte buffer, spelled exactly as `String(value)`
/// spells them: for the paths that build bytes for every row or command (the CSV export, the
/// audit digest) without a String per number.
enum DecimalBytes {
    static func append(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value.magnitude  // Int64.min's magnitude fits UInt64
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Writes `value` at `start`, which has room for `count(value)` bytes; returns that count.
    static func write(_ value: Int64, at start: UnsafeMutablePointer<UInt8>) -> Int {
        let count = count(value)
        var rest = value.magnitude
        var index = count
        repeat {
            index -= 1
            (start + index).initialize(to: UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        if value < 0 { start.initialize(to: UInt8(ascii: "-")) }
        return count
    }

    /// How many bytes `append` writes for `value`, sign included.
    static func count(_ value: Int64) -> Int {
        var rest = value.magnitude
        var count = value < 0 ? 2 : 1
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}
