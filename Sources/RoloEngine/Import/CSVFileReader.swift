import Crypto
import Foundation

/// A streaming RFC 4180 reader over a file's bytes: records of fields, read a megabyte at a
/// time, so a file of any size is read in constant memory. UTF-8 with or without a byte order
/// mark; comma, semicolon or tab separated (detected from the header line, or given); quoted
/// fields may hold separators, doubled quotes and line breaks; CRLF, LF or CR line ends.
///
/// Why not yaslab/CSV.swift (2.5.2): on a generated 1,000,000-row, 15-column contacts file
/// (179 MB, release builds, this machine) its `CSVReader` read 83,000 rows/s (12.1 s), iterating
/// Unicode scalars through an `AnyIterator`; this reader, scanning bytes in place and making one
/// `String` per field, read 750,000 rows/s (1.3 s, 20 MB peak) — the library alone would take
/// several times the whole import's budget (docs/performance.md).
///
/// Every byte read is fed to a SHA-256 hasher, so the import's audit entry can name the file's
/// digest without reading it twice.
final class CSVFileReader {
    enum Failure: Error, Equatable {
        /// A quoted field never closed; the line it began on.
        case unclosedQuote(line: Int)
        /// Text after a closing quote other than a separator or a line end.
        case textAfterQuote(line: Int)
        /// Bytes that are not UTF-8.
        case notUTF8(line: Int)
        /// UTF-16 (a byte order mark, or NUL bytes in every other place of the first bytes).
        case utf16(encoding: String)
        case unreadable(String)
        /// A FIFO, a device, a folder: what it is (`/dev/zero` would never end).
        case notRegular(String)
        /// The first line runs past `maximumHeader` bytes.
        case headerTooLong
    }

    /// One record: its fields and the file line it starts on (1 is the first line).
    struct Record {
        var fields: [String]
        var line: Int
        /// The first field holding a NUL byte, which no path of Rolo stores (E111).
        var nulField: Int? = nil
    }

    /// The longest header line read: a header is a few hundred bytes; a megabyte of one is an
    /// attack or the wrong file, refused before it is read whole.
    static let maximumHeader = 1 << 20
    private var recordsRead = 0

    private(set) var separator: UInt8 = CSVFileReader.comma
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private var line = 1
    private(set) var hasher = SHA256()
    private(set) var bytesRead = 0
    private static let chunk = 1 << 20

