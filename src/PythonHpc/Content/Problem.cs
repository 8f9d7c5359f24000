namespace PythonHpc.Content;

internal enum Severity { Warning, Error }

/// <summary>
/// Something wrong with one input file, printed as <c>FILE:LINE: error: message</c> (the format
/// compilers use, so editors and CI annotate the right line). An error means the post was not
/// published; a warning means it was published after cleaning.
/// </summary>
internal sealed record Problem(string File, int Line, Severity Severity, string Message)
{
    public static Problem Error(string file, int line, string message) => new(file, line, Severity.Error, message);

    public static Problem Warning(string file, int line, string message) => new(file, line, Severity.Warning, message);

    public override string ToString() =>
        $"{File}:{Math.Max(Line, 1)}: {(Severity == Severity.Error ? "error" : "warning")}: {Message}";
}
