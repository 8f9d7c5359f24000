using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace PythonHpc.Tests.Support;

/// <summary>
/// Postfix's smtp-sink as a child process on a loopback port: a real SMTP server that throws mail
/// away, fast, with fault modes that apply to every recipient (<c>-r rcpt</c> 4xx, <c>-f rcpt</c> 5xx,
/// <c>-q .</c> hang up after the final dot, <c>-Q rcpt</c> 421 and hang up). It counts with <c>-c</c>:
/// "sess=N quit=N mesg=N" on stdout whenever a session ends, a QUIT is read or a final dot arrives;
/// a message counts at its dot, also when a fault mode then hangs up without answering.
/// </summary>
public sealed partial class SmtpSink : IDisposable
{
    private const string Program = "/usr/sbin/smtp-sink";

    private readonly Process _process;
    private readonly Task _reading;
    private readonly System.Text.StringBuilder _stderr = new();
    private volatile Counters _counters = new(0, 0);
    private bool _disposed;

    private SmtpSink(Process process, int port)
    {
        _process = process;
        Port = port;
        _reading = Task.Run(ReadCounters);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
                _stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>Messages received so far (each final dot).</summary>
    public int Messages => _counters.Messages;

    /// <summary>SMTP sessions ended so far (the readiness probe is one).</summary>
    public int Sessions => _counters.Sessions;

    /// <summary>Starts smtp-sink on a free loopback port with these options (such as <c>"-r", "rcpt"</c>).</summary>
    public static SmtpSink Start(params string[] options) => Start(SmtpRecorder.FreePort(), options);

    /// <summary>Starts smtp-sink on <paramref name="port"/>: a restarted server, where clients are configured to look.</summary>
    public static SmtpSink Start(int port, params string[] options)
    {
        Tool.Require(Program, "postfix");
        var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // As root it must drop privileges after binding (NOTES.md).
        string[] user = Environment.UserName == "root" ? ["-u", "nobody"] : [];
        foreach (var argument in (string[])[.. user, "-c", .. options, $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "256"])
            start.ArgumentList.Add(argument);
        var sink = new SmtpSink(Process.Start(start)!, port);
        try
        {
            sink.WaitUntilListening();
        }
        catch
        {
            sink.Dispose();
            throw;
        }
        return sink;
    }

    /// <summary>
    /// The count of messages once it reaches <paramref name="expected"/> (or after 5 s): the counters
    /// come through a pipe, a moment after the client has its answer.
    /// </summary>
    public Task<int> Received(int expected) => Counted(() => Messages, expected);

    /// <summary>The count of sessions once it reaches <paramref name="expected"/> (or after 5 s).</summary>
    public Task<int> Ended(int expected) => Counted(() => Sessions, expected);

    private static async Task<int> Counted(Func<int> count, int expected)
    {
        var until = Stopwatch.StartNew();
        while (count() < expected && until.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(20, TestContext.Current.CancellationToken);
        // A moment more, for a count that would go past what was expected.
        await Task.Delay(50, TestContext.Current.CancellationToken);
        return count();
    }

    private void WaitUntilListening()
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"smtp-sink exited with {_process.ExitCode}: {Stderr}");
            try
            {
                using var probe = new TcpClient();
                probe.Connect("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (until.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(20);
            }
        }
    }

    private string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>The counters come one a line, each ended by a carriage return only.</summary>
    private async Task ReadCounters()
    {
        var reader = _process.StandardOutput;
        var line = new System.Text.StringBuilder();
        var buffer = new char[256];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            foreach (var c in buffer.AsSpan(0, read))
            {
                if (c is not ('\r' or '\n'))
                {
                    line.Append(c);
                    continue;
                }
                if (CountersLine().Match(line.ToString()) is { Success: true } m)
                    _counters = new Counters(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
                line.Clear();
            }
        }
    }

    /// <summary>Stops the server (by its process id); a test may stop it early, to start another on its port.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _reading.Wait(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    private sealed record Counters(int Sessions, int Messages);

    [GeneratedRegex(@"sess=(\d+) quit=\d+ mesg=(\d+)")]
    private static partial Regex CountersLine();
}
