using System.Globalization;
using Npgsql;
using PythonHpc.Announcements;
using PythonHpc.Store;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// Three service processes on one PostgreSQL database and one recording SMTP server, sending one
/// announcement to 10,000 subscribers; one node killed with SIGKILL mid-send. Every subscriber gets
/// the announcement, the only duplicates are what the dead node had on the wire (one per connection),
/// and the announcement is done. Once with a node that is helping, once with the node Quartz fired
/// the job on.
/// </summary>
public sealed class ClusterTests : IDisposable
{
    private const int Subscribers = 10_000;
    private const int Nodes = 3;
    private const int Connections = 4;
    // Shorter than the 30 s default, to keep the test short; what it shows does not depend on the length.
    private static readonly TimeSpan FailoverAfter = TimeSpan.FromSeconds(10);

    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static ITestOutputHelper? Output => TestContext.Current.TestOutputHelper;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public Task A_node_killed_while_helping_leaves_its_rows_to_the_others_and_everyone_gets_the_announcement() => KillMidSend(firing: false);

    [Fact]
    public Task The_node_firing_the_job_killed_mid_send_is_replaced_and_everyone_gets_the_announcement() => KillMidSend(firing: true);

    private async Task KillMidSend(bool firing)
    {
        var database = PostgresServer.Require().NewDatabase();
        using var server = SmtpRecorder.Start(_folder["received"]);
        var environment = Prepare(server.Port, database, FailoverAfter);
        var store = Store(database);

        var nodes = await Task.WhenAll(Enumerable.Range(0, Nodes).Select(i => Node(i, environment)));
        try
        {
            await SameFeedsEverywhere(nodes);
            var victim = await EverySending(server, store, nodes, n => Fired(n) == firing);

            victim.Kill();
            var killedWhen = DateTimeOffset.UtcNow;
            var killed = System.Diagnostics.Stopwatch.StartNew();
            var killedAt = server.Recipients.Count;
            var survivors = nodes.Where(n => n != victim).ToList();
            var firedBefore = survivors.Count(Fired);
            var id = (await store.Announcements(Ct)).Single().Id;
            var dead = (await store.ClaimOwners(id, Ct)).Single(o => o.Contains($":{victim.Id}:", StringComparison.Ordinal));
            await using var ledger = new NpgsqlConnection(database);
            await ledger.OpenAsync(Ct);
            var held = await Held(ledger, id, dead);
            Output?.WriteLine($"killed node {victim.Id} ({(firing ? "firing the job" : "helping")}) at {killedAt} messages, holding {held.Length} rows");
            Assert.NotEmpty(held);

            // Its rows are taken by the others once its claims lapse, within Cluster:FailoverAfter of its
            // last renewal (runs under way take lapsed rows as they go; a little is allowed for a
            // loaded machine).
            await WaitFor(async () => await Unclaimed(ledger, id, dead, held) == 0, FailoverAfter + TimeSpan.FromSeconds(5), survivors,
                $"the dead node's {held.Length} rows to be taken by the others");
            Output?.WriteLine($"the dead node's rows were taken over {killed.Elapsed.TotalSeconds:0.0} s after the kill");

            await WaitFor(async () => (await store.Announcements(Ct)).Single().State == AnnouncementState.Done, TimeSpan.FromSeconds(180), survivors, "the announcement to be done");
            var counts = await store.Counts((await store.Announcements(Ct)).Single().Id, Ct);
            Output?.WriteLine($"done: {counts}");
            if (firing)
            {
                // Quartz's cluster recovered the dead node's firing on a live node.
                Assert.True(survivors.Count(Fired) > firedBefore, "no live node ran the job after the firing node died:\n" + string.Join("\n----\n", survivors.Select(n => n.Output)));
            }

            EveryoneOnceButTheWire(server, killedWhen, "the dead node's");
            Assert.Equal((Subscribers, 0, 0, 0), (counts.Sent, counts.Pending, counts.Deferred, counts.Failed));
        }
        finally
        {
            foreach (var node in nodes)
                node.Dispose();
        }
    }

