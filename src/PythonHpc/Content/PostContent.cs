using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;

namespace PythonHpc.Content;

/// <summary>
/// The rendered HTML of posts, read from disk when asked and kept only while a feed shows them: a
/// 10,000-post blog keeps about 1,500 renderings, not ten thousand, and keeps them as UTF-8
/// compressed by Brotli at its fastest setting: a sixth of the memory of the strings, for a few
/// microseconds each time a feed that shows the post is built again.
/// </summary>
internal sealed class PostContent(PostLoader loader, PostRenderer renderer)
{
    /// <summary>Brotli's fastest quality and a 64 KB window: posts are a few kilobytes of HTML.</summary>
    private const int Quality = 1, Window = 16;

    private readonly ConcurrentDictionary<(string Path, SourceStamp Stamp, Uri Permalink), Kept> _cache = new();

    private sealed record Kept(byte[] Html, int Length, string Summary);

    public RenderedPost Render(Post post)
    {
        var key = KeyOf(post);
        if (_cache.TryGetValue(key, out var kept))
            return new RenderedPost(Decompress(kept), kept.Summary);
        // The file may have changed or gone since the catalog read it; the next refresh catches up.
        var rendered = renderer.Render(post, loader.ReadBody(post.SourcePath) ?? "");
        _cache[key] = Compress(rendered);
        return rendered;
    }

    private static Kept Compress(RenderedPost rendered)
    {
        var utf8 = Encoding.UTF8.GetBytes(rendered.Html);
        var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(utf8.Length)];
        if (!BrotliEncoder.TryCompress(utf8, buffer, out var written, Quality, Window))
            throw new InvalidOperationException("Brotli could not compress a rendering into its maximum compressed length");
        return new Kept(buffer[..written], utf8.Length, rendered.Summary);
    }

    private static string Decompress(Kept kept)
    {
        var utf8 = new byte[kept.Length];
        if (!BrotliDecoder.TryDecompress(kept.Html, utf8, out var written) || written != kept.Length)
            throw new InvalidOperationException("a kept rendering did not decompress to its own length");
        return Encoding.UTF8.GetString(utf8);
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
