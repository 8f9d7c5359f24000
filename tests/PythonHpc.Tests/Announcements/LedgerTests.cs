using PythonHpc.Announcements;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// The ledger's promises: an outcome is in the database when Record returns, even under concurrent
/// senders; added outcomes are committed together by whoever needs one first; a failed commit stops everyone.
/// </summary>
public sealed class LedgerTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    /// <summary>Confirmed subscribers with these addresses, the seed post's announcement with a ledger row for each, and every row claimed.</summary>
    private static async Task<(PythonHpc.Announcements.Announcement Announcement, IReadOnlyList<Delivery> Rows)> Claimed(AnnouncementRig rig, string[] emails)
    {
        await rig.Subscribe(emails);
        var announcement = await rig.Store.AnnouncementFor(rig.Post, Ct);
        Assert.Equal(emails.Length, await rig.Store.AddDeliveries(announcement.Id, Ct));
        return (announcement, await rig.Store.ClaimDeliveries(announcement.Id, 0, emails.Length, Ct));
    }

    /// <summary>The outcome of <paramref name="row"/>'s message accepted by the relay, now.</summary>
    private static DeliveryOutcome Sent(Delivery row, AnnouncementRig rig) =>
        new(row.SubscriberId, DeliveryStatus.Sent, 1, rig.Clock.Now, null, "250 ok", $"m{row.SubscriberId}@x", 0);

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Outcomes_recorded_at_once_by_many_senders_are_each_committed_before_Record_returns(string provider)
    {
        const int senders = 8, each = 60;
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, provider: provider);
        var (announcement, rows) = await Claimed(rig, Enumerable.Range(1, senders * each).Select(i => $"reader{i:D4}@example.org").ToArray());

        using var ledger = await Ledger.Open(rig.Store.Database, announcement.Id, rig.Clock, Ct);
        var returned = 0;
        var shortfalls = 0;
        await Task.WhenAll(Enumerable.Range(0, senders).Select(sender => Task.Run(async () =>
        {
            foreach (var row in rows.Skip(sender * each).Take(each))
            {
                ledger.Record(Sent(row, rig));
                var before = Interlocked.Increment(ref returned);
                // Read on another connection: every outcome whose Record has returned must be there.
                if ((await rig.Store.Counts(announcement.Id, Ct)).Sent < before)
                    Interlocked.Increment(ref shortfalls);
            }
        }, Ct)));

        Assert.Equal(0, shortfalls);
        var counts = await rig.Store.Counts(announcement.Id, Ct);
        Assert.Equal(senders * each, counts.Sent);
        Assert.Equal(0, counts.Pending);
    }

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Added_outcomes_are_committed_together_by_the_first_sender_that_needs_one(string provider)
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, provider: provider);
        var (announcement, rows) = await Claimed(rig, ["a@example.org", "b@example.org", "c@example.org"]);

        using var ledger = await Ledger.Open(rig.Store.Database, announcement.Id, rig.Clock, Ct);
        var numbers = rows.Select(row => ledger.Add(Sent(row, rig))).ToList();
        Assert.Equal([1L, 2L, 3L], numbers);
        // Added is not yet committed: a sender goes on to its next message meanwhile.
        Assert.Equal(0, (await rig.Store.Counts(announcement.Id, Ct)).Sent);
        // The first sender to need its outcome in the database commits all three.
        ledger.Committed(numbers[0]);
        Assert.Equal(3, (await rig.Store.Counts(announcement.Id, Ct)).Sent);
        ledger.Committed(numbers[2]);
        Assert.Equal(3, (await rig.Store.Counts(announcement.Id, Ct)).Sent);
    }

    private static Dictionary<string, string?> OneSecondBusy => new() { ["Store:BusyTimeout"] = "00:00:01" };

    [Fact]
    public async Task A_commit_the_database_refuses_for_a_moment_is_made_again_whole()
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, extra: OneSecondBusy);
        var (announcement, rows) = await Claimed(rig, ["a@example.org", "b@example.org"]);
        using var ledger = await Ledger.Open(rig.Store.Database, announcement.Id, rig.Clock, Ct);
        var numbers = rows.Select(row => ledger.Add(Sent(row, rig))).ToList();

        // Another process holds SQLite's write lock a little past the store's busy timeout (1 s here):
        // the first attempt fails as busy, and the outcomes (messages that went) are committed by the next.
        var other = await rig.HoldWriteLock();
        var release = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
            await other.DisposeAsync();
        }, Ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ledger.Committed(numbers[1]);
        await release;
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.4), $"committed after {clock.Elapsed}: the lock was not held");
        Assert.Equal(2, (await rig.Store.Counts(announcement.Id, Ct)).Sent);
    }

    [Fact]
    public async Task Once_a_commit_fails_every_later_commit_is_refused_and_nothing_is_counted_as_recorded()
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, extra: OneSecondBusy);
        var (announcement, rows) = await Claimed(rig, ["a@example.org", "b@example.org"]);
        using var ledger = await Ledger.Open(rig.Store.Database, announcement.Id, rig.Clock, Ct);
        var first = ledger.Add(Sent(rows[0], rig));

        // Another process holds SQLite's write lock past the store's busy timeout (1 s here), through
        // every attempt.
        await using (await rig.HoldWriteLock())
        {
            Assert.ThrowsAny<System.Data.Common.DbException>(() => ledger.Committed(first));
        }
        // The lock is gone, but what failed is not retried behind the run's back: the run must stop.
        var second = ledger.Add(Sent(rows[1], rig));
        var stopped = Assert.Throws<InvalidOperationException>(() => ledger.Committed(second));
        Assert.Contains("ledger could not be written", stopped.Message);
        Assert.Equal(0, (await rig.Store.Counts(announcement.Id, Ct)).Sent);
    }
}
