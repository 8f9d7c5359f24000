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
    /// What a rebuild changed: the new set, the paths of the files built (<see cref="Rebuilt"/>), those
    /// among them whose bytes are new (<see cref="Changed"/>), and the paths no longer served.
    /// </summary>
    internal sealed record Change(FeedSet Set, IReadOnlyList<string> Rebuilt, IReadOnlyList<FeedDocument> Changed, IReadOnlyList<string> Removed);

    /// <summary>
    /// A set whose files in <paramref name="scopes"/> (every file when null) are <paramref name="documents"/>
    /// and whose other files are this set's. Wherever the bytes are the same the previous file is
    /// kept, with its validators and compressed forms; <paramref name="lastModified"/> dates the others.
    /// </summary>
    public Change With(IReadOnlyList<FeedDocument> documents, IReadOnlySet<string>? scopes, Func<string, DateTimeOffset> lastModified)
    {
        var files = new Dictionary<string, FeedFile>(_files.Count + documents.Count, StringComparer.Ordinal);
        var removed = new List<string>();
        foreach (var (path, file) in _files)
        {
            if (scopes is null || scopes.Contains(FeedScope.Of(path)))
                removed.Add(path);
            else
                files[path] = file;
        }
        var changed = new List<FeedDocument>();
        foreach (var document in documents)
        {
            var previous = Find(document.Path);
            var same = previous is not null && previous.Same(document);
            if (!same)
                changed.Add(document);
            files[document.Path] = same ? previous! : new FeedFile(document, lastModified(document.Path));
        }
        removed.RemoveAll(files.ContainsKey);
        return new Change(new FeedSet(files.ToFrozenDictionary(StringComparer.Ordinal)), [.. documents.Select(d => d.Path)], changed, removed);
    }
}
