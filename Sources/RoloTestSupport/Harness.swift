import RoloEngine
import RoloShell

/// Builds shells over an engine for tests.
public enum RoloShellHarness {
    public static func shell(_ engine: Engine, output: OutputSink = StringOutput(), errors: OutputSink) -> Shell {
        Shell(engine: engine, output: output, errors: errors)
    }
}
