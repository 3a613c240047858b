import Foundation
import RoloStore
import RoloSyntax

/// Settings a session can change with `set` and `dry-run`.
public struct SessionSettings: Sendable {
    /// Every changing command is previewed and rolled back.
    public var dryRun = false
    /// On a terminal, changes touching more records than this ask first.
    public var confirmThreshold = 50
    /// The default output format (tables on a terminal, plain when piped).
    public var format: OutputFormat? = nil
    /// Long output in the interactive shell goes through a pager (see `PagerSetting`).
    public var pager: PagerSetting = .on
    /// Colours in error messages (see `ColorSetting`).
    public var color: ColorSetting = .auto
    /// Where national phone numbers are read (`normalize`): an ISO 3166 code, e.g. US.
    public var region: String? = nil

    public init() {}
}

/// The session's own state, apart from who acts (`AccessControl`) and its transaction
/// (`Transactions`): its settings, the `$NAME` values, the training under way, how to ask the
/// person at the terminal and to draw progress, Ctrl-C, and whether the database is a sandbox.
///
/// One of the engine's services (docs/architecture.md); a command reaches it as
/// `context.session`. `set` is its own (Core/Settings.swift).
public final class Session {
    public var settings = SessionSettings()
    /// Values for `$NAME`: a script's parameters, and what its `let`s computed.
    public var parameters: [String: ScriptValue] = [:]
    /// Recording, playing and lessons: the recording under way, the terminal to ask (Training/).
    public let training = TrainingSession()
    /// Asks the person at the terminal to confirm a large change; nil never asks (scripts, -c, pipes).
    public var confirm: ((String) -> Bool)? = nil
    /// Where long work draws its progress line (standard error on a terminal; nil otherwise).
    public var progressLine: ((String) -> Void)? = nil
    /// The database is a sandbox (`rolo demo` made it): `checkpoint` and `reset` work, and the
    /// prompt says so. Read again after a reset.
    public internal(set) var isSandbox: Bool
    /// Ctrl-C seen while a command works in Swift between statements (an import reading its file),
    /// where SQLite's interrupt would find nothing running; cleared as each command starts.
    let interruption = InterruptFlag()
    /// The database's wait for another writer (`set busy_timeout`).
    let busy: BusyPolicy

    init(isSandbox: Bool, busy: BusyPolicy) {
        self.isSandbox = isSandbox
        self.busy = busy
    }
}

/// A flag one thread raises (the Ctrl-C handler) and another polls.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    var isRequested: Bool { lock.withLock { raised } }
    func request() { lock.withLock { raised = true } }
    func clear() { lock.withLock { raised = false } }
}
