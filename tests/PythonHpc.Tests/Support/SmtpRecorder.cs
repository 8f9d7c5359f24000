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

    public static SmtpRecorder Start(string folder)
    {
        Tool.RequirePythonModule("aiosmtpd", "python3-aiosmtpd");
        var port = FreePort();
        var start = new ProcessStartInfo(Tool.Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { FeedBuild.Testdata("smtprecorder.py"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), folder })
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
