using PythonHpc.Content;

namespace PythonHpc.Webinars;

/// <summary>A webinar recording: the video a post links or embeds, and its chapters.</summary>
internal sealed record Webinar(Video Video, IReadOnlyList<Chapter> Chapters)
{
    /// <summary>The thumbnail to show: the video's (YouTube), else the post's image (Vimeo has no public one).</summary>
    public Uri? Thumbnail(Post post) => Video.Thumbnail ?? post.Image;
}

/// <summary>
/// One chapter: its 1-based place, title, start, a link that opens the video at that moment, and
/// the blogger's summary of it (may be missing).
/// </summary>
internal sealed record Chapter(int Index, string Title, TimeSpan Start, Uri Link, string? Summary)
{
    /// <summary>The start as people write it: <c>4:00</c>, <c>55:24</c>, <c>1:02:03</c>.</summary>
    public string StartText => ChapterTime.Format(Start);
}
