using System.Collections.Concurrent;
using PythonHpc.Content;

namespace PythonHpc.Announcements;

/// <summary>
/// Sends announcements. Each delivery row is claimed by one process at a time (<see
/// cref="AnnouncementStore.ClaimDeliveries(long, long, int, CancellationToken)"/>), so the service's
/// job, <c>announce send-now</c> and the other nodes of a cluster can send one announcement together
/// without sending a row twice; a claim is renewed while its process sends, and lapses after
/// <see cref="ClusterOptions.FailoverAfter"/> when the process dies, for another to take the row.
/// An announcement is done when no row is pending or deferred.
/// </summary>
internal sealed partial class Announcer(AnnouncementStore store, DeliveryRun run, TimeProvider clock, ILogger<Announcer> log)
{
    /// <summary>This process, as the owner of its claims.</summary>
    public static readonly string Owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>The announcements this process is sending: one run each (a firing and a node's help would otherwise meet).</summary>
    private readonly ConcurrentDictionary<long, byte> _running = new();

    /// <summary>The last run, for <c>/healthz</c>.</summary>
    public (Announcement Announcement, RunProgress Progress)? Last { get; private set; }

    /// <summary>
    /// Sends every open announcement (with <paramref name="includeScheduled"/> false, only those
    /// already sending: a retry firing must not send early what waits for the schedule). Returns
    /// when the earliest deferred row is due, or another process's claim lapses, for the caller to
    /// come back then.
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
            await Send(announcement, findPost(announcement.PostId), report: null, stop);
            if (await store.NextRetry(announcement.Id, stop) is { } at && (nextRetry is null || at < nextRetry))
                nextRetry = at;
        }
        return nextRetry;
    }

    /// <summary>
    /// Joins every announcement already being sent that has rows due and free to claim: another node's
    /// run it can share, or a dead node's it takes over. Only where the post is known here: a node whose
    /// feeds are not built yet must not skip the rows as if the post were gone.
    /// </summary>
    public async Task Help(Func<string, Post?> findPost, CancellationToken stop)
    {
        foreach (var announcement in await store.OpenAnnouncements(stop))
        {
            if (stop.IsCancellationRequested)
                break;
            if (announcement.State == AnnouncementState.Sending && !_running.ContainsKey(announcement.Id)
                && findPost(announcement.PostId) is { } post && await store.HasClaimable(announcement.Id, stop))
            {
                LogHelping(log, announcement.Id);
                await Send(announcement, post, report: null, stop);
            }
        }
    }

    /// <summary>Sends the rows of <paramref name="announcement"/> this process can claim; null when this process is sending it already.</summary>
    public async Task<RunProgress?> Send(Announcement announcement, Post? post, Action<RunProgress>? report, CancellationToken stop)
    {
        if (!_running.TryAdd(announcement.Id, 0))
        {
            LogRunning(log, announcement.Id);
            return null;
        }
        try
        {
            await store.Start(announcement.Id, stop);
            await ReleaseGone(announcement.Id, stop);
            // Taken before the run's first claim: those claims last at least as long as it says.
            using var lease = new ClaimLease(clock, store.ClaimFor);
            using var renewing = new CancellationTokenSource();
            var renewal = Renew(announcement.Id, lease, renewing.Token);
            try
            {
                var progress = await run.Send(announcement, post, lease, report, stop);
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
                await store.ReleaseClaims(announcement.Id, Owner, CancellationToken.None);
            }
        }
        finally
        {
            _running.TryRemove(announcement.Id, out _);
        }
    }

    /// <summary>
    /// Gives back at once the claims of processes of this machine that no longer run: a service killed
    /// mid-run would otherwise wait for its own claims to lapse when it starts again.
    /// </summary>
    private async Task ReleaseGone(long id, CancellationToken stop)
    {
        foreach (var owner in await store.ClaimOwners(id, stop))
        {
            if (IsGone(owner))
                await store.ReleaseClaims(id, owner, stop);
        }
    }

    /// <summary>
    /// Whether <paramref name="owner"/> (an <see cref="Owner"/>) is a process of this machine that is
    /// gone: its id runs nothing, or runs this process, which is not it (a container restarted with
    /// the same id). Another machine's owner, or an id now reused by another process, is not known
    /// gone: its claims lapse in time.
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

    /// <summary>
    /// Keeps this process's claims while it sends. A renewal that fails is tried again a second later:
    /// one failure must not end the renewals of a run that goes on sending, and the claims are found
    /// lost (<see cref="ClaimLease"/>) a tenth of their length before they lapse. Claims found lost are
    /// not renewed: the rows the run still holds go back to the others until it starts afresh.
    /// </summary>
    private async Task Renew(long id, ClaimLease lease, CancellationToken done)
    {
        var retry = TimeSpan.FromSeconds(1) < lease.RenewEvery ? TimeSpan.FromSeconds(1) : lease.RenewEvery;
        try
        {
            for (var wait = lease.RenewEvery; ; )
            {
                await Task.Delay(wait, clock, done);
                await lease.Gate.WaitAsync(done);
                try
                {
                    if (!lease.Held)
                        continue;
                    var renewing = lease.Renewing();
                    await store.RenewClaims(id, done);
                    lease.Renewed(renewing);
                    wait = lease.RenewEvery;
                }
                catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or IOException)
                {
                    LogRenewFailed(log, e, id);
                    wait = retry;
                }
                finally
                {
                    lease.Gate.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Announcement {Id}: this process's claims could not be renewed; trying again")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, long id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Announcement {Id} is being sent by this process already")]
    private static partial void LogRunning(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Announcement {Id} has rows free to send: this node joins in")]
    private static partial void LogHelping(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Announcement {Id} ({Title}) is done: {Counts}")]
    private static partial void LogDone(ILogger logger, long id, string title, DeliveryCounts counts);
}
