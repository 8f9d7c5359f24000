using System.Globalization;
using System.Text;

namespace PythonHpc.Tests.Support;

/// <summary>
/// The set-up of the tests that send an announcement from service processes (killed, stopped, several
/// at once): the seed webinar, confirmed subscribers imported with the command line, the environment
/// every start shares, and waiting on the processes.
/// </summary>
internal static class SendingService
{
    /// <summary>The subscribers' addresses, in id order: reader00001@example.org …</summary>
    public static IEnumerable<string> Addresses(int count) => Enumerable.Range(1, count).Select(i => $"reader{i:D5}@example.org");

    /// <summary>
    /// Writes the seed webinar and imports <paramref name="subscribers"/> confirmed subscribers with
    /// <paramref name="store"/>'s settings (environment variables, added to every start's too);
    /// returns the environment of every start: mail over <paramref name="connections"/> SMTP
    /// connections to <paramref name="smtpPort"/>, the webinar announced at once.
    /// </summary>
    public static Dictionary<string, string> Prepare(TempFolder folder, int smtpPort, int subscribers, int connections, IReadOnlyDictionary<string, string>? store = null)
    {
        File.Copy(FeedBuild.Testdata("seed", "2025-09-15-python-for-hpc.md"), folder.Write("posts/2025-09-15-python-for-hpc.md", ""), overwrite: true);
        var csv = new StringBuilder("email,name\n");
        foreach (var address in Addresses(subscribers))
            csv.Append(address).Append(",Reader ").Append(address[6..11]).Append('\n');
        var file = folder.Write("subscribers.csv", csv.ToString());
        var environment = ServiceProcess.Environment(folder, SmtpRecorder.FreePort());
        foreach (var (key, value) in store ?? new Dictionary<string, string>())
            environment[key] = value;
        environment["PYTHONHPC_Mail__Smtp__Host"] = "127.0.0.1";
        environment["PYTHONHPC_Mail__Smtp__Port"] = smtpPort.ToString(CultureInfo.InvariantCulture);
        environment["PYTHONHPC_Mail__Smtp__Security"] = "None";
        environment["PYTHONHPC_Mail__Smtp__MaxConnections"] = connections.ToString(CultureInfo.InvariantCulture);
        environment["PYTHONHPC_Announcements__Since"] = "2000-01-01";
        environment["PYTHONHPC_Announcements__SendImmediately"] = "true";
        // Http:Urls comes from each start's own port.
        environment.Remove("PYTHONHPC_Http__Urls");
        environment.Remove("PYTHONHPC_Http__PublicUrl");
        var import = Tool.Pythonhpc(folder.Path, ["subscribers", "import", file, "--confirmed"], environment);
        Assert.True(import.ExitCode == 0, import.ToString());
        return environment;
    }

    /// <summary>Polls <paramref name="done"/> until it holds; fails at once when one of <paramref name="services"/> exits, with its output.</summary>
    public static async Task WaitFor(Func<Task<bool>> done, TimeSpan timeout, IReadOnlyList<ServiceProcess> services, string what)
    {
        var ct = TestContext.Current.CancellationToken;
        for (var deadline = DateTime.UtcNow + timeout; DateTime.UtcNow < deadline; await Task.Delay(10, ct))
        {
            if (await done())
                return;
            if (services.FirstOrDefault(s => s.HasExited) is { } exited)
                throw new InvalidOperationException($"the service (process {exited.Id}) exited while waiting for {what}:\n{exited.Output}");
        }
        throw new TimeoutException($"no {what} after {timeout.TotalSeconds} s:\n" + string.Join("\n----\n", services.Select(s => s.Output)));
    }
}
