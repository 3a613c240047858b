import Foundation
import RoloEngine
import RoloSyntax
import RoloTestSupport
import Testing

@testable import RoloShell

/// A pager that keeps what it is given; `quitAfter` bytes, it is "quit" (writes fail).
final class FakePager: PagerSink {
    var text = ""
    var closed = 0
    var quitAfter: Int? = nil

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let quitAfter, text.utf8.count >= quitAfter { return false }
        text += String(decoding: bytes, as: UTF8.self)
        return true
    }

    func close() { closed += 1 }
}

/// The pager decision and the settings file, without a terminal
/// (scripts/test-terminal checks them in tmux).
@Suite("Session")
struct SessionTests {
    func lines(_ count: Int, from start: Int = 1) -> String {
        (start..<start + count).map { "line \($0)\n" }.joined()
    }

    @Test func outputThatFitsTheScreenIsNotPaged() {
        let direct = StringOutput(isTerminal: true)
        var started = 0
        let paged = PagedOutput(direct: direct, rows: 10, width: 80) {
            started += 1
            return FakePager()
        }
        paged.write(lines(9))  // nine lines and the prompt: the screen
        paged.finish()
        #expect(started == 0)
        #expect(direct.text == lines(9))
    }

    @Test func outputLongerThanTheScreenGoesThroughThePager() {
        let direct = StringOutput(isTerminal: true)
        let pager = FakePager()
        var started = 0
        let paged = PagedOutput(direct: direct, rows: 10, width: 80) {
            started += 1
            return pager
        }
        for n in 1...1000 { paged.write("line \(n)\n") }
        #expect(started == 1)
        paged.finish()
        #expect(pager.text == lines(1000))
        #expect(pager.closed >= 1)
        #expect(direct.text.isEmpty)
        #expect(paged.paged)
        // After finish, output starts afresh: a short answer is shown directly.
        paged.write("ok\n")
        paged.finish()
        #expect(direct.text == "ok\n")
        #expect(started == 1)
    }

    @Test func linesThatWrapCountAsSeveral() {
        let direct = StringOutput(isTerminal: true)
        let pager = FakePager()
        let paged = PagedOutput(direct: direct, rows: 4, width: 80) { pager }
        paged.write(String(repeating: "x", count: 250) + "\n")  // four screen lines
        paged.finish()
        #expect(direct.text.isEmpty)
        #expect(pager.text.count == 251)
        // Wide characters fill a line twice as fast.
        let direct2 = StringOutput(isTerminal: true)
        let paged2 = PagedOutput(direct: direct2, rows: 4, width: 80) { FakePager() }
        paged2.write(String(repeating: "東", count: 100) + "\n")  // 200 columns: three lines, and the prompt
        paged2.finish()
        #expect(direct2.text.count == 101)
    }

    @Test func aPagerThatCannotStartLeavesOutputDirect() {
        let direct = StringOutput(isTerminal: true)
        let paged = PagedOutput(direct: direct, rows: 5, width: 80) { nil }
        paged.write(lines(50))
        paged.finish()
        #expect(direct.text == lines(50))
    }

    @Test func quittingThePagerDropsTheRestAndSaysSo() {
        let direct = StringOutput(isTerminal: true)
        let pager = FakePager()
        pager.quitAfter = 1
        var gone = 0
        let paged = PagedOutput(direct: direct, rows: 5, width: 80) { pager }
        paged.onPagerGone = { gone += 1 }
        for n in 1...200_000 { paged.write("line \(n)\n") }
        #expect(gone == 1)
        #expect(paged.pagerQuitEarly)
        paged.finish()
        #expect(direct.text.isEmpty)
        #expect(pager.text.hasPrefix("line 1\n") && !pager.text.contains("line 200000"))
    }

