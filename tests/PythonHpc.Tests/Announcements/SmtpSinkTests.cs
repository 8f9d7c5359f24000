using PythonHpc.Announcements;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// One announcement to Postfix's smtp-sink: a volume run, then each of its fault modes (which apply
/// to every recipient), and the retry once the server is well again, on the same port.
/// </summary>
public sealed class SmtpSinkTests : IDisposable
{
    private const int Few = 20;
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    private static IEnumerable<string> Readers(int count) => Enumerable.Range(0, count).Select(i => $"reader{i:D4}@example.org");

    [Fact]
    public async Task Two_thousand_subscribers_over_four_connections_are_all_sent_and_the_announcement_is_done()
    {
        using var sink = SmtpSink.Start();
        await using var rig = AnnouncementRig.Create(_folder, sink.Port, connections: 4);
        await rig.Subscribe(Readers(2000));

        var announcement = await rig.Send();

        Assert.Equal(AnnouncementState.Done, announcement.State);
        var counts = await rig.Counts();
        Assert.Equal((2000, 0, 0, 0, 0), (counts.Sent, counts.Deferred, counts.Failed, counts.Pending, counts.PossibleDuplicates));
        Assert.Equal(2000, await sink.Received(2000));
    }

    [Fact]
    public async Task A_4xx_to_every_recipient_defers_everyone_once_with_a_retry_time_and_the_retry_delivers_them()
    {
        using var sink = SmtpSink.Start("-r", "rcpt");
        await using var rig = AnnouncementRig.Create(_folder, sink.Port);
        await rig.Subscribe(Readers(Few));

        var announcement = await rig.Send();

        Assert.Equal(AnnouncementState.Sending, announcement.State);
        var counts = await rig.Counts();
        Assert.Equal((0, Few, 0, 0), (counts.Sent, counts.Deferred, counts.Failed, counts.Pending));
        Assert.Equal(0, await sink.Received(0));
        // Nothing is due yet: the first pause is a minute, ±20 %.
        Assert.Empty(await Due(rig, announcement.Id));
        var retry = await rig.Store.NextRetry(announcement.Id, Ct);
        Assert.InRange(retry!.Value, rig.Clock.Now + TimeSpan.FromSeconds(47), rig.Clock.Now + TimeSpan.FromSeconds(73));
        rig.Clock.Advance(TimeSpan.FromSeconds(73));
        var due = await Due(rig, announcement.Id);
        Assert.Equal(Few, due.Count);
        Assert.All(due, d => Assert.Equal((1, true), (d.Attempts, d.FirstAttempt is not null)));

        sink.Dispose();
        using var well = SmtpSink.Start(sink.Port);
        await SendUntilDone(rig);

        counts = await rig.Counts();
        Assert.Equal((Few, 0, 0, 0), (counts.Sent, counts.Deferred, counts.Failed, counts.PossibleDuplicates));
        Assert.Equal(Few, await well.Received(Few));
    }

    [Fact]
    public async Task A_5xx_to_every_recipient_fails_everyone_at_once_without_bouncing_them_after_one_failure()
    {
        using var sink = SmtpSink.Start("-f", "rcpt");
        await using var rig = AnnouncementRig.Create(_folder, sink.Port);
        await rig.Subscribe(Readers(Few));

        var announcement = await rig.Send();

        // Nothing is left to try, so the announcement is done.
        Assert.Equal(AnnouncementState.Done, announcement.State);
        var counts = await rig.Counts();
        Assert.Equal((0, 0, Few, 0), (counts.Sent, counts.Deferred, counts.Failed, counts.Pending));
        Assert.Empty(await Due(rig, announcement.Id));
        // smtp-sink answers "500 5.3.0 Error: command failed": a hard failure, but not an unknown
        // mailbox (5.1.1), so one is not enough to bounce a subscriber (Mail:BounceAfter is 3).
        foreach (var address in Readers(Few))
            Assert.Equal(SubscriberStatus.Confirmed, (await rig.Subscribers.SubscriberByEmail(new EmailAddress(address), Ct))!.Status);
        Assert.Equal(0, await sink.Received(0));
    }

    [Fact]
    public async Task A_hang_up_after_the_final_dot_defers_everyone_as_possibly_delivered_and_the_retry_sends_them_again()
    {
        using var sink = SmtpSink.Start("-q", ".");
        await using var rig = AnnouncementRig.Create(_folder, sink.Port);
        await rig.Subscribe(Readers(Few));

        var announcement = await rig.Send();

        Assert.Equal(AnnouncementState.Sending, announcement.State);
        var counts = await rig.Counts();
        Assert.Equal((0, Few, 0, Few), (counts.Sent, counts.Deferred, counts.Failed, counts.PossibleDuplicates));
        // The server did take every message before hanging up: the duplicates are real ones.
        Assert.Equal(Few, await sink.Received(Few));

        sink.Dispose();
        using var well = SmtpSink.Start(sink.Port);
        await SendUntilDone(rig);

        counts = await rig.Counts();
        Assert.Equal((Few, 0, 0, Few), (counts.Sent, counts.Deferred, counts.Failed, counts.PossibleDuplicates));
        Assert.Equal(Few, await well.Received(Few));
    }

    [Fact]
    public async Task A_421_and_hang_up_at_every_recipient_defers_everyone_over_new_connections_and_the_retry_delivers_them()
    {
        using var sink = SmtpSink.Start("-Q", "rcpt");
        await using var rig = AnnouncementRig.Create(_folder, sink.Port);
        await rig.Subscribe(Readers(Few));

        var announcement = await rig.Send();

        // The run went on to the end: every row has an outcome, none is left pending.
        Assert.Equal(AnnouncementState.Sending, announcement.State);
        var counts = await rig.Counts();
        Assert.Equal((0, Few, 0, 0, 0), (counts.Sent, counts.Deferred, counts.Failed, counts.Pending, counts.PossibleDuplicates));
        // One session per message (each 421 ends one), and the readiness probe's.
        Assert.Equal(Few + 1, await sink.Ended(Few + 1));
        Assert.Equal(0, await sink.Received(0));

        sink.Dispose();
        using var well = SmtpSink.Start(sink.Port);
        await SendUntilDone(rig);

        counts = await rig.Counts();
        Assert.Equal((Few, 0, 0), (counts.Sent, counts.Deferred, counts.Failed));
        Assert.Equal(Few, await well.Received(Few));
    }

    /// <summary>
    /// Retries as the schedule would, each past the longest pause so far. Connections kept from the
    /// old server are found dead by the first message sent on each, which is deferred again (never
    /// lost or failed): so it may take a second round, never more.
    /// </summary>
    private static async Task SendUntilDone(AnnouncementRig rig)
    {
        for (var round = 1; round <= 2; round++)
        {
            rig.Clock.Advance(TimeSpan.FromMinutes(5));
            if ((await rig.Send()).State == AnnouncementState.Done)
                return;
            Assert.True((await rig.Counts()).Deferred <= 2, $"round {round}: {await rig.Counts()}");
        }
        Assert.Fail($"not done after two retries: {await rig.Counts()}");
    }

    /// <summary>The rows due now, as a run would take them, given back at once (claimed by an owner of the test's own).</summary>
    private static async Task<IReadOnlyList<Delivery>> Due(AnnouncementRig rig, long id)
    {
        var rows = await rig.Store.ClaimDeliveries(id, "test", rig.Clock.Now + TimeSpan.FromMinutes(1), 0, 100, Ct);
        await rig.Store.ReleaseClaims(id, "test", Ct);
        return rows;
    }
}
