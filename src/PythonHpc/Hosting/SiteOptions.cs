using System.Text.RegularExpressions;
using PythonHpc.Content;

namespace PythonHpc.Hosting;

/// <summary>The <c>Site</c> section: what the blog is called and where it lives.</summary>
internal sealed partial class SiteOptions
{
    public const string Section = "Site";

    public string Title { get; set; } = "PythonHpc sample blog";
    public string Description { get; set; } = "Posts and webinar recordings about Python on supercomputers.";
    public string Language { get; set; } = "en";
    public string Author { get; set; } = "PythonHpc";
    public string BaseUrl { get; set; } = "http://localhost:5080/";
    public string TimeZone { get; set; } = "UTC";

    /// <summary><see cref="BaseUrl"/> with a trailing slash, so relative permalinks land below it; set by <see cref="Validate"/>.</summary>
    public Uri BaseUri { get; private set; } = new("http://localhost:5080/");

    public TimeZoneInfo Zone { get; private set; } = TimeZoneInfo.Utc;

    [GeneratedRegex(@"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    private static partial Regex LanguageTag();

    public IEnumerable<string> Validate()
    {
        if (!Uri.TryCreate(BaseUrl?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            yield return $"Site:BaseUrl must be an absolute http(s) URL such as https://example.org/blog/, not '{BaseUrl}'";
        else if (uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            yield return $"Site:BaseUrl must not carry a query, a fragment or a user name: '{BaseUrl}'";
        else
            BaseUri = uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

        if (string.IsNullOrWhiteSpace(TimeZone))
            yield return "Site:TimeZone must be an IANA time zone id such as Europe/Rome or UTC";
        else if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone.Trim(), out var zone))
            yield return $"Site:TimeZone '{TimeZone}' is not a known IANA time zone id (such as America/Los_Angeles or UTC)";
        else
            Zone = zone;

        if (string.IsNullOrWhiteSpace(Title))
            yield return "Site:Title must not be empty: every feed needs a title";
        // RFC 4287 §4.1.1: an Atom feed needs an author unless every entry has one; the site's author is the fallback.
        if (string.IsNullOrWhiteSpace(Author))
            yield return "Site:Author must not be empty: it is the author of posts that name none";
        if (!string.IsNullOrEmpty(Language) && !LanguageTag().IsMatch(Language))
            yield return $"Site:Language must be a language tag such as en or en-US, not '{Language}'";
        foreach (var (key, value) in new[] { ("Title", Title), ("Description", Description), ("Author", Author) })
            if (value is not null && SourceText.HasForbidden(value))
                yield return $"Site:{key} contains a control character that XML cannot carry";
    }
}
