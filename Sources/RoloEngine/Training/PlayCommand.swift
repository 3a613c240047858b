import RoloSyntax

/// `play FILE`: a recording (or any script) step by step — each step's narration (the comment
/// lines before it) and command shown, then, at the prompt's question, Enter runs it, `s` skips
/// it, `b` goes back one step (showing it again; what ran stays done), `q` stops. Each command
/// runs against the current database with the player's own permissions, exactly as typing it
/// would, audited as usual. `--auto SECONDS` plays every step without asking, waiting SECONDS
/// between them (the only way in a script, `-c` or piped input; it stops at a step that fails);
/// `--typing` types each command out a character at a time, for a projector.
///
///     play := 'play' (STRING | PATH)              options: --auto SECONDS, --typing
struct PlayCommand: Command, RunByScriptRunner {
    var path: Located<String>

    static let name = "play"
    static let forms = [
        form("play") { parser, _ throws(Diagnostic) in
            PlayCommand(path: try parser.parseWordPath(what: "a recording to play, e.g. play new-rep-demo.rolo"))
        }
    ]
    static let synopsis = "play FILE.rolo [--auto SECONDS] [--typing]"
    static let summary =
        "Play a recording step by step: its narration and next command shown, Enter runs it, s skips, b goes back, q stops; --auto SECONDS plays unattended, --typing types each command out."
    static let examples: [String] = []
    var isAudited: Bool { false }
}
