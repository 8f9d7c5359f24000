using System.Text.RegularExpressions;
using PythonHpc.Hosting;

namespace PythonHpc.Content;

/// <summary>
/// Reads one post file into a <see cref="Post"/>: text cleaning, front matter, dates, title, id and
/// permalink. Every problem names the file and line; a post with an error is not published, a post
/// with warnings is published as cleaned.
/// </summary>
internal sealed partial class PostLoader(SiteOptions site, ContentOptions content)
{
    internal sealed record Result(Post? Post, string? Body, IReadOnlyList<Problem> Problems);

    public static readonly string[] Extensions = [".md", ".markdown", ".qmd", ".ipynb"];

    [GeneratedRegex(@"^ {0,3}#[ \t]+(?<text>.+?)(?:[ \t]+#+)?[ \t]*$")]
    private static partial Regex AtxHeading();

    [GeneratedRegex(@"^ {0,3}=+[ \t]*$")]
    private static partial Regex SetextUnderline();

    [GeneratedRegex(@"^ {0,3}(?<fence>`{3,}|~{3,})")]
    private static partial Regex Fence();

    public string DisplayPath(string fullPath) =>
        Path.Combine(content.PostsPath, Path.GetRelativePath(content.PostsRoot, fullPath)).Replace('\\', '/');

    /// <summary>
    /// Reads <paramref name="fullPath"/>; <paramref name="defaults"/> are its folders' <c>_metadata.yml</c>.
    /// Without <paramref name="withBody"/> the body is checked but not decoded into a string (the
    /// catalog of a 10,000-post blog has no use for ten thousand bodies).
    /// </summary>
    public Result Load(string fullPath, FrontMatter? defaults = null, bool withBody = true)
    {
        var display = DisplayPath(fullPath);
        var problems = new List<Problem>();
        var file = new FileInfo(fullPath);
        var format = FormatOf(fullPath);
        if (PostFile.Read(file, format, display, content.MaxFileBytes, problems) is not { } source)
            return new Result(null, null, problems);
        var front = FrontMatter.Parse(source.FrontMatter ?? "", source.FrontMatter is null ? 1 : source.FrontMatterLine, defaults, display, problems);
        if (front is null)
            return new Result(null, null, problems);
        // A Quarto listing page (the blog's index) lives beside posts but is not one.
        if (front.Has("listing"))
            return new Result(null, null, problems);

        var post = Build(file, display, format, front, source, problems);
        return new Result(post, post is not null && withBody ? source.Body() : null, problems);
    }

    /// <summary>
    /// Only the body of a post already read, for rendering it: the front matter is split off but not
    /// parsed again. Null when the file can no longer be read.
    /// </summary>
    public string? ReadBody(string fullPath) =>
        PostFile.Read(new FileInfo(fullPath), FormatOf(fullPath), DisplayPath(fullPath), content.MaxFileBytes, [])?.Body();

