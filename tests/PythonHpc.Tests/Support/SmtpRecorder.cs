using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PythonHpc.Tests.Support;

/// <summary>
/// testdata/smtprecorder.py (aiosmtpd) as a child process on a free loopback port: a real SMTP server
/// that keeps every message it accepts, and answers per recipient as the address asks (-450, -550, -hangup).
/// </summary>
public sealed class SmtpRecorder : IDisposable
{
    private readonly Process _process;

    private SmtpRecorder(Process process, int port, string folder)
    {
        _process = process;
        Port = port;
        Folder = folder;
    }

    public int Port { get; }
    public string Folder { get; }

    /// <summary>
    /// Starts the server; with <paramref name="tls"/> ("starttls" or "implicit", and PEM files) it speaks TLS.
    /// It offers PIPELINING unless <paramref name="pipelining"/> is false.
    /// </summary>
    public static SmtpRecorder Start(string folder, (string Mode, string Certificate, string Key)? tls = null, bool pipelining = true)
    {
        Tool.RequirePythonModule("aiosmtpd", "python3-aiosmtpd");
        var port = FreePort();
        var start = new ProcessStartInfo(Tool.Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] arguments = [FeedBuild.Testdata("smtprecorder.py"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), folder,
            .. tls is { } t ? new[] { t.Mode, t.Certificate, t.Key } : [], .. pipelining ? Array.Empty<string>() : ["--no-pipelining"]];
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        var ready = process.StandardOutput.ReadLine();
        if (ready != "ready")
            throw new InvalidOperationException("smtprecorder did not start: " + process.StandardError.ReadToEnd());
        return new SmtpRecorder(process, port, folder);
    }

    /// <summary>The messages received so far, in order.</summary>
    public IReadOnlyList<string> Messages => Directory.Exists(Folder)
        ? [.. Directory.GetFiles(Folder, "*.eml").Order(StringComparer.Ordinal)]
        : [];

    /// <summary>Each recipient of each accepted message, in order (deliveries.log).</summary>
    public IReadOnlyList<string> Recipients => Lines("deliveries.log").Select(l => l.Split('\t')[1]).ToList();

    /// <summary>Each recipient of each accepted message, with when the server had the whole message (deliveries.log).</summary>
    public IReadOnlyList<(string Recipient, DateTimeOffset At)> Arrivals => Lines("deliveries.log").Select(l => l.Split('\t'))
        .Select(p => (p[1], DateTimeOffset.UnixEpoch + TimeSpan.FromSeconds(double.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture)))).ToList();

    /// <summary>The TLS version of the session each accepted message came in ("none" without TLS), in order.</summary>
    public IReadOnlyList<string> Tls => Lines("deliveries.log").Select(l => l.Split('\t')[3]).ToList();

    /// <summary>Every RCPT the server answered, with the code it answered (rcpt.log).</summary>
    public IReadOnlyList<(string Address, int Code)> Answers =>
        Lines("rcpt.log").Select(l => l.Split('\t')).Select(p => (p[0], int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))).ToList();

    private IEnumerable<string> Lines(string file)
    {
        var path = Path.Combine(Folder, file);
        return File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0) : [];
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
