import GRDB
import RoloStore

/// The value of a script's `$NAME`: text given for a parameter (on the command line, after
/// `run FILE`, or as a `param`'s default), read as whatever its place expects (a date where a date
/// goes, an amount where money goes); or a value a `let` computed, with its type.
///
/// Either way it reaches the database as a bound argument, never as SQL text.
public enum ScriptValue: Sendable, Equatable {
    case text(String)
    case typed(DatabaseValue, FieldType?)

    /// How `echo` and messages show it.
    var display: String {
        switch self {
        case .text(let text): return text
        case .typed(let value, let type):
            if value.isNull { return "(none)" }
            return ValueFormatter.display(value, type)
        }
    }
}