    static let comma = UInt8(ascii: ","), semicolon = UInt8(ascii: ";"), tab = UInt8(ascii: "\t")
    private static let quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    /// Opens `path`; with no `separator`, the one of `,` `;` and tab found most often outside
    /// quotes in the first line is used (comma when none is).
    init(path: String, separator: UInt8?) throws {
        // Opened without waiting (a FIFO would block until a writer came), then held to be a
        // regular file: a device or a FIFO may never end.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure.unreadable(String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            let kind = info.st_mode & S_IFMT
            close(descriptor)
            switch kind {
            case S_IFDIR: throw Failure.notRegular("a folder")
            case S_IFIFO: throw Failure.notRegular("a FIFO")
            case S_IFCHR, S_IFBLK: throw Failure.notRegular("a device")
            default: throw Failure.notRegular("not a regular file")
            }
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        self.handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try fill()
        if let encoding = Self.utf16Encoding(buffer.prefix(64)) { throw Failure.utf16(encoding: encoding) }
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) {
            position = 3
        }
        let detected = Self.detectSeparator(buffer[position...])
        self.separator = separator ?? detected
    }

    deinit { try? handle.close() }

    /// A UTF-16 byte order mark (`UTF-16`), or text whose first bytes have NULs in alternate places
    /// (ASCII in UTF-16: `UTF-16LE` with them second, `UTF-16BE` first) and none in the others;
    /// iconv's name of the encoding, or nil.
    static func utf16Encoding(_ bytes: ArraySlice<UInt8>) -> String? {
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) { return "UTF-16" }
        guard bytes.count >= 4 else { return nil }
        var nuls = [0, 0]
        for (index, byte) in bytes.enumerated() where byte == 0 { nuls[index % 2] += 1 }
        let pairs = bytes.count / 2
        if nuls[0] == 0, nuls[1] * 2 >= pairs { return "UTF-16LE" }
        if nuls[1] == 0, nuls[0] * 2 >= pairs { return "UTF-16BE" }
        return nil
    }

    /// The hex SHA-256 of every byte read so far (the whole file once `next` returned nil).
    var digest: String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    private func fill() throws {
        // Keep what is not consumed yet, append the next chunk.
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        let data: Data
        do {
            data = try handle.read(upToCount: Self.chunk) ?? Data()
        } catch {
            throw Failure.unreadable(error.localizedDescription)
        }
        if data.isEmpty {
            atEnd = true
            return
        }
        hasher.update(data: data)
        bytesRead += data.count
        buffer.append(contentsOf: data)
    }

    private static func detectSeparator(_ bytes: ArraySlice<UInt8>) -> UInt8 {
        var counts: [UInt8: Int] = [comma: 0, semicolon: 0, tab: 0]
        var quoted = false
        for byte in bytes {
            if byte == quote {
                quoted.toggle()
            } else if !quoted, byte == lf || byte == cr {
                break
            } else if !quoted, counts[byte] != nil {
                counts[byte, default: 0] += 1
            }
        }
        // The most frequent; on a tie comma, then semicolon, then tab.
        let best = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }
        if let best, best.value > 0 { return best.key }
        return comma
    }

    /// The next record, or nil at the end of the file. A blank line yields a record of one empty field.
    func next() throws -> Record? {
        while true {
            if position >= buffer.count {
                if !atEnd { try fill() }
                if position >= buffer.count { return nil }
            }
            let final = atEnd
            let scanned = buffer.withUnsafeBufferPointer { scan($0, from: position, final: final) }
            switch scanned {
            case .record(let fields, let lines, let end, let nulField):
                if recordsRead == 0, end - position > Self.maximumHeader { throw Failure.headerTooLong }
                let record = Record(fields: fields, line: line, nulField: nulField)
                line += lines
                position = end
                recordsRead += 1
                return record
            case .incomplete:
                if recordsRead == 0, buffer.count - position > Self.maximumHeader { throw Failure.headerTooLong }
                // The record runs past what is read: read more and scan it again from its start.
                try fill()
            case .failure(let failure):
                throw failure
            }
        }
    }

    private enum Scan {
        case record([String], lines: Int, end: Int, nulField: Int?)
        case incomplete
        case failure(Failure)
    }

    /// One record from `start`, over the bytes read so far; `final` when the file has no more.
    private func scan(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, final: Bool) -> Scan {
        let (quote, cr, lf, sep) = (Self.quote, Self.cr, Self.lf, separator)
        var fields: [String] = []
        fields.reserveCapacity(fieldCount)
        var i = start
        var lines = 0
        var nulField: Int? = nil
        /// The record ends at `at` (a line end or the file's end); `end` is past its line end.
        func lineEnd(_ at: Int) -> Scan {
            if at >= buf.count { return final ? .record(fields, lines: lines, end: at, nulField: nulField) : .incomplete }
            if buf[at] == lf { return .record(fields, lines: lines + 1, end: at + 1, nulField: nulField) }
            if at + 1 < buf.count {
                return .record(fields, lines: lines + 1, end: buf[at + 1] == lf ? at + 2 : at + 1, nulField: nulField)
            }
            return final ? .record(fields, lines: lines + 1, end: at + 1, nulField: nulField) : .incomplete
        }
        /// Notes the field about to be appended if its bytes hold a NUL.
        func checkNUL(_ from: Int, _ to: Int) {
            if nulField == nil, to > from, memchr(buf.baseAddress! + from, 0, to - from) != nil { nulField = fields.count }
        }
        while true {
            if i >= buf.count {
                guard final else { return .incomplete }
                fields.append("")
                return .record(fields, lines: lines, end: i, nulField: nulField)
            }
            if buf[i] == quote {
                i += 1
                let fieldStart = i
                var escaped = false
                var closed = false
                while i < buf.count {
                    let byte = buf[i]
                    if byte == quote {
                        if i + 1 < buf.count {
                            if buf[i + 1] == quote {
                                escaped = true
                                i += 2
                                continue
                            }
                            closed = true
                            break
                        }
                        if final {
                            closed = true
                            break
                        }
                        return .incomplete
                    }
                    if byte == lf || (byte == cr && (i + 1 >= buf.count || buf[i + 1] != lf)) { lines += 1 }
                    i += 1
                }
                guard closed else { return final ? .failure(.unclosedQuote(line: line)) : .incomplete }
                guard var value = Self.string(buf, fieldStart, i) else { return .failure(.notUTF8(line: line + lines)) }
                checkNUL(fieldStart, i)
                if escaped { value = value.replacingOccurrences(of: "\"\"", with: "\"") }
                fields.append(value)
                i += 1
                if i < buf.count, buf[i] == sep {
                    i += 1
                    continue
                }
                if i < buf.count, buf[i] != lf, buf[i] != cr { return .failure(.textAfterQuote(line: line + lines)) }
                return lineEnd(i)
            }
            let fieldStart = i
            while i < buf.count {
                let byte = buf[i]
                if byte == sep || byte == lf || byte == cr { break }
                i += 1
            }
            if i >= buf.count, !final { return .incomplete }
            guard let value = Self.string(buf, fieldStart, i) else { return .failure(.notUTF8(line: line + lines)) }
            checkNUL(fieldStart, i)
            fields.append(value)
            if i < buf.count, buf[i] == sep {
                i += 1
                continue
            }
            return lineEnd(i)
        }
    }

    /// Room for a record's fields, reserved once per record.
    private let fieldCount = 16

    private static func string(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String? {
        if start == end { return "" }
        return String(validating: UnsafeBufferPointer(rebasing: buf[start..<end]), as: UTF8.self)
    }
}
