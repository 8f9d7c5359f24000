using Microsoft.Data.Sqlite;
using PythonHpc.Announcements;
using PythonHpc.Store;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// The service as a child process, sending one announcement to 5,000 subscribers over SMTP, killed
/// with SIGKILL at random points and started again each time: the ledger's promise, measured at a
/// real SMTP server.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private const int Subscribers = 5000;
    private const int Connections = 4;
    private const int Kills = 4;

    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static ITestOutputHelper? Output => TestContext.Current.TestOutputHelper;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [Fact]
    public async Task Killed_at_random_points_the_service_mails_each_subscriber_once_but_for_one_message_per_connection_per_kill()
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        var environment = Prepare(server.Port);
        var store = new AnnouncementStore(Database.Open(new StoreOptions { DataPath = _folder["data"] }), TimeProvider.System);
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        Output?.WriteLine($"random seed {seed}; {Subscribers} subscribers, {Connections} connections, {Kills} kills");

        // Each kill lands at a random count within its own stretch of the run, so every kill is mid-send.
        var stretch = Subscribers / (Kills + 1);
        for (var kill = 0; kill < Kills; kill++)
        {
            var target = (kill * stretch) + random.Next(stretch / 5, stretch);
            var before = server.Recipients.Count;
            using var service = await ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), environment);
            await WaitFor(() => server.Recipients.Count >= target, TimeSpan.FromSeconds(60), service, $"{target} messages at the server");
            service.Kill();
            await Task.Delay(200, Ct); // a message whose final dot went before the kill is still being written down
            var atKill = server.Recipients;
            var distinct = atKill.Distinct().Count();
            var counts = await Counts(store);
            // Each of these goes again after the restart: one at most per connection, the one it had on the wire.
            var unrecorded = distinct - counts.Sent;
            Output?.WriteLine($"kill {kill + 1}: aimed at {target}, killed at {atKill.Count} messages ({atKill.Count - before} from this process) "
                + $"to {distinct} addresses; ledger: {counts.Sent} sent, {counts.Pending} pending; received but not recorded: {unrecorded}");
            Assert.InRange(unrecorded, 0, Connections);
        }

        using (var last = await ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), environment))
        {
            await WaitFor(async () => (await store.Announcements(Ct)).Single().State == AnnouncementState.Done, TimeSpan.FromSeconds(120), last, "the announcement to be done");
            Output?.WriteLine($"done: {await Counts(store)}");
        }
        var received = server.Recipients;
        var list = Tool.Pythonhpc(_folder.Path, ["announce", "list"], environment);
        Output?.WriteLine(list.Stdout);
        Assert.Contains("\tdone\t", list.Stdout);

        // A further start finds nothing to send.
        using (var again = await ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), environment))
            await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.Equal(received.Count, server.Recipients.Count);

        var perAddress = received.CountBy(r => r).ToDictionary(p => p.Key, p => p.Value);
        var duplicates = received.Count - perAddress.Count;
        Output?.WriteLine($"{received.Count} messages to {perAddress.Count} addresses: {duplicates} duplicates (at most {Connections} × {Kills} = {Connections * Kills} allowed)");
        Assert.Equal(Addresses().Order(StringComparer.Ordinal), perAddress.Keys.Order(StringComparer.Ordinal));
        Assert.InRange(duplicates, 0, Connections * Kills);
        Assert.All(perAddress.Values, n => Assert.InRange(n, 1, 1 + Kills));
        var final = await Counts(store);
        Assert.Equal((Subscribers, 0, 0, 0), (final.Sent, final.Pending, final.Deferred, final.Failed));
    }

    [Fact]
    public async Task Stopped_with_SIGTERM_mid_send_the_service_finishes_what_is_on_the_wire_and_exits_at_once_with_nothing_lost_or_doubled()
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        var environment = Prepare(server.Port);
        // A capped rate makes the run outlast the stop by far: a stop that waited for the run would take minutes.
        environment["PYTHONHPC_Mail__MaxPerSecond"] = "250";
        var store = new AnnouncementStore(Database.Open(new StoreOptions { DataPath = _folder["data"] }), TimeProvider.System);
        using (var service = await ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), environment))
        {
            await WaitFor(() => server.Recipients.Count >= 500, TimeSpan.FromSeconds(60), service, "500 messages at the server");
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, service.Stop());
            Output?.WriteLine($"stopped in {stopping.ElapsedMilliseconds} ms after {server.Recipients.Count} messages");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"the stop took {stopping.Elapsed}");
        }
        var atStop = server.Recipients;
        var counts = await Counts(store);
        // Graceful: every message that went was recorded as sent, and nothing else was.
        Assert.Equal(atStop.Count, counts.Sent);
        Assert.Equal(atStop.Count, atStop.Distinct().Count());
        Assert.True(counts.Pending > 0, "the stop came too late to test anything");

        environment.Remove("PYTHONHPC_Mail__MaxPerSecond");
        using (var restarted = await ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), environment))
            await WaitFor(async () => (await store.Announcements(Ct)).Single().State == AnnouncementState.Done, TimeSpan.FromSeconds(120), restarted, "the announcement to be done");
        var received = server.Recipients;
        Assert.Equal(Subscribers, received.Count);
        Assert.Equal(Addresses().Order(StringComparer.Ordinal), received.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_lease_is_taken_over_only_from_a_process_of_this_machine_that_is_gone()
    {
        using var exited = System.Diagnostics.Process.Start("true")!;
        exited.WaitForExit();
        var host = System.Environment.MachineName;
        Assert.True(Announcer.IsGone($"{host}:{exited.Id}:0123456789abcdef"));
        // This process's id under another owner: an earlier life of a container that keeps its ids.
        Assert.True(Announcer.IsGone($"{host}:{System.Environment.ProcessId}:0123456789abcdef"));
        Assert.False(Announcer.IsGone(Announcer.Owner));
        using (var running = System.Diagnostics.Process.Start("sleep", "30")!)
        {
            Assert.False(Announcer.IsGone($"{host}:{running.Id}:0123456789abcdef"));
            running.Kill();
            running.WaitForExit();
        }
        Assert.False(Announcer.IsGone($"another-host:{exited.Id}:0123456789abcdef"));
        Assert.False(Announcer.IsGone("not an owner"));
    }

    private static IEnumerable<string> Addresses() => SendingService.Addresses(Subscribers);

    /// <summary>The seed webinar, 5,000 confirmed subscribers imported with the command line, and the environment of every start.</summary>
    private Dictionary<string, string> Prepare(int smtpPort) => SendingService.Prepare(_folder, smtpPort, Subscribers, Connections);

    private static async Task<DeliveryCounts> Counts(AnnouncementStore store) =>
        (await store.Announcements(Ct)) is [var announcement] ? await store.Counts(announcement.Id, Ct) : new DeliveryCounts(0, 0, 0, 0, 0, 0);

    private static Task WaitFor(Func<bool> done, TimeSpan timeout, ServiceProcess service, string what) =>
        SendingService.WaitFor(() => Task.FromResult(done()), timeout, [service], what);

    private static Task WaitFor(Func<Task<bool>> done, TimeSpan timeout, ServiceProcess service, string what) =>
        SendingService.WaitFor(done, timeout, [service], what);
}
