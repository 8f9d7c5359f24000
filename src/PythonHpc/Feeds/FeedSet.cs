using System.Collections.Frozen;

namespace PythonHpc.Feeds;

/// <summary>
/// Every feed file of one build, by path. Immutable: a rebuild makes a new set and swaps it in
/// whole, so a request sees either the old feeds or the new ones, never a mix or half a file.
/// </summary>
internal sealed class FeedSet
{
    public static readonly FeedSet Empty = new(FrozenDictionary<string, FeedFile>.Empty);

    private readonly FrozenDictionary<string, FeedFile> _files;

    private FeedSet(FrozenDictionary<string, FeedFile> files) => _files = files;

    public int Count => _files.Count;

    public IEnumerable<string> Paths => _files.Keys;

    public FeedFile? Find(string path) => _files.GetValueOrDefault(path);

    /// <summary>
    /// A set for <paramref name="documents"/> that reuses the previous set's file wherever the bytes
    /// are the same, keeping its validators and compressed forms.
    /// </summary>
    public FeedSet With(IReadOnlyList<FeedDocument> documents, Func<string, DateTimeOffset> lastModified)
    {
        var files = new Dictionary<string, FeedFile>(documents.Count, StringComparer.Ordinal);
        foreach (var document in documents)
        {
            var previous = Find(document.Path);
            files[document.Path] = previous is not null && previous.Document.Bytes.AsSpan().SequenceEqual(document.Bytes)
                && previous.Document.ContentType == document.ContentType
                ? previous
                : new FeedFile(document, lastModified(document.Path));
        }
        return new FeedSet(files.ToFrozenDictionary(StringComparer.Ordinal));
    }
}
