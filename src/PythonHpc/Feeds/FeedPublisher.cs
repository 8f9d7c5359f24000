using System.Diagnostics;
using PythonHpc.Content;

namespace PythonHpc.Feeds;

/// <summary>
/// What the last build did, for <c>/healthz</c> and the logs: <see cref="Read"/> post files read again,
/// <see cref="Rebuilt"/> the feed files built (every one at start; after a change, only the main feeds and
/// those of the changed posts' categories).
/// </summary>
internal sealed record FeedStatus(DateTimeOffset BuiltAt, TimeSpan Took, int Posts, int Published, int Errors, int Warnings, int Feeds,
    DateTimeOffset? NextPublication, int Read, IReadOnlyList<string> Rebuilt);

/// <summary>
/// Keeps the served feeds in step with the posts folder. At start it reads every post and builds
/// every feed, before the first request is served. Then the file watcher's events name what
/// changed: shortly after a burst of them only those files are read again, and only the feeds they
/// can change are built (the main ones, their categories', their chapters) and swapped in with the
/// others kept. A watcher that overflows or fails, a folder moved in or out, or a changed
/// <c>_metadata.yml</c> makes the next refresh list the whole folder; so does a timer every minute,
/// for file systems that miss events (network ones do), and the moment a scheduled post is due.
/// A failed build is logged and the previous feeds stay served.
/// </summary>
internal sealed partial class FeedPublisher(
    PostCatalog catalog,
    PostContent content,
    FeedBuilder builder,
    ContentOptions contentOptions,
    FeedsOptions options,
    TimeProvider time,
    ILogger<FeedPublisher> logger) : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(30);
    private static readonly TimeSpan Rescan = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan StartSettles = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _changed = new(0);
    private readonly Lock _pendingGate = new();
    private HashSet<string> _pending = new(StringComparer.Ordinal);
    private bool _listAll;
    private bool _outputStale = true;
    private IReadOnlyList<Post>? _published;
    private FileSystemWatcher? _watcher;
    private volatile FeedSet _current = FeedSet.Empty;

    public FeedSet Current => _current;

    public FeedStatus? Status { get; private set; }

    /// <summary>The posts as the last build read them (announcements look for new webinars in them).</summary>
    public CatalogSnapshot? Snapshot { get; private set; }

    /// <summary>Raised after each build that read the folder: the announcements' detector listens.</summary>
    public event Action? Rebuilt;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Watch first: a change made while the first build reads the folder is then not missed.
        _watcher = Watch(contentOptions.PostsRoot);
        Rebuild(null);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = Rescan;
            if (Status?.NextPublication is { } next)
                wait = TimeSpan.FromTicks(Math.Clamp((next - time.GetUtcNow()).Ticks, 0, Rescan.Ticks)) + TimeSpan.FromMilliseconds(1);
            bool signalled;
            try
            {
                signalled = await _changed.WaitAsync(wait, stoppingToken);
                // Editors save in bursts (write a temporary file, rename it over the post, touch it): wait for the burst to end.
                if (signalled)
                    while (await _changed.WaitAsync(Debounce, stoppingToken))
                    {
                    }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var (paths, listAll) = TakePending();
            Rebuild(signalled && !listAll ? paths : null);
        }
    }

    public override void Dispose()
    {
        _watcher?.Dispose();
        _changed.Dispose();
        base.Dispose();
    }

    /// <summary>Reads the whole folder again and builds what changed. Never throws.</summary>
    public void Rebuild() => Rebuild(null);

    /// <summary>
    /// Reads <paramref name="changed"/> again (null: lists the whole folder), builds the feeds the
    /// changed posts appear in, and swaps them in. Never throws.
    /// </summary>
    private void Rebuild(IReadOnlyCollection<string>? changed)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var previous = Snapshot;
            var snapshot = catalog.Refresh(changed);
            foreach (var problem in catalog.LastReadProblems)
                LogProblem(problem);
            var now = time.GetUtcNow();
            var published = snapshot.PublishedAt(now);
            var touched = _published is null ? null : Touched(_published, published);
            if (touched is { Count: 0 } && ReferenceEquals(snapshot, previous))
                return;
            var change = touched is { Count: 0 } ? null : Build(published, touched, now);
            var rebuilt = change?.Rebuilt ?? [];
            _published = published;
            // Status first: whoever sees the new feeds then also sees the build that made them.
            Status = new FeedStatus(now, clock.Elapsed, snapshot.Posts.Count, published.Count,
                snapshot.Problems.Count(p => p.Severity == Severity.Error), snapshot.Problems.Count(p => p.Severity == Severity.Warning),
                (change?.Set ?? _current).Count, snapshot.NextPublicationAfter(now), catalog.LastReadCount, rebuilt);
            Snapshot = snapshot;
            if (change is not null)
            {
                // Swapped in before writing: a reader of the service need not wait for the disk.
                _current = change.Set;
                WriteOutput(change);
                Compact(_current, change.Changed, everything: touched is null);
            }
            if (catalog.LastReadCount > 0 || rebuilt.Count > 0)
                LogBuilt(published.Count, snapshot.Posts.Count, rebuilt.Count, catalog.LastReadCount, clock.ElapsedMilliseconds);
            Rebuilt?.Invoke();
        }
        catch (Exception e)
        {
            LogBuildFailed(e);
        }
    }

    /// <summary>Builds the feeds <paramref name="touched"/> posts appear in (null: every feed); returns the set they make and their paths.</summary>
    private FeedSet.Change Build(IReadOnlyList<Post> published, List<Post>? touched, DateTimeOffset now)
    {
        var scopes = touched is null ? null : FeedScope.Touched(touched, builder.SlugOf);
        var built = builder.Build(published, content.Render, scopes);
        content.Keep(built.Shown);
        return _current.With(built.Documents, scopes, _ => now);
    }

    /// <summary>
    /// Compresses the new files off the build's path (a reader asking for gzip meanwhile waits for
    /// its file alone) and lets go of their uncompressed bytes. After the first build the runtime is
    /// also asked, once the start's one-time work is over (that build read every post; the
    /// announcements' first look records every post it sees), to give back the memory it took:
    /// the GC keeps a heap grown once for good otherwise, and an idle service should hold what it uses.
    /// </summary>
    private static void Compact(FeedSet served, IReadOnlyList<FeedDocument> changed, bool everything)
    {
        // The files alone, not the documents: they hold the very bytes to let go of.
        FeedFile[] files = [.. changed.Select(d => served.Find(d.Path)).OfType<FeedFile>()];
        _ = Task.Run(async () =>
        {
            Parallel.ForEach(files, file => file.Compact());
            if (!everything)
                return;
            await Task.Delay(StartSettles);
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        });
    }

    /// <summary>The published posts in one list and not the other (unchanged posts are the same objects in both).</summary>
    private static List<Post> Touched(IReadOnlyList<Post> before, IReadOnlyList<Post> after)
    {
        var was = before.ToHashSet(ReferenceEqualityComparer.Instance);
        var @is = after.ToHashSet(ReferenceEqualityComparer.Instance);
        return [.. before.Where(p => !@is.Contains(p)), .. after.Where(p => !was.Contains(p))];
    }

    private (IReadOnlyCollection<string> Paths, bool ListAll) TakePending()
    {
        lock (_pendingGate)
        {
            var taken = (_pending, _listAll);
            (_pending, _listAll) = (new HashSet<string>(StringComparer.Ordinal), false);
            return taken;
        }
    }

    private void Changed(string path)
    {
        lock (_pendingGate)
            _pending.Add(path);
        _changed.Release();
    }

    private void ListAll()
    {
        lock (_pendingGate)
            _listAll = true;
        _changed.Release();
    }

    /// <summary>
    /// Writes the files that changed (all of them after a failed write or at start, comparing with
    /// what is on disk). The served set keeps its dates: at start, the files' own; after, the build's.
    /// </summary>
    private void WriteOutput(FeedSet.Change change)
    {
        try
        {
            if (_outputStale)
            {
                var all = change.Set.Paths.Order(StringComparer.Ordinal).Select(p => change.Set.Find(p)!.Document).ToList();
                var written = FeedOutput.Write(options.OutputPath, all);
                // A new set, not a change of this one: every file takes its date from the disk.
                _current = FeedSet.Empty.With(all, null, p => written.LastModified.GetValueOrDefault(p, time.GetUtcNow())).Set;
            }
            else
            {
                FeedOutput.Apply(options.OutputPath, change.Changed, change.Removed, change.Set.Paths);
            }
            _outputStale = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _outputStale = true;
            LogOutputFailed(options.OutputPath, e.Message);
        }
    }

    private FileSystemWatcher? Watch(string folder)
    {
        try
        {
            var watcher = new FileSystemWatcher(folder)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
                InternalBufferSize = 64 * 1024,
            };
            FileSystemEventHandler changed = (_, e) => Changed(e.FullPath);
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            // An editor's save is often a rename of a temporary file over the post: both names matter.
            watcher.Renamed += (_, e) =>
            {
                Changed(e.OldFullPath);
                Changed(e.FullPath);
            };
            // An overflow (InternalBufferOverflowException) loses events, not changes: list the whole folder.
            watcher.Error += (_, _) => ListAll();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            LogWatchFailed(folder, e.Message);
            return null;
        }
    }

    private void LogProblem(Problem problem)
    {
        if (problem.Severity == Severity.Error)
            LogPostError(problem.ToString());
        else
            LogPostWarning(problem.ToString());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feeds built: {Published} of {Posts} posts published; {Feeds} files built ({Read} posts read) in {Milliseconds} ms")]
    private partial void LogBuilt(int published, int posts, int feeds, int read, long milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Problem}")]
    private partial void LogPostError(string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Problem}")]
    private partial void LogPostWarning(string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Building the feeds failed; the previous feeds are still served")]
    private partial void LogBuildFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot write the feeds to {Folder} (Feeds:OutputPath): {Reason}; they are still served over HTTP")]
    private partial void LogOutputFailed(string folder, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot watch {Folder} for changes ({Reason}); posts are read again every minute")]
    private partial void LogWatchFailed(string folder, string reason);
}
