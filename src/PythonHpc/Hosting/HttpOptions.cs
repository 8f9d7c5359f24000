namespace PythonHpc.Hosting;

/// <summary>The <c>Http</c> section.</summary>
internal sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Where the service listens; several addresses are separated by ';'.</summary>
    public string Urls { get; set; } = "http://localhost:5080";

    /// <summary>
    /// The address readers reach this service at, for the links in emails (confirm, unsubscribe). Empty
    /// means <c>Site:BaseUrl</c>: the service is behind the blog's own address. Set by <see cref="Validate"/>.
    /// </summary>
    public string PublicUrl { get; set; } = "";

    /// <summary><see cref="PublicUrl"/> with a trailing slash, or <c>Site:BaseUrl</c>; set by <see cref="Resolve"/>.</summary>
    public Uri PublicUri { get; private set; } = new("http://localhost:5080/");

    public IEnumerable<string> Resolve(Uri siteBase)
    {
        if (string.IsNullOrWhiteSpace(PublicUrl))
            PublicUri = siteBase;
        else if (!Uri.TryCreate(PublicUrl.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            yield return $"Http:PublicUrl must be an absolute http(s) URL such as https://example.org/, not '{PublicUrl}'";
        else
            PublicUri = uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    public IEnumerable<string> Validate()
    {
        foreach (var url in (Urls ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).DefaultIfEmpty(""))
            if (!Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https"))
                yield return $"Http:Urls must be http(s) addresses separated by ';', such as http://localhost:5080, not '{url}'";
    }
}