    /// <summary>
    /// A node stopped (SIGSTOP, as a frozen VM or a long stall holds it) past Cluster:FailoverAfter while
    /// it holds rows queued for its connections. The other node takes its rows once its claims lapse.
    /// When it wakes, its claims are lost: it sends none of what it had queued (a message it was writing
    /// is not ended), gives back what nobody took and goes on with fresh claims. Only what it had on the
    /// wire when it stopped may go twice. Without that, it sent on waking every row it had held: 648
    /// duplicates in the run that showed it.
    /// </summary>
    [Fact]
    public async Task A_node_paused_past_FailoverAfter_sends_none_of_its_queued_rows_when_it_wakes()
    {
        // Short, so that the pause is short: renewed every 1.3 s, lost when 3.6 s old.
        var failover = TimeSpan.FromSeconds(4);
        var database = PostgresServer.Require().NewDatabase();
        using var server = SmtpRecorder.Start(_folder["received"]);
        var environment = Prepare(server.Port, database, failover);
        var store = Store(database);

        var nodes = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Node(i, environment)));
        try
        {
            var sleeper = await EverySending(server, store, nodes, _ => true);
            var id = (await store.Announcements(Ct)).Single().Id;
            var owner = (await store.ClaimOwners(id, Ct)).Single(o => o.Contains($":{sleeper.Id}:", StringComparison.Ordinal));
            await using var ledger = new NpgsqlConnection(database);
            await ledger.OpenAsync(Ct);

            sleeper.Pause();
            var pausedWhen = DateTimeOffset.UtcNow;
            var paused = System.Diagnostics.Stopwatch.StartNew();
            var held = await Held(ledger, id, owner);
            Output?.WriteLine($"paused node {sleeper.Id} at {server.Recipients.Count} messages, holding {held.Length} rows");
            Assert.NotEmpty(held);
            var awake = nodes.Where(n => n != sleeper).ToList();
            await WaitFor(async () => await Unclaimed(ledger, id, owner, held) == 0, failover + TimeSpan.FromSeconds(10), awake,
                $"the paused node's {held.Length} rows to be taken by the other");
            // Asleep twice as long as its claims last: the other node has sent much of what it had queued.
            await Task.Delay(TimeSpan.FromTicks(Math.Max(0, ((2 * failover) - paused.Elapsed).Ticks)), Ct);
            sleeper.Resume();
            Output?.WriteLine($"resumed after {paused.Elapsed.TotalSeconds:0.0} s at {server.Recipients.Count} messages");

            await WaitFor(async () => (await store.Announcements(Ct)).Single().State == AnnouncementState.Done, TimeSpan.FromSeconds(180), nodes, "the announcement to be done");
            Assert.Contains("claims lapsed", sleeper.Output, StringComparison.Ordinal);
            EveryoneOnceButTheWire(server, pausedWhen, "the paused node's");
            // And what went twice was on the wire when the node stopped: a copy of it had arrived by then
            // (a second is allowed for the relay to finish reading). A message finished on waking would
            // come seconds later.
            foreach (var copies in server.Arrivals.GroupBy(a => a.Recipient).Where(g => g.Count() > 1))
                Assert.True(copies.Min(c => c.At) < pausedWhen + TimeSpan.FromSeconds(1), $"{copies.Key}: no copy arrived before the node was paused");
            var counts = await store.Counts(id, Ct);
            Assert.Equal((Subscribers, 0, 0, 0), (counts.Sent, counts.Pending, counts.Deferred, counts.Failed));
        }
        finally
        {
            foreach (var node in nodes)
                node.Dispose();
        }
    }

    private AnnouncementStore Store(string database) =>
        new(Database.Open(new StoreOptions { Provider = "Postgres", ConnectionString = database, DataPath = _folder["data"] }), TimeProvider.System);

    /// <summary>Waits until every node holds claims and a quarter of the messages are out; returns a sending node that <paramref name="pick"/> takes.</summary>
    private static async Task<ServiceProcess> EverySending(SmtpRecorder server, AnnouncementStore store, ServiceProcess[] nodes, Func<ServiceProcess, bool> pick)
    {
        ServiceProcess? picked = null;
        await WaitFor(async () =>
        {
            if (server.Recipients.Count < Subscribers / 4 || await store.Announcements(Ct) is not [var announcement])
                return false;
            var owners = await store.ClaimOwners(announcement.Id, Ct);
            var sending = nodes.Where(n => owners.Any(o => o.Contains($":{n.Id}:", StringComparison.Ordinal))).ToList();
            picked = sending.FirstOrDefault(pick);
            return sending.Count == nodes.Length && picked is not null;
        }, TimeSpan.FromSeconds(120), nodes, "every node sending and a quarter of the messages out");
        return picked!;
    }

    /// <summary>
    /// Every subscriber got the announcement, and no more than <see cref="Connections"/> twice: what
    /// <paramref name="whose"/> connections had on the wire at <paramref name="when"/>. Each copy of a
    /// duplicate is printed with when it arrived against that moment.
    /// </summary>
    private static void EveryoneOnceButTheWire(SmtpRecorder server, DateTimeOffset when, string whose)
    {
        var received = server.Recipients;
        var perAddress = received.CountBy(r => r).ToDictionary(p => p.Key, p => p.Value);
        var duplicates = received.Count - perAddress.Count;
        Output?.WriteLine($"{received.Count} messages to {perAddress.Count} addresses: {duplicates} duplicates (at most {Connections}, {whose} connections)");
        foreach (var copies in server.Arrivals.GroupBy(a => a.Recipient).Where(g => g.Count() > 1))
            Output?.WriteLine($"  {copies.Key}: " + string.Join(", ", copies.Select(c => $"{(c.At - when).TotalSeconds:+0.000;-0.000} s")));
        Assert.Equal(Addresses().Order(StringComparer.Ordinal), perAddress.Keys.Order(StringComparer.Ordinal));
        Assert.InRange(duplicates, 0, Connections);
    }

    /// <summary>Any node can answer any request behind a load balancer: the same posts give the same bytes, and the same ETag, on every node.</summary>
    private static async Task SameFeedsEverywhere(IReadOnlyList<ServiceProcess> nodes)
    {
        using var http = new HttpClient();
        foreach (var feed in new[] { "feed.xml", "atom.xml", "feed.json" })
        {
            var answers = await Task.WhenAll(nodes.Select(n => http.GetAsync(new Uri(n.Address, feed), Ct)));
            Assert.All(answers, a => Assert.Equal(System.Net.HttpStatusCode.OK, a.StatusCode));
            var bodies = await Task.WhenAll(answers.Select(a => a.Content.ReadAsByteArrayAsync(Ct)));
            Assert.All(bodies, b => Assert.Equal(bodies[0], b));
            Assert.Single(answers.Select(a => a.Headers.ETag?.Tag).Distinct());
            foreach (var answer in answers)
                answer.Dispose();
        }
    }

    /// <summary>The rows <paramref name="owner"/> holds and has not sent.</summary>
    private static async Task<long[]> Held(NpgsqlConnection ledger, long id, string owner)
    {
        await using var command = new NpgsqlCommand(
            "SELECT subscriber_id FROM deliveries WHERE announcement_id = $1 AND claimed_by = $2 AND status IN ('pending', 'deferred')", ledger);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        var rows = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
            rows.Add(reader.GetInt64(0));
        return [.. rows];
    }

    /// <summary>How many of <paramref name="rows"/> are still unsent and held by <paramref name="dead"/> or by no one.</summary>
    private static async Task<long> Unclaimed(NpgsqlConnection ledger, long id, string dead, long[] rows)
    {
        await using var command = new NpgsqlCommand(
            "SELECT COUNT(*) FROM deliveries WHERE announcement_id = $1 AND subscriber_id = ANY($2) AND status IN ('pending', 'deferred') "
            + "AND (claimed_by IS NULL OR claimed_by = $3)", ledger);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = rows });
        command.Parameters.Add(new NpgsqlParameter { Value = dead });
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>Whether Quartz has fired the send job on <paramref name="node"/> (the job logs each firing).</summary>
    private static bool Fired(ServiceProcess node) => node.Output.Contains("Firing of '", StringComparison.Ordinal);

    private Task<ServiceProcess> Node(int i, Dictionary<string, string> environment)
    {
        // Each node its own data and output folders: nothing is shared but the database and the posts.
        var own = new Dictionary<string, string>(environment)
        {
            ["PYTHONHPC_Store__DataPath"] = _folder[$"node{i}/data"],
            ["PYTHONHPC_Feeds__OutputPath"] = _folder[$"node{i}/feeds"],
        };
        return ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), own);
    }

    private static IEnumerable<string> Addresses() => SendingService.Addresses(Subscribers);

    /// <summary>10,000 subscribers in the shared database, and every node's environment: the same database and token secret, each node's mail capped.</summary>
    private Dictionary<string, string> Prepare(int smtpPort, string database, TimeSpan failover)
    {
        var environment = SendingService.Prepare(_folder, smtpPort, Subscribers, Connections, new Dictionary<string, string>
        {
            ["PYTHONHPC_Store__Provider"] = "Postgres",
            ["PYTHONHPC_Store__ConnectionString"] = database,
            ["PYTHONHPC_Security__TokenSecret"] = ServiceHost.Secret,
        });
        environment["PYTHONHPC_Cluster__FailoverAfter"] = failover.ToString("c", CultureInfo.InvariantCulture);
        // Capped per node, so that the run outlasts the nodes' start and every node has a share of it.
        environment["PYTHONHPC_Mail__MaxPerSecond"] = "200";
        return environment;
    }

    private static Task WaitFor(Func<Task<bool>> done, TimeSpan timeout, IReadOnlyList<ServiceProcess> nodes, string what) =>
        SendingService.WaitFor(done, timeout, nodes, what);
}
