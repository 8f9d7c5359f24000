namespace PythonHpc.Content;

internal enum PostFormat { Markdown, Quarto, Notebook }

/// <summary>
/// A post as the feeds and the mail see it: everything from its front matter, resolved once where
/// the post is read. The body is not held (a 10,000-post blog would keep hundreds of megabytes
/// alive); <see cref="PostLoader"/> reads it again when a feed or a message needs the HTML.
/// </summary>
internal sealed record Post
{
    public required string SourcePath { get; init; }
    /// <summary>Path below the posts folder, with '/' separators: what problems and logs print.</summary>
    public required string RelativePath { get; init; }
    /// <summary>The file's stem (the folder's name for <c>index.*</c>): names the post's files, such as its chapters.</summary>
    public required string Key { get; init; }
    public required string Id { get; init; }
    public required string Title { get; init; }
    /// <summary>True when the title came from the body's first level-1 heading, which is then not repeated in the HTML.</summary>
    public bool TitleFromHeading { get; init; }
    public required DateTimeOffset Date { get; init; }
    public required DateTimeOffset Updated { get; init; }
    public required IReadOnlyList<string> Categories { get; init; }
    public required IReadOnlyList<string> Authors { get; init; }
    public string? Description { get; init; }
    public bool Draft { get; init; }
    public Uri? Image { get; init; }
    public required string Slug { get; init; }
    public required IReadOnlyList<string> Aliases { get; init; }
    public required Uri Permalink { get; init; }
    public required PostFormat Format { get; init; }
    /// <summary>The video and chapters when the post is a webinar recording.</summary>
    public Webinars.Webinar? Webinar { get; init; }

    /// <summary>Size and modification time of the file this was read from: a changed stamp means read it again.</summary>
    public required SourceStamp Stamp { get; init; }

    public bool IsPublishedAt(DateTimeOffset now) => !Draft && Date <= now;
}

internal readonly record struct SourceStamp(long Length, DateTime LastWriteUtc)
{
    public static SourceStamp Of(FileInfo file) => new(file.Length, file.LastWriteTimeUtc);
}
