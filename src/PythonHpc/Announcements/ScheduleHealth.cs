using Quartz;

namespace PythonHpc.Announcements;

/// <summary>The scheduler as /healthz shows it.</summary>
internal sealed record ScheduleState(string State, DateTimeOffset? NextFiring, DateTimeOffset? LastFiring, DateTime ReadAt);

/// <summary>
/// The scheduler's state and the schedule trigger's firings, read from Quartz's store at most once a
/// second: a monitor polling /healthz must not make each poll a database query (it made the
/// endpoint ten times slower, measured by bench/run).
/// </summary>
internal sealed class ScheduleHealth(ISchedulerFactory schedulers)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(1);
    private volatile ScheduleState? _last;

    public async Task<ScheduleState> Read(CancellationToken cancellationToken)
    {
        if (_last is { } last && DateTime.UtcNow - last.ReadAt < Fresh)
            return last;
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var trigger = await scheduler.GetTrigger(SendAnnouncementsJob.Schedule, cancellationToken);
        var state = (await scheduler.GetStatus(cancellationToken)).ToString().ToLowerInvariant();
        return _last = new ScheduleState(state, trigger?.NextFireTimeUtc, trigger?.PreviousFireTimeUtc, DateTime.UtcNow);
    }
}
