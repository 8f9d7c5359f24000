using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// The schedule across downtime, with the service as a child process and its persistent Quartz store:
/// firings missed while it was down are caught up once at the restart, neither forgotten nor each
/// replayed.
/// </summary>
public sealed partial class ScheduleCatchUpTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static ITestOutputHelper? Output => TestContext.Current.TestOutputHelper;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("SIGKILL")]
    [InlineData("SIGTERM")]
    public async Task Firings_missed_while_the_service_was_down_are_caught_up_once_after_the_restart(string stop)
    {
        _folder.Write("posts/2024-01-01-first.md", "---\ntitle: First\ndate: 2024-01-01\n---\nFirst post.\n");
        var environment = new Dictionary<string, string> { ["PYTHONHPC_Announcements__Schedule"] = "0/2 * * * * ?" };

        DateTimeOffset lastBeforeStop;
        using (var service = await ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), environment))
        {
            await WaitFor(service, lines => lines.Count >= 1);
            if (stop == "SIGKILL")
                service.Kill();
            else
                Assert.Equal(0, service.Stop());
            lastBeforeStop = Firings(service.Output).Max();
        }

        // Down for 12 s: five or six firings of an every-2-s schedule missed, each later than the 5 s misfire threshold.
        await Task.Delay(TimeSpan.FromSeconds(12), Ct);
        var restart = DateTimeOffset.UtcNow;
        using var restarted = await ServiceProcess.Start(_folder, SmtpRecorder.FreePort(), environment);
        // Run until the schedule is back on time: a firing scheduled after the restart.
        var firings = await WaitFor(restarted, lines => lines.Any(t => t >= restart));
        restarted.Kill();

        var caughtUp = firings.Where(t => t < restart).ToList();
        Output?.WriteLine($"stopped with {stop}; last firing before it {lastBeforeStop:HH:mm:ss}; restarted at {restart:HH:mm:ss.fff}; "
            + $"firings after the restart scheduled for: {string.Join(", ", firings.Select(t => t.ToString("HH:mm:ss", CultureInfo.InvariantCulture)))}");
        var missed = Assert.Single(caughtUp);
        Assert.InRange(missed, lastBeforeStop.AddSeconds(1), restart);
    }

    /// <summary>Waits (at most 20 s) until the scheduled times of the service's "Firing of 'schedule'" lines satisfy <paramref name="enough"/>; returns them.</summary>
    private static async Task<IReadOnlyList<DateTimeOffset>> WaitFor(ServiceProcess service, Func<IReadOnlyList<DateTimeOffset>, bool> enough)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50, Ct))
        {
            if (Firings(service.Output) is var firings && enough(firings))
                return firings;
            if (service.HasExited)
                throw new InvalidOperationException("the service exited:\n" + service.Output);
        }
        throw new TimeoutException("the schedule did not fire as awaited:\n" + service.Output);
    }

    private static List<DateTimeOffset> Firings(string output) =>
        [.. ScheduleFiring().Matches(output).Select(m => DateTimeOffset.ParseExact(m.Groups[1].Value, "u", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal))];

    [GeneratedRegex(@"Firing of 'schedule' scheduled for (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)")]
    private static partial Regex ScheduleFiring();
}
