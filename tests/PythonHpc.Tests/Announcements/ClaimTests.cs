using PythonHpc.Store;
using PythonHpc.Announcements;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>Delivery rows claimed by one owner at a time, on both providers: what lets several nodes send one announcement.</summary>
public sealed class ClaimTests : IDisposable
{
    private const int Subscribers = 1000;
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    private static IEnumerable<string> Readers(int count) => Enumerable.Range(1, count).Select(i => $"reader{i:D4}@example.org");

    private static async Task<long> Ledger(AnnouncementRig rig, int subscribers)
    {
        await rig.Subscribe(Readers(subscribers));
        var announcement = await rig.Store.AnnouncementFor(rig.Post, Ct);
        Assert.Equal(subscribers, await rig.Store.AddDeliveries(announcement.Id, Ct));
        return announcement.Id;
    }

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Owners_claiming_at_once_never_hold_the_same_row_and_between_them_hold_every_row(string provider)
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, provider: provider);
        var id = await Ledger(rig, Subscribers);
        var until = rig.Clock.Now + TimeSpan.FromMinutes(1);

        // Eight owners, each taking batches as a run does, all at once.
        var held = await Task.WhenAll(Enumerable.Range(0, 8).Select(owner => Task.Run(async () =>
        {
            var mine = new List<long>();
            long after = 0;
            while (await rig.Store.ClaimDeliveries(id, $"owner{owner}", until, after, 37, Ct) is { Count: > 0 } batch)
            {
                Assert.Equal(batch.Select(r => r.SubscriberId).Order(), batch.Select(r => r.SubscriberId));
                mine.AddRange(batch.Select(r => r.SubscriberId));
                after = batch[^1].SubscriberId;
            }
            return mine;
        }, Ct)));

        var all = held.SelectMany(h => h).ToList();
        Assert.Equal(Subscribers, all.Count);
        Assert.Equal(Subscribers, all.Distinct().Count());
        TestContext.Current.TestOutputHelper?.WriteLine("rows per owner: " + string.Join(", ", held.Select(h => h.Count)));
        Assert.False(await rig.Store.HasClaimable(id, Ct));
    }

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task A_claim_kept_renewed_stays_with_its_owner_and_one_that_lapses_goes_to_another(string provider)
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, provider: provider);
        var id = await Ledger(rig, 20);
        var lapse = TimeSpan.FromSeconds(30);

        var dead = await rig.Store.ClaimDeliveries(id, "dead", rig.Clock.Now + lapse, 0, 10, Ct);
        var alive = await rig.Store.ClaimDeliveries(id, "alive", rig.Clock.Now + lapse, 0, 10, Ct);
        Assert.Equal(Enumerable.Range(1, 10), dead.Select(r => (int)r.SubscriberId));
        Assert.Equal(Enumerable.Range(11, 10), alive.Select(r => (int)r.SubscriberId));
        // Another owner finds nothing free, and is told to come back when the first claim lapses.
        Assert.Empty(await rig.Store.ClaimDeliveries(id, "other", rig.Clock.Now + lapse, 0, 100, Ct));
        Assert.Equal(rig.Clock.Now + lapse, (await rig.Store.NextRetry(id, Ct))!.Value, TimeSpan.FromMilliseconds(1));

        rig.Clock.Advance(lapse / 2);
        Assert.True(await rig.Store.RenewClaims(id, "alive", rig.Clock.Now + lapse, Ct));
        rig.Clock.Advance((lapse / 2) + TimeSpan.FromSeconds(1));

        // "dead" stopped renewing: its rows, and only those, go to the next owner that looks, even to a
        // run whose cursor has passed them (it is past subscriber 20 here).
        Assert.True(await rig.Store.HasClaimable(id, Ct));
        var taken = await rig.Store.ClaimDeliveries(id, "other", rig.Clock.Now + lapse, 20, 100, Ct);
        Assert.Equal(dead.Select(r => r.SubscriberId), taken.Select(r => r.SubscriberId));

        // Given back, rows are free at once.
        Assert.True(await rig.Store.ReleaseClaims(id, "alive", Ct));
        Assert.Equal(alive.Select(r => r.SubscriberId), (await rig.Store.ClaimDeliveries(id, "third", rig.Clock.Now + lapse, 0, 100, Ct)).Select(r => r.SubscriberId));
        Assert.Equal(["other", "third"], (await rig.Store.ClaimOwners(id, Ct)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task On_PostgreSQL_a_renewal_passes_over_a_row_being_recorded_rather_than_waiting_for_it()
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, provider: Stores.Postgres);
        var id = await Ledger(rig, 3);
        var lapse = TimeSpan.FromSeconds(30);
        var mine = await rig.Store.ClaimDeliveries(id, "me", rig.Clock.Now + lapse, 0, 10, Ct);
        Assert.Equal(3, mine.Count);

        // The ledger's transaction, on a connection of its own, has updated one row and not yet committed.
        await using var ledger = await rig.Store.Database.ConnectAloneAsync(Ct);
        await using var recording = await ledger.BeginTransactionAsync(Ct);
        await using (var update = ledger.CreateCommand())
        {
            update.Transaction = recording;
            update.CommandText = "UPDATE deliveries SET last_reply = 'being recorded' WHERE announcement_id = @id AND subscriber_id = @subscriber";
            update.With("id", id).With("subscriber", mine[0].SubscriberId);
            Assert.Equal(1, await update.ExecuteNonQueryAsync(Ct));
        }

        // The renewal does not wait for that row: waiting is what could deadlock with the ledger's next one.
        rig.Clock.Advance(lapse / 2);
        Assert.True(await rig.Store.RenewClaims(id, "me", rig.Clock.Now + lapse, Ct).WaitAsync(TimeSpan.FromSeconds(5), Ct));
        await recording.RollbackAsync(Ct);

        // The two other rows were renewed; the row passed over keeps its first claim, which lapses.
        rig.Clock.Advance((lapse / 2) + TimeSpan.FromSeconds(1));
        var taken = await rig.Store.ClaimDeliveries(id, "other", rig.Clock.Now + lapse, 0, 10, Ct);
        Assert.Equal([mine[0].SubscriberId], taken.Select(r => r.SubscriberId));
    }

    [Fact]
    public async Task A_claim_searches_from_where_the_run_has_got_to_and_lapsed_claims_by_their_index_so_its_cost_does_not_grow_with_the_run()
    {
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null);
        var id = await Ledger(rig, 50);
        await using var connection = await rig.Store.Database.ConnectAsync(Ct);
        await using var explain = rig.Store.Database.Command(connection, "claim-deliveries");
        explain.CommandText = "EXPLAIN QUERY PLAN " + explain.CommandText;
        explain.With("id", id).With("owner", "me").With("until", rig.Clock.Now).With("after", 25).With("now", rig.Clock.Now).With("limit", 10);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
                plan.Add(reader.GetString(3));
        }
        // Every search of deliveries is bounded: by subscriber (a range from @after), by the index of
        // claimed rows, or by the key of the row updated. "(announcement_id=?)" alone would be a walk
        // over every row of the announcement for each batch.
        var searches = plan.Where(line => line.Contains("deliveries", StringComparison.Ordinal)).ToList();
        Assert.Contains(searches, line => line.Contains("(announcement_id=? AND subscriber_id>?)", StringComparison.Ordinal));
        Assert.Contains(searches, line => line.Contains("USING INDEX deliveries_claimed", StringComparison.Ordinal));
        Assert.DoesNotContain(searches, line => line.EndsWith("(announcement_id=?)", StringComparison.Ordinal) || line.StartsWith("SCAN deliveries", StringComparison.Ordinal));
    }
}
