using PythonHpc.Announcements;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>The ledger's promise under concurrent senders: an outcome is in the database when Record returns.</summary>
public sealed class LedgerTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Outcomes_recorded_at_once_by_many_senders_are_each_committed_before_Record_returns(string provider)
    {
        const int senders = 8, each = 60;
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, provider: provider);
        await rig.Subscribe(Enumerable.Range(1, senders * each).Select(i => $"reader{i:D4}@example.org"));
        var announcement = await rig.Store.AnnouncementFor(rig.Post, Ct);
        Assert.Equal(senders * each, await rig.Store.AddDeliveries(announcement.Id, Ct));
        var rows = await rig.Store.ClaimDeliveries(announcement.Id, 0, senders * each, Ct);

        using var ledger = await Ledger.Open(rig.Store.Database, announcement.Id, rig.Clock, Ct);
        var returned = 0;
        var shortfalls = 0;
        await Task.WhenAll(Enumerable.Range(0, senders).Select(sender => Task.Run(async () =>
        {
            foreach (var row in rows.Skip(sender * each).Take(each))
            {
                ledger.Record(new DeliveryOutcome(row.SubscriberId, DeliveryStatus.Sent, 1, rig.Clock.Now, null, "250 ok", $"m{row.SubscriberId}@x", 0));
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
}
