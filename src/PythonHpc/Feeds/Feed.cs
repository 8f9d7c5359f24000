using PythonHpc.Content;

namespace PythonHpc.Feeds;

/// <summary>One post as a feed item: its metadata and its rendered content.</summary>
internal sealed record FeedItem(Post Post, RenderedPost Content);

/// <summary>
/// One feed, whatever its format: the blog's main feed (<see cref="Folder"/> empty) or one
/// category's (<c>categories/python/</c>). <see cref="Updated"/> is the newest item's date, never
/// the time of the build, so an unchanged blog gives unchanged bytes.
/// </summary>
internal sealed record Feed(string Title, string Description, string Folder, Uri Home, IReadOnlyList<FeedItem> Items)
{
    public DateTimeOffset Updated => Items.Count == 0 ? DateTimeOffset.UnixEpoch : Items.Max(i => i.Post.Updated);

    public DateTimeOffset Published => Items.Count == 0 ? DateTimeOffset.UnixEpoch : Items.Max(i => i.Post.Date);
}

/// <summary>A built file: its path below the feeds' root, its media type and its bytes.</summary>
internal sealed record FeedDocument(string Path, string ContentType, byte[] Bytes);
