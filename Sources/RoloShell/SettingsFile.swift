import Foundation
import RoloEngine
import RoloSyntax

/// The settings the interactive shell keeps between sessions: `$XDG_CONFIG_HOME/rolo/config`
/// (`~/.config/rolo/config` by default), one `name = value` a line, `#` comments.
///
/// ```
/// # Rolo's settings: `set` in the interactive shell writes them; edit freely.
/// confirm = 10
/// pager = less -S
/// color = off
/// ```
///
/// The interactive shell reads it at start (before `--format`, which wins) and rewrites one line
/// when `set` changes confirm, format, pager or color; scripts, `-c` and piped input neither read
/// nor write it. Lines it does not know stay as they are.
public struct SettingsFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The file for this environment: under `$XDG_CONFIG_HOME` when it is set to an absolute
    /// path (the XDG rule), else under `$HOME/.config`.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> SettingsFile? {
        if let base = environment["XDG_CONFIG_HOME"], base.hasPrefix("/") {
            return SettingsFile(path: base + "/rolo/config")
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return SettingsFile(path: home + "/.config/rolo/config")
    }

    /// One setting read from the file, with its line number.
    public struct Entry: Equatable, Sendable {
        public let line: Int
        public let name: String
        public let value: String
    }

    /// Parses the file's text: settings, and the numbers of lines that are not `name = value`.
    public static func parse(_ text: String) -> (entries: [Entry], malformed: [Int]) {
        var entries: [Entry] = []
        var malformed: [Int] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equal = line.firstIndex(of: "=") else {
                malformed.append(index + 1)
                continue
            }
            let name = line[..<equal].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equal)...].trimmingCharacters(in: .whitespaces)
            // Quotes around a value, as `set` takes them, are not part of it.
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            guard !name.isEmpty else {
                malformed.append(index + 1)
                continue
            }
            entries.append(Entry(line: index + 1, name: name, value: value))
        }
        return (entries, malformed)
    }

    /// The text with `name` set to `value`: its line replaced in place (later duplicates dropped),
    /// or appended; comments and other lines kept.
    public static func updating(_ text: String, name: String, value: String) -> String {
        var lines = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if lines.isEmpty { lines.append("# Rolo's settings: `set` in the interactive shell writes them; edit freely.") }
        let entry = "\(name) = \(value)"
        var replaced = false
        lines = lines.compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let equal = trimmed.firstIndex(of: "="),
                Session.canonicalSettingName(trimmed[..<equal].trimmingCharacters(in: .whitespaces)) == name
            else { return line }
            if replaced { return nil }
            replaced = true
            return entry
        }
        if !replaced { lines.append(entry) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Applies the file's settings to `engine`; returns warnings (`PATH:LINE: …`) for lines that
    /// are not settings or values `set` refuses. A missing file is no warning.
    public func load(into engine: Engine) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let (entries, malformed) = Self.parse(String(decoding: data, as: UTF8.self))
        var warnings = malformed.map { "\(path):\($0): not a setting (write name = value)" }
        let here = SourceRange(.start, .start)
        for entry in entries {
            do {
                try engine.session.applySetting(name: Located(entry.name, here), value: Located(entry.value, here))
            } catch let diagnostic as Diagnostic {
                warnings.append("\(path):\(entry.line): \(diagnostic.message)" + (diagnostic.help.map { " (\($0))" } ?? ""))
            } catch {
                warnings.append("\(path):\(entry.line): \(error)")
            }
        }
        return warnings
    }

    /// Writes one setting, keeping the rest of the file. The folder is created (mode 0700, as
    /// XDG asks) if missing; the file is replaced whole (a temporary file renamed over it), so a
    /// crash leaves the old file or the new one.
    public func save(name: String, value: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let old = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let text = Self.updating(old, name: name, value: value)
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: reason])
        }
    }
}
