using System.Net;
using Microsoft.Data.Sqlite;
using PythonHpc.Store;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Subscribers;

/// <summary>The service process killed with SIGKILL, and started on a database it cannot use.</summary>
public sealed class CrashTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public CrashTests() => _folder.Write("posts/2024-01-01-first.md", "---\ntitle: First\ndate: 2024-01-01\n---\nFirst post.\n");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_confirmation_survives_the_process_being_killed_right_after_it()
    {
        var port = SmtpRecorder.FreePort();
        var mailbox = new Mailbox(_folder["mail"]);
        using (var service = await ServiceProcess.Start(_folder, port))
        {
            using var http = new HttpClient { BaseAddress = service.Address };
            using var subscribe = await http.PostAsync("subscribe", new FormUrlEncodedContent([new("email", "survivor@example.org")]), Ct);
            Assert.Equal(HttpStatusCode.OK, subscribe.StatusCode);
            var confirmation = await mailbox.Wait(1);
            using var confirm = await http.GetAsync(confirmation.Link("/confirm/"), Ct);
            Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
            service.Kill();
        }

        using (var restarted = await ServiceProcess.Start(_folder, port))
        {
            var store = new SubscriberStore(Database.Open(new StoreOptions { DataPath = _folder["data"] }), TimeProvider.System);
            Assert.True(EmailAddress.TryParse("survivor@example.org", out var address, out _));
            var subscriber = await store.SubscriberByEmail(address, Ct);
            Assert.Equal(SubscriberStatus.Confirmed, subscriber?.Status);
            Assert.NotNull(subscriber!.Confirmed);
        }
    }

    [Fact]
    public void A_damaged_database_stops_the_service_with_one_clear_line_and_exit_code_1()
    {
        _folder.Write("data/pythonhpc.db", System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("garbage ", 1000))));
        var result = Tool.Run("dotnet", [Tool.PythonhpcDll], _folder.Path, ServiceProcess.Environment(_folder, SmtpRecorder.FreePort()), timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(Path.Combine(_folder["data"], "pythonhpc.db") + ": error: not a usable SQLite database", result.Stderr);
        Assert.DoesNotContain("Unhandled exception", result.Stderr + result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
