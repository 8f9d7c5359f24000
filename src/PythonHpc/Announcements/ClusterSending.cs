using PythonHpc.Feeds;

namespace PythonHpc.Announcements;

/// <summary>
/// The other nodes' share of a run. Quartz fires the send job on one node of a cluster (a trigger's
/// firing goes to one node); every node looks here, every couple of seconds, for an announcement
/// already being sent with rows free to claim, and sends those too. The claims keep the nodes off each
/// other's rows, and the same look finds the rows of a node that died once its claims lapse.
/// </summary>
internal sealed partial class ClusterSending(Announcer announcer, FeedPublisher feeds, ILogger<ClusterSending> log) : BackgroundService
{
    /// <summary>Short against a run of minutes, and a query a node can afford: one indexed look per open announcement.</summary>
    private static readonly TimeSpan LookEvery = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(LookEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await Look(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task Look(CancellationToken stop)
    {
        // Until this node has built its feeds it cannot tell a post that is gone from one not read yet.
        if (feeds.Snapshot is not { } snapshot)
            return;
        try
        {
            await announcer.Help(id => snapshot.Posts.FirstOrDefault(p => p.Id == id), stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database away for a moment must not stop the node: it looks again shortly.
            LogFailed(log, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Joining the announcements being sent failed; trying again shortly")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
