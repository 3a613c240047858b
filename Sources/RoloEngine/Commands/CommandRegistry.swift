import RoloSyntax

/// Every command, once, in the order `help` lists them. The parser, `help`, Tab completion and
/// the engine read this list; nothing else names the commands.
public enum CommandRegistry {
    public static let all: [any Command.Type] = [
        FindCommand.self,
        CountCommand.self,
        SumCommand.self,
        ShowCommand.self,
        HistoryCommand.self,
        ExplainCommand.self,
        ExportCommand.self,
        ImportCommand.self,
        CreateCommand.self,
        UpdateCommand.self,
        DeleteCommand.self,
        AssignCommand.self,
        MergeCommand.self,
        LogCommand.self,
        AddTaskCommand.self,
        ChangesCommand.self,
        UndoCommand.self,
        TransactionCommand.self,
        WhoamiCommand.self,
        UsersCommand.self,
        RolesCommand.self,
        TeamsCommand.self,
        UserCommand.self,
        GrantCommand.self,
        RoleCommand.self,
        RuleCommand.self,
        CanCommand.self,
        AsCommand.self,
        VerifyCommand.self,
        VerifyRecordsCommand.self,
        NormalizeCommand.self,
        DedupeCommand.self,
        AuditCommand.self,
        RequireDatabaseCommand.self,
        CheckpointCommand.self,
        CheckpointsCommand.self,
        ResetCommand.self,
        DryRunCommand.self,
        RunCommand.self,
        RunScriptCommand.self,
        ScriptLibraryCommand.self,
        PlanCommand.self,
        ShowPlanCommand.self,
        ApplyCommand.self,
        ParamCommand.self,
        LetCommand.self,
        AssertCommand.self,
        EchoCommand.self,
        IncludeCommand.self,
        RecordCommand.self,
        StopCommand.self,
        PlayCommand.self,
        LessonCommand.self,
        LessonsCommand.self,
        TaskCommand.self,
        ExpectCommand.self,
        HintCommand.self,
        SetCommand.self,
        HelpCommand.self,
        QuitCommand.self,
    ]

    /// Every command type by its identity: how a parsed command is known as its `Command`
    /// (`ParsedStatement.unit`).
    static let byType = Dictionary(all.map { (ObjectIdentifier($0), $0) }, uniquingKeysWith: { first, _ in first })

    /// The parser's verb dispatch.
    public static let grammar = Grammar(all.flatMap { $0.forms })

    /// The command whose help `word` opens: its name, one of its verbs, or one of its help words.
    public static func command(named word: String) -> (any Command.Type)? {
        all.first { $0.name == word } ?? all.first { $0.verbs.contains(word) || $0.helpWords.contains(word) }
    }

    /// The command a line starts with, and how many of its words it took (`create user` two).
    public static func command(startingWith words: [String]) -> (command: any Command.Type, words: Int)? {
        guard let first = words.first else { return nil }
        var best: (command: any Command.Type, words: Int)? = nil
        for command in all {
            for form in command.forms where form.words[0] == first {
                let count = form.words.count
                guard count <= words.count, Array(words.prefix(count)) == form.words else { continue }
                if count > (best?.words ?? 0) { best = (command, count) }
            }
        }
        return best
    }
}
