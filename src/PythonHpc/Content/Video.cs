using System.Text.RegularExpressions;

namespace PythonHpc.Content;

/// <summary>
/// A YouTube or Vimeo video recognised from any of the URL forms bloggers paste (watch, youtu.be,
/// embed, shorts, live, player.vimeo.com). Feed readers and mail clients cannot play an embedded
/// player, so the rest of the product shows a video as its thumbnail linked to the watch page.
/// </summary>
internal sealed partial record Video(string Provider, string Id, Uri WatchUrl, Uri? Thumbnail)
{
    [GeneratedRegex(@"^(?:https?:)?//(?:www\.|m\.)?(?:youtube(?:-nocookie)?\.com/(?:embed/|watch\?(?:[^#]*&)?v=|v/|shorts/|live/)|youtu\.be/)(?<id>[A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])", RegexOptions.IgnoreCase)]
    private static partial Regex YouTube();

    [GeneratedRegex(@"^(?:https?:)?//(?:www\.|player\.)?vimeo\.com/(?:video/|channels/[\w-]+/)?(?<id>\d+)(?!\w)", RegexOptions.IgnoreCase)]
    private static partial Regex Vimeo();

    public static Video? Recognize(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
            return null;
        url = url.Trim();
        var m = YouTube().Match(url);
        if (m.Success)
            return YouTubeVideo(m.Groups["id"].Value);
        m = Vimeo().Match(url);
        if (m.Success)
            return VimeoVideo(m.Groups["id"].Value);
        return null;
    }

    public static Video YouTubeVideo(string id) =>
        new("youtube", id, new Uri("https://www.youtube.com/watch?v=" + id),
            // hqdefault (480×360) exists for every video; maxresdefault does not.
            new Uri($"https://i.ytimg.com/vi/{id}/hqdefault.jpg"));

    /// <summary>Vimeo offers no thumbnail address without its API; the post's own image stands in where there is one.</summary>
    public static Video VimeoVideo(string id) => new("vimeo", id, new Uri("https://vimeo.com/" + id), null);
}
