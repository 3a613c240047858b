import GRDB
import RoloStore
import RoloSyntax

/// Turns stored values into text: formatted for people in tables, raw in CSV and JSON.
public enum ValueFormatter {
    /// For tables: money as `$1,234.56`, timestamps as `2026-11-22 10:00`, booleans as yes/no;
    /// text through the terminal sanitiser (`TerminalText.safe`: controls as `�`, tabs and line
    /// breaks as spaces), so a value shown to a person cannot act on the terminal or leave its line.
    public static func display(_ value: DatabaseValue, _ type: FieldType?) -> String {
        switch value.storage {
        case .null: return ""
        case .int64(let i):
            switch type {
            case .money: return money(i)
            case .duration: return duration(seconds: i)
            case .boolean: return i == 0 ? "no" : "yes"
            default: return String(i)
            }
        case .double(let d):
            if type == .money { return money(Int64(d.rounded())) }
            if type == .duration, d.isFinite, abs(d) < 9e18 { return duration(seconds: Int64(d.rounded())) }
            return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(format: "%.2f", d)
        case .string(let s):
            if type == .timestamp, s.count == 20, s.hasSuffix("Z") {
                // 2026-11-22T10:00:00Z → 2026-11-22 10:00
                return TerminalText.safe(String(s.prefix(10)) + " " + String(s.dropFirst(11).prefix(5)))
            }
            return TerminalText.safe(s)
        case .blob(let data): return "<\(data.count) bytes>"
        }
    }

    /// Stored text that is not a field's value (a record's title) as display text: sanitised as
    /// `display` sanitises text.
    public static func display(_ text: String) -> String { TerminalText.safe(text) }

    /// For CSV: money as a plain decimal (1234.56), everything else as stored.
    public static func raw(_ value: DatabaseValue, _ type: FieldType?) -> String {
        switch value.storage {
        case .null: return ""
        case .int64(let i): return type == .money ? decimal(i) : String(i)
        case .double(let d): return type == .money ? decimal(Int64(d.rounded())) : String(d)
        case .string(let s): return s
        case .blob(let data): return data.base64EncodedString()
        }
    }

    /// For JSON: a JSON literal.
    public static func json(_ value: DatabaseValue, _ type: FieldType?) -> String {
        switch value.storage {
        case .null: return "null"
        case .int64(let i):
            if type == .money { return decimal(i) }
            if type == .boolean { return i == 0 ? "false" : "true" }
            return String(i)
        case .double(let d): return type == .money ? decimal(Int64(d.rounded())) : (d.isFinite ? String(d) : "null")
        case .string(let s): return jsonString(s)
        case .blob(let data): return jsonString(data.base64EncodedString())
        }
    }

    /// `3 days 4 hours`, `5 hours 12 minutes`, `40 minutes` (CSV and JSON give the seconds).
    public static func duration(seconds: Int64) -> String {
        let negative = seconds < 0
        let total = seconds.magnitude
        let (days, hours, minutes) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60)
        func unit(_ n: UInt64, _ name: String) -> String { "\(n) \(name)\(n == 1 ? "" : "s")" }
        var parts: [String]
        if days > 0 {
            parts = [unit(days, "day")] + (hours > 0 ? [unit(hours, "hour")] : [])
        } else if hours > 0 {
            parts = [unit(hours, "hour")] + (minutes > 0 ? [unit(minutes, "minute")] : [])
        } else {
            parts = [unit(minutes, "minute")]
        }
        return (negative ? "-" : "") + parts.joined(separator: " ")
    }

    public static func money(_ cents: Int64) -> String {
        let negative = cents < 0
        let magnitude = cents.magnitude
        var whole = String(magnitude / 100)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        let fraction = magnitude % 100
        return (negative ? "-$" : "$") + whole + grouped + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    static func decimal(_ cents: Int64) -> String {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return (cents < 0 ? "-" : "") + String(magnitude / 100) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// A JSON string literal. Control characters (C0 and C1, DEL), the bidi overrides and the line
    /// and paragraph separators are written as `\u` escapes: the same text to a JSON reader, and
    /// inert on a terminal.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if TerminalText.isControl(scalar) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Quotes a CSV field when it needs it (RFC 4180).
    public static func csvField(_ s: String, separator: UInt8 = 0x2C) -> String {
        var needsQuotes = false
        for byte in s.utf8 where byte == separator || byte == 0x22 || byte == 0x0A || byte == 0x0D {
            needsQuotes = true
            break
        }
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
