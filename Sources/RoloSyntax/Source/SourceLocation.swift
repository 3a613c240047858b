/// A position in source text: byte offset plus 1-based line and column (in characters).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let offset: Int
    public let line: Int
    public let column: Int

    @inlinable
    public init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    public static let start = SourceLocation(offset: 0, line: 1, column: 1)

    public var description: String { "\(line):\(column)" }

    @inlinable
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool { a.offset < b.offset }
}

/// A half-open range of source text, from `start` up to (not including) `end`.
public struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    public let start: SourceLocation
    public let end: SourceLocation

    @inlinable
    public init(_ start: SourceLocation, _ end: SourceLocation) {
        self.start = start
        self.end = end
    }

    /// The smallest range covering both.
    @inlinable
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(min(start, other.start), max(end, other.end))
    }

    public var description: String { start.description }
}

/// A value with the source range it came from.
public struct Located<Value: Sendable>: Sendable {
    public let value: Value
    public let range: SourceRange

    @inlinable
    public init(_ value: Value, _ range: SourceRange) {
        self.value = value
        self.range = range
    }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}
