using System.Diagnostics;
using System.Text;

namespace PythonHpc.Tests.Support;

/// <summary>The service as its own process (<c>dotnet pythonhpc.dll</c>), configured by environment, to be killed as a crash kills it.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, Uri address)
    {
        (_process, Address) = (process, address);
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    /// <summary>The process id: what names this node in its claims (<c>machine:pid:…</c>).</summary>
    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Starts the service in <paramref name="folder"/> and waits until /healthz answers 200.</summary>
    public static Task<ServiceProcess> Start(TempFolder folder, int port) => Start(folder, port, new Dictionary<string, string>());

    /// <summary>As <see cref="Start(TempFolder, int)"/>, with <paramref name="extra"/> environment variables added to (or replacing) the usual ones.</summary>
    public static async Task<ServiceProcess> Start(TempFolder folder, int port, IReadOnlyDictionary<string, string> extra)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Tool.PythonhpcDll);
        foreach (var (key, value) in Environment(folder, port).Concat(extra))
            start.Environment[key] = value;
        var service = new ServiceProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient { BaseAddress = service.Address, Timeout = TimeSpan.FromSeconds(2) };
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if (service._process.HasExited)
                throw new InvalidOperationException($"the service exited with {service._process.ExitCode}:\n{service.Output}");
            try
            {
                using var health = await http.GetAsync("healthz");
                if (health.IsSuccessStatusCode)
                    return service;
            }
            catch (HttpRequestException)
            {
            }
        }
        service.Dispose();
        throw new TimeoutException("the service did not become healthy:\n" + service.Output);
    }

    public static Dictionary<string, string> Environment(TempFolder folder, int port) => new()
    {
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["PYTHONHPC_Http__Urls"] = $"http://127.0.0.1:{port}",
        ["PYTHONHPC_Http__PublicUrl"] = $"http://127.0.0.1:{port}/",
        ["PYTHONHPC_Content__PostsPath"] = folder["posts"],
        ["PYTHONHPC_Store__DataPath"] = folder["data"],
        ["PYTHONHPC_Mail__PickupDirectory"] = folder["mail"],
    };

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL: no shutdown, no flush, as a power cut or the OOM killer stops a process.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGSTOP: every thread stopped where it is, as a frozen VM or a machine asleep holds a process, until <see cref="Resume"/>.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT: a paused process goes on where it stopped, its wall clock moved on.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string name)
    {
        var signal = Tool.Run("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (signal.ExitCode != 0)
            throw new InvalidOperationException($"kill -{name} failed: {signal}");
    }

    /// <summary>SIGTERM, as systemd or Ctrl+C stops it: the host shuts down in order. Returns the exit code.</summary>
    public int Stop()
    {
        Signal("TERM");
        if (!_process.WaitForExit(TimeSpan.FromSeconds(40)))
            throw new TimeoutException("the service did not stop within 40 s of SIGTERM:\n" + Output);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            Kill();
        _process.Dispose();
    }
}
