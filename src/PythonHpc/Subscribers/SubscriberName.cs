namespace PythonHpc.Subscribers;

/// <summary>
/// A subscriber's name as it is stored: trimmed, at most <see cref="MaxLength"/> characters, one line.
/// Any other text (HTML, quotes, SQL) is kept as it is: templates escape it and statements bind it.
/// The form's rule (SubscriberEndpoints), for the command line and imports.
/// </summary>
internal static class SubscriberName
{
    public const int MaxLength = 200;

    /// <summary>The name, or why it is not one (a sentence fit to show after the field's name).</summary>
    public static bool TryParse(string? input, out string name, out string error)
    {
        name = (input ?? "").Trim();
        error = name.Any(char.IsControl) ? "must not contain line breaks or control characters"
            : name.Length > MaxLength ? $"is longer than {MaxLength} characters"
            : "";
        return error.Length == 0;
    }
}
