using System.Collections.Concurrent;
using System.IO.Enumeration;

namespace PythonHpc.Content;

/// <summary>Every post below the posts folder at one moment, and every problem found reading them.</summary>
internal sealed record CatalogSnapshot(IReadOnlyList<Post> Posts, IReadOnlyList<Problem> Problems)
{
    public bool HasErrors => Problems.Any(p => p.Severity == Severity.Error);

    /// <summary>Posts a reader may see at <paramref name="now"/>, newest first; ties broken by id so the order never depends on the file system.</summary>
    public IReadOnlyList<Post> PublishedAt(DateTimeOffset now) =>
        [.. Posts.Where(p => p.IsPublishedAt(now)).OrderByDescending(p => p.Date).ThenBy(p => p.Id, StringComparer.Ordinal)];

    /// <summary>The soonest date of a post that is not a draft and not yet published: when the feeds must change by themselves.</summary>
    public DateTimeOffset? NextPublicationAfter(DateTimeOffset now) =>
        Posts.Where(p => !p.Draft && p.Date > now).Select(p => (DateTimeOffset?)p.Date).Min();
}

/// <summary>
/// The posts folder, read incrementally: a refresh lists the folder (with sizes and times, in one
/// pass) and reads again only files whose size or modification time changed. Files and folders whose
/// names start with <c>_</c> or <c>.</c> are not posts (Quarto's rule; it also skips
/// <c>.ipynb_checkpoints</c>), nor are Quarto's executed notebooks (<c>*.out.ipynb</c>), except <c>_metadata.yml</c>, whose values every post below it inherits.
/// </summary>
internal sealed class PostCatalog(ContentOptions content, PostLoader loader)
{
    private sealed record Entry(SourceStamp Stamp, PostLoader.Result Result);

    private readonly Lock _gate = new();
    private Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private Dictionary<string, SourceStamp> _metadataStamps = new(StringComparer.Ordinal);
    private Dictionary<string, FrontMatter> _defaults = new(StringComparer.Ordinal);
    private CatalogSnapshot? _snapshot;
    private List<Problem> _metadataProblems = [];

    /// <summary>Problems of the files read by the last refresh only: what a service logs without repeating itself.</summary>
    public IReadOnlyList<Problem> LastReadProblems { get; private set; } = [];

    public int LastReadCount { get; private set; }

    /// <summary>Lists the whole folder and reads again the files whose size or modification time changed.</summary>
    public CatalogSnapshot Refresh() => Refresh(null);

    /// <summary>
    /// Reads again only <paramref name="changed"/> (paths a file watcher reported, files or folders,
    /// existing or gone), or lists the whole folder when <paramref name="changed"/> is null or names
    /// something a path alone cannot settle: a folder (moved in or out with its posts inside) or a
    /// <c>_metadata.yml</c>, whose values every post below it inherits.
    /// </summary>
    public CatalogSnapshot Refresh(IReadOnlyCollection<string>? changed)
    {
        lock (_gate)
        {
            if (changed is null || Stamps(changed) is not { } stamps)
                return RefreshAll();
            var next = new Dictionary<string, Entry>(_entries, StringComparer.Ordinal);
            var toRead = new Dictionary<string, SourceStamp>(StringComparer.Ordinal);
            foreach (var (path, stamp) in stamps)
            {
                if (stamp is not { } now)
                    next.Remove(path);
                else if (!(_entries.TryGetValue(path, out var entry) && entry.Stamp == now))
                    toRead[path] = now;
            }
            return Read(next, toRead);
        }
    }

    private CatalogSnapshot RefreshAll()
    {
        var (files, metadata) = List();
        _defaults = Defaults(metadata);
        if (!SameStamps(metadata, _metadataStamps))
            _entries.Clear();
        _metadataStamps = metadata;

        var next = new Dictionary<string, Entry>(files.Count, StringComparer.Ordinal);
        var toRead = new Dictionary<string, SourceStamp>(StringComparer.Ordinal);
        foreach (var (path, stamp) in files)
        {
            if (_entries.TryGetValue(path, out var entry) && entry.Stamp == stamp)
                next[path] = entry;
            else
                toRead[path] = stamp;
        }
        return Read(next, toRead);
    }

    /// <summary>
    /// Reads <paramref name="toRead"/> into <paramref name="next"/>, which becomes the catalog. When
    /// nothing was read or removed, the previous snapshot is returned, the same object.
    /// </summary>
    private CatalogSnapshot Read(Dictionary<string, Entry> next, Dictionary<string, SourceStamp> toRead)
    {
        if (toRead.Count == 0 && next.Count == _entries.Count && _snapshot is not null)
        {
            (LastReadCount, LastReadProblems) = (0, []);
            return _snapshot;
        }
        var read = new ConcurrentBag<(string, Entry)>();
        Parallel.ForEach(toRead, file =>
        {
            var result = loader.Load(file.Key, DefaultsFor(file.Key, _defaults), withBody: false);
            // Keep the stamp from before the read: a file written again while being read is read again next time.
            read.Add((file.Key, new Entry(file.Value, result)));
        });
        foreach (var (path, entry) in read)
            next[path] = entry;
        _entries = next;
        LastReadCount = toRead.Count;
        LastReadProblems = [.. read.OrderBy(r => r.Item1, StringComparer.Ordinal).SelectMany(r => r.Item2.Result.Problems)];
        return _snapshot = Snapshot();
    }