    @Test func pagerSettings() throws {
        let engine = try SampleDatabase.engine()
        #expect(engine.session.settings.pager == .on)
        #expect(PagerSetting.on.command(environment: [:]) == "less -FRX")
        #expect(PagerSetting.on.command(environment: ["PAGER": "more"]) == "more")
        #expect(PagerSetting.on.command(environment: ["PAGER": " "]) == "less -FRX")
        #expect(PagerSetting.off.command(environment: ["PAGER": "more"]) == nil)
        _ = try engine.run("set pager off", output: StringOutput())
        #expect(engine.session.settings.pager == .off)
        _ = try engine.run("set pager \"less -S\"", output: StringOutput())
        #expect(engine.session.settings.pager == .command("less -S"))
        #expect(engine.session.savedSetting(named: "pager")?.value == "less -S")
        _ = try engine.run("set colour off", output: StringOutput())
        #expect(engine.session.settings.color == .off)
        #expect(throws: Diagnostic.self) { try engine.run("set color purple", output: StringOutput()) }
        #expect(PagerProcess.isRunnable("less -FRX", environment: ["PATH": "/usr/bin:/bin"]))
        #expect(PagerProcess.isRunnable("LESS=S /bin/cat", environment: [:]))
        #expect(!PagerProcess.isRunnable("no-such-pager-here -x", environment: ["PATH": "/usr/bin:/bin"]))
    }

    @Test func settingsFileFormat() {
        let (entries, malformed) = SettingsFile.parse(
            "# mine\nconfirm = 10\n\n  pager=\"less -S\"  \nnonsense\ncolor = off\n")
        #expect(
            entries == [
                .init(line: 2, name: "confirm", value: "10"), .init(line: 4, name: "pager", value: "less -S"),
                .init(line: 6, name: "color", value: "off"),
            ])
        #expect(malformed == [5])
        // One line changes; comments, order and other lines stay.
        #expect(
            SettingsFile.updating("# mine\nconfirm = 10\npager = off\nconfirm = 3\n", name: "confirm", value: "25")
                == "# mine\nconfirm = 25\npager = off\n")
        #expect(SettingsFile.updating("# mine\n", name: "color", value: "on") == "# mine\ncolor = on\n")
        #expect(SettingsFile.updating("colour = on\n", name: "color", value: "off") == "color = off\n")
        #expect(SettingsFile.updating("", name: "format", value: "csv").hasSuffix("\nformat = csv\n"))
    }

    @Test func settingsFileLocation() {
        #expect(SettingsFile.standard(environment: ["XDG_CONFIG_HOME": "/x/config", "HOME": "/home/a"])?.path == "/x/config/rolo/config")
        #expect(
            SettingsFile.standard(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/home/a"])?.path == "/home/a/.config/rolo/config")
        #expect(SettingsFile.standard(environment: ["HOME": "/home/a"])?.path == "/home/a/.config/rolo/config")
    }

    /// `set` values saved by one session are the next session's settings; bad lines are warned
    /// about and skipped.
    @Test func settingsRoundTrip() throws {
        let folder = try SampleDatabase.temporaryFolder()
        let file = SettingsFile(path: folder + "/config-home/rolo/config")
        let first = try SampleDatabase.engine()
        for command in ["set confirm 7", "set format csv", "set pager \"less -S\"", "set color off"] {
            _ = try first.run(command, output: StringOutput())
            let name = command.split(separator: " ")[1]
            let (key, value) = try #require(first.session.savedSetting(named: String(name)))
            try file.save(name: key, value: value)
        }
        #expect(first.session.savedSetting(named: "busy_timeout") == nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/config-home/rolo")
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        #expect(text.hasSuffix("confirm = 7\nformat = csv\npager = less -S\ncolor = off\n"))

        let second = try SampleDatabase.engine()
        #expect(file.load(into: second).isEmpty)
        #expect(second.session.settings.confirmThreshold == 7)
        #expect(second.session.settings.format == .csv)
        #expect(second.session.settings.pager == .command("less -S"))
        #expect(second.session.settings.color == .off)

        try (text + "format = bars\nconfirm = many\nwhat\n").write(toFile: file.path, atomically: true, encoding: .utf8)
        let third = try SampleDatabase.engine()
        let warnings = file.load(into: third)
        #expect(warnings.count == 3)
        #expect(warnings.contains { $0.hasPrefix(file.path + ":6: bars cannot be the default format") })
        #expect(warnings.contains { $0 == file.path + ":7: confirm takes a number of records" })
        #expect(warnings.contains { $0.hasPrefix(file.path + ":8: not a setting") })
        #expect(third.session.settings.confirmThreshold == 7)
    }
}
