using PythonHpc.Feeds;
using Quartz;

namespace PythonHpc.Announcements;

/// <summary>
/// The Quartz job that sends. Fired by the schedule (<c>Announcements:Schedule</c>: every open
/// announcement goes), by a retry trigger at the time the earliest deferred row is due (only those
/// already sending), or at once when <c>Announcements:SendImmediately</c> is on. Never two at once:
/// a firing during a run waits for it, and then finds nothing left to do.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class SendAnnouncementsJob(Announcer announcer, FeedPublisher feeds, IHostApplicationLifetime lifetime, ILogger<SendAnnouncementsJob> log) : IJob
{
    public static readonly JobKey Key = new("send-announcements");
    public static readonly TriggerKey Schedule = new("schedule");
    public static readonly TriggerKey Retry = new("retry");
    public const string Scope = "scope";
    public const string RetriesOnly = "retries";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var retriesOnly = context.MergedJobDataMap.TryGetString(Scope, out var scope) && scope == RetriesOnly;
        LogFiring(log, context.Trigger.Key.Name, context.ScheduledFireTimeUtc ?? context.FireTimeUtc);
        var snapshot = feeds.Snapshot;
        // Quartz waits for a running job at shutdown (WaitForJobsToComplete) but does not tell it to
        // stop: the host's own stopping signal does, so that SIGTERM ends a run of any length at once
        // (the messages on the wire finish and are recorded; the rest wait for the next start).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var next = await announcer.SendOpen(!retriesOnly, id => snapshot?.Posts.FirstOrDefault(p => p.Id == id), stop.Token);
        if (next is { } at)
            await ScheduleRetry(context.Scheduler, at, cancellationToken);
    }

    /// <summary>
    /// One retry trigger, moved to the earliest time a deferred row is due. Stored over the old one in
    /// one store operation: "exists, then reschedule" lost the trigger when the start-up recovery
    /// removed a completed retry left by a crash between the two calls (RescheduleJob then stores nothing).
    /// </summary>
    public static async Task ScheduleRetry(IScheduler scheduler, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var trigger = TriggerBuilder.Create()
            .WithIdentity(Retry).ForJob(Key).UsingJobData(Scope, RetriesOnly).StartAt(at)
            .WithSimpleSchedule(s => s.WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
            .Build();
        await scheduler.ScheduleJob(trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Firing of '{Trigger}' scheduled for {Scheduled:u}")]
    private static partial void LogFiring(ILogger logger, string trigger, DateTimeOffset scheduled);
}
