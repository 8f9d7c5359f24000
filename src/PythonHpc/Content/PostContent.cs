using System.Collections.Concurrent;

namespace PythonHpc.Content;

/// <summary>
/// The rendered HTML of posts, read from disk when asked and kept only while a feed shows them: a
/// 10,000-post blog keeps a few hundred renderings, not ten thousand.
/// </summary>
internal sealed class PostContent(PostLoader loader, PostRenderer renderer)
{
    private readonly ConcurrentDictionary<(string Path, SourceStamp Stamp, Uri Permalink), RenderedPost> _cache = new();

    public RenderedPost Render(Post post)
    {
        var key = KeyOf(post);
        if (_cache.TryGetValue(key, out var rendered))
            return rendered;
        // The file may have changed or gone since the catalog read it; the next refresh catches up.
        rendered = renderer.Render(post, loader.ReadBody(post.SourcePath) ?? "");
        _cache[key] = rendered;
        return rendered;
    }

    /// <summary>Forgets every rendering but those of <paramref name="shown"/>: the posts some feed shows now. Call after each build.</summary>
    public void Keep(IEnumerable<Post> shown)
    {
        var keep = shown.Select(KeyOf).ToHashSet();
        foreach (var key in _cache.Keys)
            if (!keep.Contains(key))
                _cache.TryRemove(key, out _);
    }

    private static (string Path, SourceStamp Stamp, Uri Permalink) KeyOf(Post post) => (post.SourcePath, post.Stamp, post.Permalink);
}
