import Foundation
import RoloTestSupport
import Testing

@testable import RoloShell

/// The history file shared by shells open at once (scripts/test-terminal runs two in tmux).
@Suite("History file")
struct HistoryFileTests {
    /// Two shells, each with its own in-memory history, saving in turn: the file keeps both
    /// shells' lines in the order they were entered, not only the last writer's.
    @Test func historyMergesWhatOtherShellsSaved() throws {
        let path = try SampleDatabase.temporaryFolder() + "/history"
        #expect(HistoryFile.entries(path).isEmpty)
        #expect(HistoryFile.append(["count accounts"], to: path, limit: 1000))  // shell A
        #expect(HistoryFile.append(["count teams"], to: path, limit: 1000))  // shell B
        #expect(HistoryFile.append(["find contacts where first_name = \"José\"\n  and id < 5"], to: path, limit: 1000))  // A
        #expect(HistoryFile.append(["count users", "whoami"], to: path, limit: 1000))  // B, two waiting
        #expect(HistoryFile.append(["whoami"], to: path, limit: 1000))  // A: the same as just before
        #expect(
            HistoryFile.entries(path) == [
                "count accounts", "count teams", "find contacts where first_name = \"José\"\n  and id < 5", "count users", "whoami",
            ])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Only the newest `limit` lines stay.
        #expect(HistoryFile.append((1...12).map { "count deals where id > \($0)" }, to: path, limit: 10))
        let kept = HistoryFile.entries(path)
        #expect(kept.count == 10)
        #expect(kept.first == "count deals where id > 3" && kept.last == "count deals where id > 12")
    }

    /// A save waits while another shell holds the file's lock, then merges into what that shell
    /// wrote: the read-merge-write is never interleaved with another.
    @Test func historySavesWaitForTheLock() throws {
        let path = try SampleDatabase.temporaryFolder() + "/history"
        #expect(HistoryFile.append(["count accounts"], to: path, limit: 1000))
        // Another shell, in the middle of its save, holds the lock.
        let other = open(path, O_RDWR)
        #expect(other >= 0 && flock(other, LOCK_EX) == 0)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            HistoryFile.append(["count teams"], to: path, limit: 1000)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut)  // still waiting
        // The other shell writes its line and lets go.
        let text = try String(contentsOfFile: path, encoding: .utf8) + "whoami\n"
        #expect(ftruncate(other, 0) == 0)
        _ = text.withCString { pwrite(other, $0, strlen($0), 0) }
        close(other)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(HistoryFile.entries(path) == ["count accounts", "whoami", "count teams"])
    }
}
