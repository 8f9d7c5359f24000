using PythonHpc.Content;
using PythonHpc.Feeds;
using Quartz;

namespace PythonHpc.Announcements;

/// <summary>
/// After each build of the feeds, finds published posts never seen before and announces the
/// webinars among them, due at the next firing of the schedule. Posts are known by their stable
/// item id, so a retitled, edited or renamed post is not new. On the very first look at a blog,
/// everything already published is recorded as seen and nothing is announced (nobody gets the
/// archive), unless <c>Announcements:Since</c> asks for the webinars published after a date.
/// </summary>
internal sealed partial class AnnouncementDetector(
    FeedPublisher feeds, AnnouncementStore store, AnnouncementsOptions options, ISchedulerFactory schedulers,
    TimeProvider clock, ILogger<AnnouncementDetector> log) : BackgroundService
{
    private readonly SemaphoreSlim _rebuilt = new(0);
    private SeenPosts _seen = new([], [], false);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        feeds.Rebuilt += Signal;
        return base.StartAsync(cancellationToken);
    }

    private void Signal() => _rebuilt.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _seen = await store.SeenPosts(stoppingToken);
        try
        {
            // An announcement a crash left half sent resumes now, not at the next firing.
            if ((await store.OpenAnnouncements(stoppingToken)).Any(a => a.State == AnnouncementState.Sending))
                await SendAnnouncementsJob.ScheduleRetry(await schedulers.GetScheduler(stoppingToken), clock.GetUtcNow(), stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                if (feeds.Snapshot is { } snapshot)
                    await Detect(snapshot, stoppingToken);
                await _rebuilt.WaitAsync(stoppingToken);
                while (_rebuilt.CurrentCount > 0)
                    await _rebuilt.WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Records what is new in <paramref name="snapshot"/> and creates its announcements; returns them.</summary>
    internal async Task<IReadOnlyList<Announcement>> Detect(CatalogSnapshot snapshot, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var fresh = snapshot.PublishedAt(now).Where(p => !_seen.Ids.Contains(p.Id)).ToList();
        if (fresh.Count == 0 && _seen.Initialized)
            return [];
        // Oldest first, and one announcement per recording, whatever post ids it had or has.
        var videos = new HashSet<string>(_seen.Videos, StringComparer.Ordinal);
        var webinars = fresh.Where(p => p.Webinar is not null).OrderBy(p => p.Date).Where(p => videos.Add(AnnouncementStore.VideoKey(p)!));
        if (!_seen.Initialized)
            webinars = options.SinceDate is { } since ? webinars.Where(p => p.Date > since) : [];
        var announce = webinars.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var created = await store.SeePosts(fresh, announce, cancellationToken);
        if (!_seen.Initialized)
        {
            LogFirstLook(log, fresh.Count, created.Count);
            // Once in a blog's life every post was recorded at once: give back what that took, as
            // FeedPublisher does after its first build, or an idle service keeps the heap it grew to.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        _seen.Ids.UnionWith(fresh.Select(p => p.Id));
        _seen.Videos.UnionWith(fresh.Select(AnnouncementStore.VideoKey).OfType<string>());
        _seen = _seen with { Initialized = true };
        if (created.Count == 0)
            return created;
        var next = options.Cron.GetNextValidTimeAfter(now);
        foreach (var announcement in created)
            LogAnnounced(log, announcement.Id, announcement.Title, options.SendImmediately ? "now" : $"at {next:u}");
        if (options.SendImmediately)
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken);
            await scheduler.TriggerJob(SendAnnouncementsJob.Key, cancellationToken);
        }
        return created;
    }

    public override void Dispose()
    {
        feeds.Rebuilt -= Signal;
        _rebuilt.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "First look at the posts: {Seen} published posts recorded as already announced, {Announced} announced (Announcements:Since)")]
    private static partial void LogFirstLook(ILogger logger, int seen, int announced);

    [LoggerMessage(Level = LogLevel.Information, Message = "New webinar: announcement {Id} ({Title}) goes {When}")]
    private static partial void LogAnnounced(ILogger logger, long id, string title, string when);
}
