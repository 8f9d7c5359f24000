using System.Text.RegularExpressions;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// An announcement through a real Postfix smtpd, the relay most users run next to the service, with
/// its strictest pipelining checks on (<see cref="PostfixServer"/>). smtp-sink and aiosmtpd take
/// what they are sent; Postfix drops a client that pipelines where RFC 2920 does not allow it, and
/// checks every line of the content.
/// </summary>
public sealed partial class PostfixTests : IDisposable
{
    private const int Readers = 300;
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// MAIL, RCPT and DATA go as one group on four connections. Every reader's message is delivered
    /// once, and its DKIM signature verifies from the mailbox: the bytes Postfix stored are the bytes
    /// that were signed. A recipient refused with 550 fails, one refused with 450 is deferred, and
    /// neither costs a connection (Postfix logs no pipelining error).
    /// </summary>
    [Fact]
    public async Task Every_reader_gets_the_announcement_once_signed_and_refusals_at_RCPT_are_recorded()
    {
        var postfix = PostfixServer.Require();
        var domain = $"t{Guid.NewGuid():N}"[..13] + ".example";
        var key = _folder["dkim/key.pem"];
        var record = DkimKeys.Write("rsa-pkcs8", key);
        await using var rig = AnnouncementRig.Create(_folder, postfix.Port, connections: 4, extra: new Dictionary<string, string?>
        {
            ["Mail:Dkim:Domain"] = "blog.example.org",
            ["Mail:Dkim:Selector"] = "s2025",
            ["Mail:Dkim:PrivateKeyPath"] = key,
        });
        var readers = Enumerable.Range(1, Readers).Select(i => $"reader{i:D3}@{domain}").ToList();
        await rig.Subscribe([.. readers[..100], $"refused@{domain}", .. readers[100..200], $"later@{domain}", .. readers[200..]]);

        await rig.Send();

        // The check is live: a client that sends MAIL in one group with EHLO, which RFC 2920 forbids
        // (EHLO ends a group), is dropped and logged.
        using (var rude = new System.Net.Sockets.TcpClient())
        {
            await rude.ConnectAsync(System.Net.IPAddress.Loopback, postfix.Port, Ct);
            var stream = rude.GetStream();
            using var lines = new StreamReader(stream, System.Text.Encoding.ASCII);
            Assert.StartsWith("220 ", await lines.ReadLineAsync(Ct), StringComparison.Ordinal);
            await stream.WriteAsync("EHLO rude.test\r\nMAIL FROM:<x@rude.test>\r\n"u8.ToArray(), Ct);
            var answer = await lines.ReadToEndAsync(Ct);
            Assert.Contains("554 5.5.0 Error: SMTP protocol synchronization", answer, StringComparison.Ordinal);
        }

        var counts = await rig.Counts();
        Assert.Equal((Readers, 1, 1, 0, 0), (counts.Sent, counts.Failed, counts.Deferred, counts.Pending, counts.PossibleDuplicates));
        // Delivery into the mailboxes follows the queueing by a moment.
        for (var deadline = DateTime.UtcNow.AddSeconds(60); postfix.Delivered(domain).Count < Readers && DateTime.UtcNow < deadline;)
            await Task.Delay(50, Ct);
        await Task.Delay(500, Ct);
        var delivered = postfix.Delivered(domain);
        var log = postfix.Log;
        // The control client's error, and none of ours (nor a session cut short).
        Assert.True(Regex.Count(log, "improper command pipelining") == 1 && !log.Contains("lost connection", StringComparison.Ordinal), log);
        Assert.True(delivered.Count == Readers, $"{delivered.Count} messages delivered, {Readers} expected:\n{log}");
        Assert.Equal(readers, delivered.Select(m => DeliveredTo().Match(m).Groups[1].Value).Order(StringComparer.Ordinal));

        var files = delivered.Select((message, i) =>
        {
            // A Maildir keeps LF line ends; on the wire, and to dkimpy, lines end with CRLF.
            var file = _folder[$"delivered/{i}.eml"];
            Directory.CreateDirectory(_folder["delivered"]);
            File.WriteAllText(file, message.ReplaceLineEndings("\r\n"));
            return file;
        }).ToArray();
        Assert.All(DkimKeys.Verify(record, _folder["dkim"], files), verdict => Assert.Equal("pass", verdict));
    }

    [GeneratedRegex(@"^Delivered-To: (\S+)$", RegexOptions.Multiline)]
    private static partial Regex DeliveredTo();
}