    private static PostFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".ipynb" => PostFormat.Notebook,
        ".qmd" => PostFormat.Quarto,
        _ => PostFormat.Markdown,
    };

    private Post? Build(FileInfo file, string display, PostFormat format, FrontMatter front, PostFile source, List<Problem> problems)
    {
        var body = source.Body;
        var relative = Path.GetRelativePath(content.PostsRoot, file.FullName).Replace('\\', '/');
        var key = KeyOf(relative);
        var errors = problems.Count(p => p.Severity == Severity.Error);

        var (title, fromHeading) = TitleOf(front, body, key, display, problems);
        var date = DateOf(front, file, key, display, problems);
        var updated = UpdatedOf(front, date, display, problems);
        var slug = front.Text(display, problems, "slug") is { } s && s.Trim().Length > 0 ? s.Trim() : Slug.From(PostDate.WithoutPrefix(key));
        var permalink = Permalink(relative, key, slug, date);

        if (problems.Count(p => p.Severity == Severity.Error) > errors)
            return null;
        return new Post
        {
            SourcePath = file.FullName,
            RelativePath = relative,
            Key = key,
            Id = IdOf(front, key, date, display, problems),
            Title = title,
            TitleFromHeading = fromHeading,
            Date = date,
            Updated = updated,
            Categories = Distinct([.. front.List(display, problems, "categories"), .. front.List(display, problems, "tags")]),
            Authors = AuthorsOf(front, display, problems),
            Description = DescriptionOf(front, display, problems),
            Draft = DraftOf(front, display, problems),
            Image = ImageOf(front, permalink, display, problems),
            Slug = slug,
            Aliases = front.List(display, problems, "aliases"),
            Permalink = permalink,
            Format = format,
            Webinar = Webinars.WebinarReader.Read(front, source, display, problems),
            Stamp = SourceStamp.Of(file),
        };
    }

    /// <summary>The file's stem; for <c>welcome/index.qmd</c> the folder's name, as Quarto blogs name posts by folder.</summary>
    internal static string KeyOf(string relative)
    {
        var stem = Path.GetFileNameWithoutExtension(relative);
        var folder = Path.GetDirectoryName(relative);
        return stem.Equals("index", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(folder)
            ? Path.GetFileName(folder)
            : stem;
    }

    private static (string Title, bool FromHeading) TitleOf(FrontMatter front, Func<string> body, string key, string display, List<Problem> problems)
    {
        var title = front.Text(display, problems, "title");
        if (!string.IsNullOrWhiteSpace(title))
            return (MarkdownText.Collapse(title), false);
        if (FirstHeading(body()) is { } heading)
            return (heading, true);
        var name = PostDate.WithoutPrefix(key).Replace('-', ' ').Replace('_', ' ').Trim();
        return (name.Length == 0 ? key : char.ToUpperInvariant(name[0]) + name[1..], false);
    }

    /// <summary>The text of the body's first level-1 heading (ATX or setext), outside fenced code.</summary>
    internal static string? FirstHeading(string body)
    {
        var lines = body.Split('\n');
        string? fence = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var f = Fence().Match(lines[i]);
            if (f.Success)
            {
                var marker = f.Groups["fence"].Value;
                if (fence is null)
                    fence = marker;
                else if (marker[0] == fence[0] && marker.Length >= fence.Length && lines[i].Trim().Length == marker.Length)
                    fence = null;
                continue;
            }
            if (fence is not null)
                continue;
            var m = AtxHeading().Match(lines[i]);
            if (m.Success)
                return MarkdownText.Plain(m.Groups["text"].Value);
            if (lines[i].Trim().Length > 0 && i + 1 < lines.Length && SetextUnderline().IsMatch(lines[i + 1]))
                return MarkdownText.Plain(lines[i]);
        }
        return null;
    }

    private DateTimeOffset DateOf(FrontMatter front, FileInfo file, string key, string display, List<Problem> problems)
    {
        var modified = TimeZoneInfo.ConvertTime(new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero), site.Zone);
        var node = front.Get("date");
        var text = front.Text(display, problems, "date");
        if (text is null)
        {
            if (PostDate.FromFileName(key, site.Zone) is { } named)
                return named;
            problems.Add(Problem.Warning(display, 1, "no date in the front matter or the file name; using the file's modification time"));
            return modified;
        }
        switch (text.Trim().ToLowerInvariant())
        {
            case "last-modified":
                return modified;
            case "today" or "now":
                problems.Add(Problem.Warning(display, front.LineOf(node!), $"date '{text}' changes every day; using the file's modification time"));
                return modified;
        }
        if (PostDate.TryParse(text, site.Zone, out var date, out var error))
            return date;
        problems.Add(Problem.Error(display, front.LineOf(node!), "date: " + error));
        return default;
    }

    private DateTimeOffset UpdatedOf(FrontMatter front, DateTimeOffset date, string display, List<Problem> problems)
    {
        string[] keys = ["date-modified", "lastmod", "updated", "last_modified_at", "modified"];
        var text = front.Text(display, problems, keys);
        if (text is null || text.Trim().Equals("last-modified", StringComparison.OrdinalIgnoreCase))
            return date;
        if (PostDate.TryParse(text, site.Zone, out var updated, out var error))
            return updated > date ? updated : date;
        problems.Add(Problem.Warning(display, front.LineOf(front.Get(keys)!), "modified date ignored: " + error));
        return date;
    }

    private Uri Permalink(string relative, string key, string slug, DateTimeOffset date)
    {
        var path = Path.ChangeExtension(relative, null)!;
        var expanded = content.Permalink
            .Replace("{path}", EscapePath(path), StringComparison.Ordinal)
            .Replace("{stem}", Uri.EscapeDataString(key), StringComparison.Ordinal)
            .Replace("{slug}", EscapePath(slug), StringComparison.Ordinal)
            .Replace("{yyyy}", date.Year.ToString("D4", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{mm}", date.Month.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{dd}", date.Day.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return new Uri(site.BaseUri, expanded);
    }

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    /// <summary>
    /// A tag URI (RFC 4151): <c>tag:example.org,2025-09-15:python-for-hpc</c>. It is made of the base
    /// URL's host and path, the date and the file's name, so it survives a new title, an edited
    /// body or a move from http to https. The date is the one in the file name when there is one,
    /// so fixing the front matter's date does not change the id either. <c>id:</c> overrides it.
    /// </summary>
    private string IdOf(FrontMatter front, string key, DateTimeOffset date, string display, List<Problem> problems)
    {
        var prefix = site.BaseUri.AbsolutePath.Trim('/');
        var day = (PostDate.FromFileName(key, site.Zone) ?? date).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var name = EscapePath(PostDate.WithoutPrefix(key));
        var given = front.Text(display, problems, "id")?.Trim();
        if (!string.IsNullOrEmpty(given))
        {
            if (Uri.TryCreate(given, UriKind.Absolute, out var uri) && given.Contains(':') && !given.StartsWith('/'))
                return uri.OriginalString;
            name = EscapePath(given);
        }
        return $"tag:{site.BaseUri.IdnHost.ToLowerInvariant()},{day}:{(prefix.Length > 0 ? prefix + "/" : "")}{name}";
    }

    /// <summary>Authors as strings, lists, Quarto's <c>- name: …</c> objects, or <c>name: {given, family}</c>.</summary>
    private static List<string> AuthorsOf(FrontMatter front, string display, List<Problem> problems)
    {
        var names = new List<string>();
        void Add(FrontValue item)
        {
            if (NameOf(item) is { } name)
                names.Add(name);
            else
                problems.Add(Problem.Warning(display, front.LineOf(item), "an author without a name; ignored"));
        }
        switch (front.Get("author", "authors"))
        {
            case FrontList list:
                foreach (var item in list.Items)
                    Add(item);
                break;
            case FrontScalar { IsNull: true } or null:
                break;
            case var single:
                Add(single);
                break;
        }
        return Distinct(names);
    }

    private static readonly string[] NameParts = ["given", "family"];

    private static string? NameOf(FrontValue value) => value switch
    {
        FrontScalar { IsNull: false } s when !string.IsNullOrWhiteSpace(s.Text) => MarkdownText.Collapse(SourceText.RemoveForbidden(s.Text)),
        FrontMap m when m.Get("name") is { } name => NameOf(name),
        FrontMap m when m.Get("literal") is { } literal => NameOf(literal),
        FrontMap m => string.Join(' ', NameParts.Select(k => m.Get(k) is { } v ? NameOf(v) : null).OfType<string>()) is { Length: > 0 } joined ? joined : null,
        _ => null,
    };

    /// <summary>Quarto renders <c>description</c> as Markdown; feeds want it as text.</summary>
    private static string? DescriptionOf(FrontMatter front, string display, List<Problem> problems)
    {
        var text = front.Text(display, problems, "description", "summary");
        return string.IsNullOrWhiteSpace(text) ? null : MarkdownText.Plain(text);
    }

    private static bool DraftOf(FrontMatter front, string display, List<Problem> problems)
    {
        static bool Yes(string? v) => v?.Trim().ToLowerInvariant() is "true" or "yes" or "on";
        static bool No(string? v) => v?.Trim().ToLowerInvariant() is "false" or "no" or "off";
        // Jekyll marks an unpublished post with published: false.
        return Yes(front.Text(display, problems, "draft")) || No(front.Text(display, problems, "published"));
    }

    private static Uri? ImageOf(FrontMatter front, Uri permalink, string display, List<Problem> problems)
    {
        var node = front.Get("image");
        var text = front.Text(display, problems, "image")?.Trim();
        if (string.IsNullOrEmpty(text))
            return null;
        if (Uri.TryCreate(permalink, text, out var uri) && uri.Scheme is "http" or "https")
            return uri;
        problems.Add(Problem.Warning(display, front.LineOf(node!), $"image '{text}' is not a usable URL; ignored"));
        return null;
    }

    private static List<string> Distinct(IEnumerable<string> values)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<string>();
        foreach (var value in values)
        {
            var v = MarkdownText.Collapse(value);
            if (v.Length > 0 && seen.Add(v))
                result.Add(v);
        }
        return result;
    }
}
