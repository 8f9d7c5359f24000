namespace PythonHpc.Feeds;

/// <summary>The <c>Feeds</c> section.</summary>
internal sealed class FeedsOptions
{
    public const string Section = "Feeds";

    /// <summary>Where built feeds are written, for static hosting; the service serves the same bytes from memory.</summary>
    public string OutputPath { get; set; } = "out/feeds";

    /// <summary>Items per feed, newest first.</summary>
    public int MaxItems { get; set; } = 20;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputPath))
            yield return "Feeds:OutputPath must name a folder";
        if (MaxItems is < 1 or > 1000)
            yield return $"Feeds:MaxItems must be between 1 and 1000, not {MaxItems}";
    }
}
