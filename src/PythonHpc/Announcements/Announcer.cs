using PythonHpc.Content;

namespace PythonHpc.Announcements;

/// <summary>
/// Sends announcements, one process at a time for each: a lease on the announcement's row, renewed
/// while it sends, keeps the service's job and <c>announce send-now</c> (or, later, another node)
/// from sending the same rows together. An announcement is done when no row is pending or deferred.
/// </summary>
internal sealed partial class Announcer(AnnouncementStore store, DeliveryRun run, TimeProvider clock, ILogger<Announcer> log)
{
    private static readonly TimeSpan LeaseFor = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(30);

    /// <summary>This process, as lease owner.</summary>
    public static readonly string Owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>The last run, for <c>/healthz</c>.</summary>
    public (Announcement Announcement, RunProgress Progress)? Last { get; private set; }

    /// <summary>
    /// Sends every open announcement (with <paramref name="includeScheduled"/> false, only those
    /// already sending: a retry firing must not send early what waits for the schedule). Returns
    /// when the earliest deferred row is due, for the caller to come back then.
    /// </summary>
    public async Task<DateTimeOffset?> SendOpen(bool includeScheduled, Func<string, Post?> findPost, CancellationToken stop)
    {
        DateTimeOffset? nextRetry = null;
        foreach (var announcement in await store.OpenAnnouncements(stop))
        {
            if (stop.IsCancellationRequested)
                break;
            if (!includeScheduled && announcement.State == AnnouncementState.Scheduled)
                continue;
            // Held by another process: come back when its lease would have lapsed, in case it died.
            var retry = await Send(announcement, findPost(announcement.PostId), report: null, stop) is null
                ? clock.GetUtcNow() + LeaseFor
                : await store.NextRetry(announcement.Id, stop);
            if (retry is { } at && (nextRetry is null || at < nextRetry))
                nextRetry = at;
        }
        return nextRetry;
    }

    /// <summary>Sends the due rows of <paramref name="announcement"/>; null when another process holds it.</summary>
    public async Task<RunProgress?> Send(Announcement announcement, Post? post, Action<RunProgress>? report, CancellationToken stop)
    {
        if (!await Lease(announcement.Id, stop))
        {
            LogLeased(log, announcement.Id);
            return null;
        }
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var renewing = new CancellationTokenSource();
        var renewal = Renew(announcement.Id, lost, renewing.Token);
        try
        {
            var progress = await run.Send(announcement, post, report, lost.Token);
            Last = (announcement, progress);
            if (await store.Finish(announcement.Id, CancellationToken.None))
            {
                var counts = await store.Counts(announcement.Id, CancellationToken.None);
                LogDone(log, announcement.Id, announcement.Title, counts);
            }
            return progress;
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
            await store.ReleaseLease(announcement.Id, Owner, CancellationToken.None);
        }
    }

    /// <summary>
    /// Takes the lease, or takes it over from a process of this machine that no longer runs: a
    /// service killed mid-run would otherwise block its own restart until the lease lapses, and the
    /// restart's retry firing would find the announcement "sent by another process" and leave it.
    /// </summary>
    private async Task<bool> Lease(long id, CancellationToken stop)
    {
        if (await store.TakeLease(id, Owner, clock.GetUtcNow() + LeaseFor, stop))
            return true;
        return await store.LeaseOwner(id, stop) is { } holder && IsGone(holder)
            && await store.ReleaseLease(id, holder, stop)
            && await store.TakeLease(id, Owner, clock.GetUtcNow() + LeaseFor, stop);
    }

    /// <summary>
    /// Whether <paramref name="owner"/> (an <see cref="Owner"/>) is a process of this machine that is
    /// gone: its id runs nothing, or runs this process, which is not it (a container restarted with
    /// the same id). Another machine's owner, or an id now reused by another process, is not known
    /// gone: its lease lapses in time.
    /// </summary>
    internal static bool IsGone(string owner)
    {
        var parts = owner.Split(':');
        if (parts.Length < 3 || string.Join(':', parts[..^2]) != Environment.MachineName || !int.TryParse(parts[^2], out var pid))
            return false;
        if (pid == Environment.ProcessId)
            return owner != Owner;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>Keeps the lease; if it was lost (this process stalled past it), stops the run.</summary>
    private async Task Renew(long id, CancellationTokenSource lost, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(RenewEvery, clock, done);
                if (!await store.TakeLease(id, Owner, clock.GetUtcNow() + LeaseFor, done))
                {
                    LogLeaseLost(log, id);
                    await lost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Announcement {Id} is being sent by another process; left to it")]
    private static partial void LogLeased(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Announcement {Id}: the lease was lost; sending stops and resumes at the next firing")]
    private static partial void LogLeaseLost(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Announcement {Id} ({Title}) is done: {Counts}")]
    private static partial void LogDone(ILogger logger, long id, string title, DeliveryCounts counts);
}