    /// <summary>
    /// The stamp of each post file among <paramref name="paths"/> (null: gone), skipping what is not a
    /// post (an editor's swap file, a file in a <c>_drafts</c> folder); null when only a full listing can tell.
    /// </summary>
    private Dictionary<string, SourceStamp?>? Stamps(IReadOnlyCollection<string> paths)
    {
        var stamps = new Dictionary<string, SourceStamp?>(StringComparer.Ordinal);
        var root = content.PostsRoot.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        foreach (var path in paths)
        {
            if (!path.StartsWith(root, StringComparison.Ordinal) || Directory.Exists(path))
                return null;
            var name = Path.GetFileName(path.AsSpan());
            if (name.Equals("_metadata.yml", StringComparison.Ordinal))
                return null;
            if (!IsCandidate(name) || IsHidden(path.AsSpan(root.Length)))
            {
                // A folder that is gone (deleted or moved away) leaves only its own name in the event.
                if (!File.Exists(path) && HoldsEntries(path))
                    return null;
                continue;
            }
            var file = new FileInfo(path);
            stamps[path] = file.Exists ? SourceStamp.Of(file) : null;
        }
        return stamps;
    }

    /// <summary>True when a folder on the way down from the posts folder starts with <c>_</c> or <c>.</c>: the full listing does not enter it.</summary>
    private static bool IsHidden(ReadOnlySpan<char> relative)
    {
        var folders = Path.GetDirectoryName(relative);
        foreach (var range in folders.Split(Path.DirectorySeparatorChar))
            if (folders[range] is ['_' or '.', ..])
                return true;
        return false;
    }

    private bool HoldsEntries(string folder)
    {
        var prefix = folder + Path.DirectorySeparatorChar;
        return _entries.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
    }

    private CatalogSnapshot Snapshot()
    {
        var posts = new List<Post>();
        var problems = new List<Problem>();
        problems.AddRange(_metadataProblems);
        var ids = new Dictionary<string, Post>(StringComparer.Ordinal);
        foreach (var (path, entry) in _entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            problems.AddRange(entry.Result.Problems);
            if (entry.Result.Post is not { } post)
                continue;
            if (ids.TryGetValue(post.Id, out var first))
            {
                problems.Add(Problem.Error(loader.DisplayPath(path), 1,
                    $"id '{post.Id}' is already the id of {loader.DisplayPath(first.SourcePath)}; give one of them another id: or file name"));
                continue;
            }
            ids[post.Id] = post;
            posts.Add(post);
        }
        return new CatalogSnapshot(posts, problems);
    }

    private (Dictionary<string, SourceStamp> Files, Dictionary<string, SourceStamp> Metadata) List()
    {
        var files = new Dictionary<string, SourceStamp>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, SourceStamp>(StringComparer.Ordinal);
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        var listing = new FileSystemEnumerable<(string Path, SourceStamp Stamp, bool IsMetadata)>(
            content.PostsRoot,
            (ref FileSystemEntry e) => (e.ToFullPath(), new SourceStamp(e.Length, e.LastWriteTimeUtc.UtcDateTime), e.FileName.Equals("_metadata.yml", StringComparison.Ordinal)),
            options)
        {
            ShouldRecursePredicate = (ref FileSystemEntry e) => e.FileName.Length > 0 && e.FileName[0] is not ('_' or '.'),
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && IsCandidate(e.FileName),
        };
        foreach (var (path, stamp, isMetadata) in listing)
            (isMetadata ? metadata : files)[path] = stamp;
        return (files, metadata);
    }

    private static bool IsCandidate(ReadOnlySpan<char> name)
    {
        if (name.Equals("_metadata.yml", StringComparison.Ordinal))
            return true;
        if (name.Length == 0 || name[0] is '_' or '.')
            return false;
        // Quarto's executed copy of a notebook (name.out.ipynb) is a build artefact, not a second post.
        if (name.EndsWith(".out.ipynb", StringComparison.OrdinalIgnoreCase))
            return false;
        var extension = Path.GetExtension(name);
        foreach (var allowed in PostLoader.Extensions)
            if (extension.Equals(allowed, StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }

    /// <summary>Each folder's <c>_metadata.yml</c>, chained to its parent folder's, as Quarto merges them.</summary>
    private Dictionary<string, FrontMatter> Defaults(Dictionary<string, SourceStamp> metadata)
    {
        var problems = new List<Problem>();
        var parsed = new Dictionary<string, FrontMatter>(StringComparer.Ordinal);
        foreach (var path in metadata.Keys.OrderBy(p => p.Length))
        {
            var folder = Path.GetDirectoryName(path)!;
            var parent = DefaultsFor(folder, parsed, inclusive: false);
            var display = loader.DisplayPath(path);
            var text = SourceText.Decode(File.ReadAllBytes(path), display, problems);
            if (text is not null && FrontMatter.Parse(text, 1, parent, display, problems) is { } front)
                parsed[folder] = front;
        }
        _metadataProblems = problems;
        return parsed;
    }

    private FrontMatter? DefaultsFor(string path, Dictionary<string, FrontMatter> defaults, bool inclusive = false)
    {
        var folder = inclusive ? path : Path.GetDirectoryName(path);
        while (folder is not null && folder.Length >= content.PostsRoot.Length)
        {
            if (defaults.TryGetValue(folder, out var front))
                return front;
            folder = Path.GetDirectoryName(folder);
        }
        return null;
    }

    private static bool SameStamps(Dictionary<string, SourceStamp> a, Dictionary<string, SourceStamp> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var s) && s == kv.Value);
}
