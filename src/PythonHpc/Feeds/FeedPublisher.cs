using System.Diagnostics;
using PythonHpc.Content;

namespace PythonHpc.Feeds;

/// <summary>What the last build did, for <c>/healthz</c> and the logs.</summary>
internal sealed record FeedStatus(DateTimeOffset BuiltAt, TimeSpan Took, int Posts, int Published, int Errors, int Warnings, int Feeds, DateTimeOffset? NextPublication);

/// <summary>
/// Keeps the served feeds in step with the posts folder: builds at start (before the first request
/// is served), again shortly after any file under the folder changes, when a scheduled post's date
/// arrives, and every minute in case the file watcher missed an event (network file systems do).
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

    private readonly SemaphoreSlim _changed = new(0);
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
        Rebuild();
        _watcher = Watch(contentOptions.PostsRoot);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = Rescan;
            if (Status?.NextPublication is { } next)
                wait = TimeSpan.FromTicks(Math.Clamp((next - time.GetUtcNow()).Ticks, 0, Rescan.Ticks)) + TimeSpan.FromMilliseconds(1);
            try
            {
                if (await _changed.WaitAsync(wait, stoppingToken))
                {
                    // Editors save in bursts (write, rename, touch): wait for the burst to end, then build once.
                    while (await _changed.WaitAsync(Debounce, stoppingToken))
                    {
                    }
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            Rebuild();
        }
    }

    public override void Dispose()
    {
        _watcher?.Dispose();
        _changed.Dispose();
        base.Dispose();
    }

    /// <summary>Builds the feeds from the folder as it is now and swaps them in. Never throws.</summary>
    public void Rebuild()
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var snapshot = catalog.Refresh();
            foreach (var problem in catalog.LastReadProblems)
                LogProblem(problem);
            var now = time.GetUtcNow();
            var published = snapshot.PublishedAt(now);
            var documents = builder.Build(published, content.Render);
            content.Sweep();
            var lastModified = WriteOutput(documents);
            _current = _current.With(documents, path => lastModified?.GetValueOrDefault(path, now) ?? now);
            Status = new FeedStatus(now, clock.Elapsed, snapshot.Posts.Count, published.Count,
                snapshot.Problems.Count(p => p.Severity == Severity.Error), snapshot.Problems.Count(p => p.Severity == Severity.Warning),
                documents.Count, snapshot.NextPublicationAfter(now));
            Snapshot = snapshot;
            if (catalog.LastReadCount > 0)
                LogBuilt(published.Count, snapshot.Posts.Count, documents.Count, catalog.LastReadCount, clock.ElapsedMilliseconds);
            Rebuilt?.Invoke();
        }
        catch (Exception e)
        {
            LogBuildFailed(e);
        }
    }

    private IReadOnlyDictionary<string, DateTimeOffset>? WriteOutput(IReadOnlyList<FeedDocument> documents)
    {
        try
        {
            return FeedOutput.Write(options.OutputPath, documents).LastModified;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogOutputFailed(options.OutputPath, e.Message);
            return null;
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
            FileSystemEventHandler changed = (_, _) => _changed.Release();
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (_, _) => _changed.Release();
            // An overflow loses events, not changes: the next build lists the whole folder anyway.
            watcher.Error += (_, _) => _changed.Release();
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Feeds built: {Published} of {Posts} posts published in {Feeds} files ({Read} files read) in {Milliseconds} ms")]
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
