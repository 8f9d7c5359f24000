namespace PythonHpc.Hosting;

/// <summary>The <c>Http</c> section.</summary>
internal sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Where the service listens; several addresses are separated by ';'.</summary>
    public string Urls { get; set; } = "http://localhost:5080";

    public IEnumerable<string> Validate()
    {
        foreach (var url in (Urls ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).DefaultIfEmpty(""))
            if (!Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https"))
                yield return $"Http:Urls must be http(s) addresses separated by ';', such as http://localhost:5080, not '{url}'";
    }
}
