import Foundation
import RoloStore
import RoloSyntax

/// `set pager on|off|"COMMAND"`: in the interactive shell on a terminal, output longer than the
/// screen goes through a pager. Never in scripts, `-c` or when piped.
public enum PagerSetting: Sendable, Equatable {
    case off
    /// `$PAGER`, or `less -FRX` when it is not set.
    case on
    /// A pager command of its own, run by `/bin/sh -c`.
    case command(String)

    public static let defaultCommand = "less -FRX"

    /// The command to run, or nil when paging is off.
    public func command(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        switch self {
        case .off: return nil
        case .on:
            let pager = environment["PAGER"]?.trimmingCharacters(in: .whitespaces) ?? ""
            return pager.isEmpty ? Self.defaultCommand : pager
        case .command(let command): return command
        }
    }

    /// As written in `set pager` and the settings file.
    public var text: String {
        switch self {
        case .off: return "off"
        case .on: return "on"
        case .command(let command): return command
        }
    }
}

/// `set color auto|on|off`: colours in error messages. `auto` colours on a terminal unless
/// `NO_COLOR` is set (and not empty); `on` colours on a terminal even then (a user's own
/// setting overrides `NO_COLOR`, as no-color.org asks); `off` never. Never into a pipe or file.
public enum ColorSetting: String, Sendable, CaseIterable {
    case auto, on, off
}

extension Session {
    /// The settings `set` knows.
    public static let settingNames = ["confirm", "format", "pager", "color", "region", "busy_timeout"]
    /// The settings the interactive shell keeps in the settings file when `set` changes them.
    public static let savedSettingNames: Set<String> = ["confirm", "format", "pager", "color", "region"]

    /// `set NAME VALUE`: checks and applies a setting.
    /// - Returns: what the shell says about it.
    @discardableResult
    public func applySetting(name: Located<String>, value: Located<String>) throws -> String {
        switch Self.canonicalSettingName(name.value) {
        case "confirm":
            guard let n = Int(value.value), n >= 0 else {
                throw Diagnostic(.invalidValue, "confirm takes a number of records", at: value.range)
            }
            settings.confirmThreshold = n
            return "changes of more than \(n) records will ask first"
        case "format":
            guard let format = OutputFormat(rawValue: value.value.lowercased()) else {
                throw Diagnostic(.invalidValue, "unknown format '\(value.value)'", at: value.range, help: "formats are table, csv and json")
            }
            if format == .bars {
                throw Diagnostic(
                    .invalidValue, "bars cannot be the default format: it draws one grouped count or sum", at: value.range,
                    help: "ask for it on the command: count deals by stage as bars")
            }
            settings.format = format
            return "output format is \(format.rawValue)"
        case "pager":
            let text = value.value.trimmingCharacters(in: .whitespaces)
            switch text.lowercased() {
            case "off": settings.pager = .off
            case "on": settings.pager = .on
            case "":
                throw Diagnostic(.invalidValue, "pager takes on, off or a command", at: value.range, help: "e.g. set pager \"less -S\"")
            default: settings.pager = .command(text)
            }
            guard let command = settings.pager.command() else { return "pager is off: long output is shown directly" }
            return "pager is on: in the shell, output longer than the screen goes through \(command)"
        case "color":
            guard let color = ColorSetting(rawValue: value.value.lowercased()) else {
                throw Diagnostic(.invalidValue, "color takes auto, on or off", at: value.range)
            }
            settings.color = color
            switch color {
            case .auto: return "color is auto: errors are coloured on a terminal unless NO_COLOR is set"
            case .on: return "color is on: errors are coloured on a terminal, NO_COLOR or not"
            case .off: return "color is off"
            }
        case "region":
            let code = value.value.trimmingCharacters(in: .whitespaces).uppercased()
            guard let callingCode = Normalizer.callingCode(code) else {
                throw Diagnostic(
                    .invalidValue, "unknown region '\(value.value)'", at: value.range,
                    help: "regions are country codes: " + Normalizer.regions.joined(separator: ", "))
            }
            settings.region = code
            return "national phone numbers are read as \(code)'s (+\(callingCode))"
        case "busy_timeout":
            guard let seconds = Double(value.value), seconds >= 0, seconds <= 86_400 else {
                throw Diagnostic(.invalidValue, "busy_timeout takes seconds, from 0 to 86400", at: value.range)
            }
            busy.timeout = seconds
            return "changes wait up to \(value.value) s for another writer"
        default:
            throw Diagnostic(
                .unknownOption, "unknown setting '\(name.value)'", at: name.range,
                help: Suggestions.nearest(to: name.value, in: Self.settingNames).map { "did you mean '\($0)'?" }
                    ?? "settings are " + Self.settingNames.joined(separator: ", "))
        }
    }

    /// `colour` is `color`.
    public static func canonicalSettingName(_ name: String) -> String {
        let name = name.lowercased()
        return name == "colour" ? "color" : name
    }

    /// A setting the shell keeps in the settings file, with its current value as the file holds
    /// it; nil for settings not kept (busy_timeout is about one database, not a person's taste).
    public func savedSetting(named name: String) -> (name: String, value: String)? {
        let name = Self.canonicalSettingName(name)
        guard Self.savedSettingNames.contains(name) else { return nil }
        switch name {
        case "confirm": return (name, String(settings.confirmThreshold))
        case "format": return (name, (settings.format ?? .table).rawValue)
        case "pager": return (name, settings.pager.text)
        case "color": return (name, settings.color.rawValue)
        case "region": return settings.region.map { (name, $0) }
        default: return nil
        }
    }
}
