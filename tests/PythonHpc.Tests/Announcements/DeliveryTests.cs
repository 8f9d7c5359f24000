using PythonHpc.Announcements;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>One announcement through the ledger to aiosmtpd answering per recipient: exact accounting.</summary>
public sealed class DeliveryTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Everyone_else_gets_one_message_450s_go_on_retry_550s_are_never_retried_and_it_is_done_only_then(string provider)
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        await using var rig = AnnouncementRig.Create(_folder, server.Port, connections: 3, provider: provider);
        var normal = Enumerable.Range(0, 60).Select(i => $"reader{i:D2}@example.org").ToList();
        string[] greylisted = ["grey1-450once@example.org", "grey2-450once@example.org"];
        string[] busy = ["busy-450@example.org"];
        string[] unknown = ["gone1-550@example.org", "gone2-550@example.org"];
        await rig.Subscribe([.. normal.Take(30), .. greylisted, .. unknown, .. busy, .. normal.Skip(30)]);

        var first = await rig.Send();
        Assert.Equal(AnnouncementState.Sending, first.State);
        Assert.Equal(normal.Order(), server.Recipients.Order());
        var counts = await rig.Counts();
        Assert.Equal((60, 3, 2, 0), (counts.Sent, counts.Deferred, counts.Failed, counts.Pending));
        // 550 5.1.1 is an unknown mailbox: bounced at the first hard failure.
        foreach (var address in unknown)
            Assert.Equal(SubscriberStatus.Bounced, (await rig.Subscribers.SubscriberByEmail(new EmailAddress(address), Ct))!.Status);

        // Nothing is due before its retry time; then the greylisted ones go, once.
        await rig.Send();
        Assert.Equal(60, server.Recipients.Count);
        rig.Clock.Advance(TimeSpan.FromHours(2));
        await rig.Send();
        Assert.Equal(normal.Concat(greylisted).Order(), server.Recipients.Order());
        Assert.Equal(AnnouncementState.Sending, (await rig.Send()).State);

        // Past Mail:RetryFor the busy one has failed, and with no row left the announcement is done.
        rig.Clock.Advance(TimeSpan.FromDays(3));
        var last = await rig.Send();
        Assert.Equal(AnnouncementState.Done, last.State);
        counts = await rig.Counts();
        Assert.Equal((62, 0, 3, 0), (counts.Sent, counts.Deferred, counts.Failed, counts.Pending));
        Assert.All(unknown, u => Assert.Single(server.Answers, a => a.Address == u));
        Assert.Equal(3, server.Answers.Count(a => a.Address == busy[0]));
        Assert.Equal(server.Recipients.Count, server.Recipients.Distinct().Count());
    }

    [Fact]
    public async Task Each_message_is_for_its_subscriber_with_their_own_unsubscribe_link_and_a_stable_Message_ID()
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        await using var rig = AnnouncementRig.Create(_folder, server.Port);
        await rig.Subscribe(["ada@example.org", "grace@example.org"]);
        await rig.Send();
        var messages = server.Messages.Select(Mailbox.Read).ToList();
        Assert.Equal(2, messages.Count);
        var tokens = new SubscriberTokens(System.Text.Encoding.UTF8.GetBytes(ServiceHost.Secret), TimeProvider.System, TimeSpan.FromDays(7));
        foreach (var message in messages)
        {
            var to = message.Header("To");
            var subscriber = (await rig.Subscribers.SubscriberByEmail(new EmailAddress(to), Ct))!;
            var link = new Uri(message.Header("List-Unsubscribe").Split(',')[0].Trim('<', '>', ' '));
            Assert.Equal(subscriber.Id, tokens.Read(link.Segments[^1], TokenPurpose.Unsubscribe));
            Assert.Contains(link.AbsoluteUri, message.Part("text/plain"));
        }
        Assert.NotEqual(messages[0].Header("Message-ID"), messages[1].Header("Message-ID"));
    }

    [Fact]
    public async Task Those_who_leave_before_their_message_goes_are_skipped_and_those_who_confirm_later_are_added()
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null);
        await rig.Subscribe(["stays@example.org", "leaves@example.org"]);
        var announcement = await rig.Store.AnnouncementFor(rig.Post, Ct);
        Assert.Equal(2, await rig.Store.AddDeliveries(announcement.Id, Ct));
        var leaver = (await rig.Subscribers.SubscriberByEmail(new EmailAddress("leaves@example.org"), Ct))!;
        await rig.Subscribers.Unsubscribe(leaver.Id, Ct);
        await rig.Subscribe(["late@example.org"]);
        await rig.Send();
        var counts = await rig.Counts();
        Assert.Equal((2, 1), (counts.Sent, counts.Skipped));
        var to = new Mailbox(_folder["mail"]).Files.Select(f => Mailbox.Read(f).Header("To")).Order();
        Assert.Equal(["late@example.org", "stays@example.org"], to);
    }

    [Fact]
    public async Task A_ledger_that_cannot_be_written_stops_the_run_instead_of_hanging_and_a_later_run_finishes_it()
    {
        const int readers = 1500;
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null);
        await rig.Subscribe(Enumerable.Range(0, readers).Select(i => $"reader{i:D4}@example.org"));
        var mail = _folder["mail"];
        int Written() => Directory.Exists(mail) ? Directory.GetFiles(mail, "*.eml").Length : 0;
        var sending = Task.Run(rig.Send, Ct);
        for (var waited = 0; Written() < 100 && waited < 30_000; waited += 10)
            await Task.Delay(10, Ct);

        // Another process holds SQLite's write lock for longer than the store's busy timeout (1 s here):
        // the senders' commits fail (and the reader's next claim, if it comes first). The run must end
        // with that error, not wait for ever with the reader stuck on a full queue no sender takes from
        // (it did: this test timed out before senders cancelled the reading).
        int stopped;
        await using (await rig.HoldWriteLock())
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(TimeSpan.FromSeconds(60), Ct));
            Assert.IsNotType<TimeoutException>(error);
            Assert.Contains("database is locked", error.ToString(), StringComparison.Ordinal);
            stopped = Written();
            Assert.InRange(stopped, 100, readers - 1);
        }

        // A later run (once this process's claims have lapsed) sends the rest: each reader has the
        // announcement, and at most one message per sender went twice (sent, its outcome not committed).
        rig.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(AnnouncementState.Done, (await rig.Send()).State);
        Assert.Equal(readers, (await rig.Counts()).Sent);
        Assert.InRange(Written(), readers, readers + 2);
    }
}
