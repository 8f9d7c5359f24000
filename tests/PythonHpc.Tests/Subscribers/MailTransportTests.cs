using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MimeKit;
using PythonHpc.Mail;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Subscribers;

/// <summary>Both transports against the real thing: a folder on disk, and aiosmtpd over a real socket.</summary>
public sealed class MailTransportTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    private static WireMessage Message(string to, string subject = "Hello", string text = "line one\nline two\n")
    {
        var message = new MimeMessage { Subject = subject, MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("example.org") };
        message.From.Add(new MailboxAddress("Blog", "webinars@example.org"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Body = new TextPart("plain") { Text = text };
        return WireMessage.From(message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_server_receives_the_message_bytes_as_they_were_composed_lines_starting_with_a_dot_included(bool pipelining)
    {
        // With PIPELINING offered DATA goes with the envelope (SocketStream); without, MailKit's own sequence.
        using var server = SmtpRecorder.Start(_folder["received"], pipelining: pipelining);
        await using var smtp = MailTransport.Create(new MailOptions { Smtp = Smtp(server.Port, connections: 1) });
        // A dot that starts a line is doubled on the wire (RFC 5321 §4.5.2) and undone by the server;
        // a lone dot would otherwise end the message there. Large ones go in more than one send.
        using var message = Message("ada@example.org", text: ".hidden\nline two\n.\n..two dots\nend\n");
        using var large = Message("bob@example.org", text: string.Concat(Enumerable.Range(0, 3000).Select(i => $".{i} {new string('x', 40)}\n")));
        using var plain = Message("cy@example.org", text: string.Concat(Enumerable.Range(0, 3000).Select(i => $"{i} {new string('y', 40)}\n")));
        Assert.True(message.Bytes.Span.IndexOf("\r\n.\r\n"u8) >= 0, "the message has a line of one dot");
        Assert.True(message.Bytes.Span.StartsWith(WireMessage.MimeVersionLine));
        Assert.True(large.Bytes.Length > 128 * 1024 && plain.Bytes.Length > 128 * 1024, "beyond what the stream gathers before sending");
        await smtp.Send(message, Ct);
        smtp.SendBlocking(large);
        await smtp.Send(plain, Ct);
        smtp.SendBlocking(message);
        Assert.Equal([message.Bytes.ToArray(), large.Bytes.ToArray(), plain.Bytes.ToArray(), message.Bytes.ToArray()], server.Messages.Select(File.ReadAllBytes));
        Assert.Equal(["ada@example.org", "bob@example.org", "cy@example.org", "ada@example.org"], server.Recipients);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_PIPELINING_DATA_goes_with_the_envelope_and_a_refused_recipient_sends_no_content(bool blocking)
    {
        // A relay scripted line by line over a real socket. It answers nothing until DATA has come after
        // MAIL and RCPT: a client that waited for their replies first would time out here.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var seen = new List<string>();
        var relay = Task.Run(async () =>
        {
            using (var first = new Session(await listener.AcceptTcpClientAsync(Ct)))
            {
                await first.Greet();
                // 1: accepted, content after the 354.
                seen.Add(await first.Envelope());
                await first.Say("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
                seen.Add(await first.Content());
                await first.Say("250 2.0.0 queued as 1\r\n");
                // 2: recipient refused, DATA refused (RFC 2920 §3.1): the client goes on with RSET, no content.
                seen.Add(await first.Envelope());
                await first.Say("250 2.1.0 Ok\r\n550 5.1.1 No such user\r\n554 5.5.1 Error: no valid recipients\r\n");
                seen.Add(await first.Line() ?? "(closed)");
                await first.Say("250 2.0.0 Ok\r\n");
                // 3: recipient refused, but this relay takes DATA all the same: the client must hang up
                // rather than send anything that could end a message.
                seen.Add(await first.Envelope());
                await first.Say("250 2.1.0 Ok\r\n550 5.1.1 No such user\r\n354 go ahead\r\n");
                seen.Add(await first.Line() ?? "(closed)");
            }
            using var second = new Session(await listener.AcceptTcpClientAsync(Ct));
            await second.Greet();
            // 4: on a new connection, replies split across lines and sends, one of several lines.
            seen.Add(await second.Envelope());
            await second.Say("250-2.1.0 Sender\r\n250 2.1.0 Ok\r\n250 2.1.5");
            await Task.Delay(50, Ct);
            await second.Say(" Ok\r\n354 End");
            await Task.Delay(50, Ct);
            await second.Say(" data\r\n");
            seen.Add(await second.Content());
            await second.Say("250 2.0.0 queued as 4\r\n");
            seen.Add(await second.Line() ?? "(closed)");
        }, Ct);

        var options = new SmtpOptions { Host = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port, Security = "None", MaxConnections = 1, Timeout = TimeSpan.FromSeconds(5) };
        Assert.Empty(options.Validate());
        var smtp = MailTransport.Create(new MailOptions { Smtp = options });
        async Task<string> Send(WireMessage message) => blocking ? smtp.SendBlocking(message) : await smtp.Send(message, Ct);
        using var one = Message("one@example.org");
        Assert.Contains("queued as 1", await Send(one));
        using var two = Message("nobody@example.org");
        using var three = Message("nobody2@example.org");
        var refused = await Assert.ThrowsAsync<MailSendException>(() => Send(two));
        Assert.True(refused.Permanent);
        Assert.StartsWith("550 ", refused.Message);
        var hungUp = await Assert.ThrowsAsync<MailSendException>(() => Send(three));
        Assert.StartsWith("550 ", hungUp.Message);
        using var four = Message("four@example.org");
        Assert.Contains("queued as 4", await Send(four));
        await smtp.DisposeAsync();
        await relay.WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal([
            "MAIL FROM:<webinars@example.org>|RCPT TO:<one@example.org>|DATA", Encoding.ASCII.GetString(one.Bytes.Span),
            "MAIL FROM:<webinars@example.org>|RCPT TO:<nobody@example.org>|DATA", "RSET",
            "MAIL FROM:<webinars@example.org>|RCPT TO:<nobody2@example.org>|DATA", "(closed)",
            "MAIL FROM:<webinars@example.org>|RCPT TO:<four@example.org>|DATA", Encoding.ASCII.GetString(four.Bytes.Span), "QUIT",
        ], seen);
    }

    [Theory]
    [InlineData("line\r\n.\r\n", "")]
    [InlineData("line\r\n.", "\r\n")]
    [InlineData("line\r\n", ".\r\n")]
    [InlineData("line\r", "\n.\r\n")]
    [InlineData("", ".\r\n")]
    public void The_end_of_a_message_sent_in_two_parts_is_seen_and_the_next_envelope_is_pipelined_again(string first, string second)
    {
        // SocketStream played as MailKit plays it, over a real socket pair; the relay's side read raw.
        using var pair = new PipeliningPair();
        var (relay, stream) = (pair.Relay, pair.Stream);
        var buffer = new byte[4096];
        string Read(Stream from) => Encoding.ASCII.GetString(buffer, 0, from.Read(buffer));
        string Received() => Encoding.ASCII.GetString(buffer, 0, relay.Receive(buffer));

        for (var message = 0; message < 2; message++)
        {
            stream.Write("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"u8);
            stream.Flush();
            Assert.Equal("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n", Received());
            relay.Send("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data\r\n"u8);
            Assert.Equal("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", ReadAll(stream, 28));
            stream.Write(Data);
            stream.Flush();
            Assert.Equal("354 End data\r\n", Read(stream));
            var sent = new StringBuilder();
            foreach (var part in new[] { first, second })
            {
                stream.Write(Encoding.ASCII.GetBytes(part));
                stream.Flush();
                while (sent.Length < first.Length + (part == second ? second.Length : 0))
                    sent.Append(Received());
            }
            Assert.Equal(first + second, sent.ToString());
            relay.Send("250 2.0.0 queued\r\n"u8);
            Assert.Equal("250 2.0.0 queued\r\n", Read(stream));
        }

        static string ReadAll(Stream stream, int length)
        {
            var read = new StringBuilder();
            var buffer = new byte[4096];
            while (read.Length < length)
                read.Append(Encoding.ASCII.GetString(buffer, 0, stream.Read(buffer)));
            return read.ToString();
        }
    }

    [Fact]
    public void An_envelope_not_of_one_sender_and_one_recipient_goes_as_it_is_and_content_is_never_taken_for_an_envelope()
    {
        using var pair = new PipeliningPair();
        var (relay, stream) = (pair.Relay, pair.Stream);
        var buffer = new byte[4096];
        string Exchange(string command, string reply)
        {
            stream.Write(Encoding.ASCII.GetBytes(command));
            stream.Flush();
            var received = Encoding.ASCII.GetString(buffer, 0, relay.Receive(buffer));
            if (reply.Length > 0)
            {
                relay.Send(Encoding.ASCII.GetBytes(reply));
                Assert.Equal(reply, Encoding.ASCII.GetString(buffer, 0, stream.Read(buffer)));
            }
            return received;
        }

        // MAIL alone (as without PIPELINING), and MAIL with two recipients: sent as they are, DATA too.
        Assert.Equal("MAIL FROM:<a@example.org>\r\n", Exchange("MAIL FROM:<a@example.org>\r\n", "250 Ok\r\n"));
        Assert.Equal("RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n", Exchange("RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n", "250 Ok\r\n250 Ok\r\n"));
        Assert.Equal("DATA\r\n", Exchange("DATA\r\n", "354 go ahead\r\n"));
        // Content whose lines read as an envelope, then the end: nothing added to either.
        var lookalike = "MAIL FROM:<x@example.org>\r\nRCPT TO:<y@example.org>\r\n";
        Assert.Equal(lookalike, Exchange(lookalike, ""));
        Assert.Equal(".\r\n", Exchange(".\r\n", "250 queued\r\n"));
        // The next envelope of one sender and one recipient is pipelined.
        Assert.Equal(lookalike + "DATA\r\n", Exchange(lookalike, ""));
    }

    private static ReadOnlySpan<byte> Data => "DATA\r\n"u8;

    /// <summary>A SocketStream with DATA pipelining on, and the relay's end of its connection, over loopback.</summary>
    private sealed class PipeliningPair : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public PipeliningPair()
        {
            _listener.Start();
            var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect((IPEndPoint)_listener.LocalEndpoint);
            Relay = _listener.AcceptSocket();
            Relay.ReceiveTimeout = 3000;
            Stream = new SocketStream(client, TimeSpan.FromSeconds(3));
            Stream.PipelineData();
        }

        public Socket Relay { get; }
        public SocketStream Stream { get; }

        public void Dispose()
        {
            Stream.Dispose();
            Relay.Dispose();
            _listener.Dispose();
        }
    }

    /// <summary>The relay's side of one connection, a line at a time.</summary>
    private sealed class Session(TcpClient client) : IDisposable
    {
        private readonly NetworkStream _stream = client.GetStream();
        private readonly StreamReader _reader = new(client.GetStream(), Encoding.ASCII);

        public async Task Greet()
        {
            await Say("220 scripted.example.org ESMTP\r\n");
            Assert.StartsWith("EHLO ", await Line());
            await Say("250-scripted.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        }

        public Task Say(string text) => _stream.WriteAsync(Encoding.ASCII.GetBytes(text), Ct).AsTask();

        public async Task<string?> Line()
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            wait.CancelAfter(TimeSpan.FromSeconds(3));
            return await _reader.ReadLineAsync(wait.Token);
        }

        /// <summary>MAIL, RCPT and DATA, read with no reply in between.</summary>
        public async Task<string> Envelope() => string.Join('|', await Line(), await Line(), await Line());

        /// <summary>The message up to its final dot, dot-stuffing undone, CRLF kept.</summary>
        public async Task<string> Content()
        {
            var content = new StringBuilder();
            while (await Line() is { } line && line != ".")
                content.Append(line.StartsWith('.') ? line[1..] : line).Append("\r\n");
            return content.ToString();
        }

        public void Dispose() => client.Dispose();
    }

    private static SmtpOptions Smtp(int port, int connections = 2)
    {
        var options = new SmtpOptions { Host = "127.0.0.1", Port = port, Security = "None", MaxConnections = connections };
        Assert.Empty(options.Validate());
        return options;
    }

    [Fact]
    public async Task The_pickup_folder_gets_each_message_whole_with_CRLF_and_no_temporary_file()
    {
        await using var pickup = MailTransport.Create(new MailOptions { PickupDirectory = _folder["mail"] });
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => pickup.Send(Message($"r{i}@example.org"), Ct)));
        var files = Directory.GetFiles(_folder["mail"]);
        Assert.Equal(20, files.Length);
        Assert.All(files, f => Assert.EndsWith(".eml", f));
        Assert.Equal(files.Order(), answers.Select(a => a["written ".Length..]).Order());
        foreach (var file in files)
        {
            var read = Mailbox.Read(file);
            Assert.Empty(read.Parsed.GetProperty("defects").EnumerateArray());
            Assert.Equal("line one\r\nline two\r\n", read.Part("text/plain"));
            Assert.DoesNotContain("\n", File.ReadAllText(file).Replace("\r\n", "", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task SMTP_delivers_over_a_socket_and_tells_a_refusal_from_a_delay()
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        await using var smtp = MailTransport.Create(new MailOptions { Smtp = Smtp(server.Port) });
        Assert.Contains("2.0.0 Accepted", await smtp.Send(Message("ada@example.org"), Ct));
        var refused = await Assert.ThrowsAsync<MailSendException>(() => smtp.Send(Message("nobody-550@example.org"), Ct));
        Assert.True(refused.Permanent);
        Assert.StartsWith("550 ", refused.Message);
        var later = await Assert.ThrowsAsync<MailSendException>(() => smtp.Send(Message("busy-450@example.org"), Ct));
        Assert.False(later.Permanent);
        // After refusals the session goes on (RSET): the next message is delivered.
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => smtp.Send(Message($"n{i}@example.org", $"m{i}"), Ct)));
        Assert.Equal(11, server.Messages.Count);
        Assert.Contains("line two", File.ReadAllText(server.Messages[0]));
    }

    [Fact]
    public async Task A_server_that_hangs_up_is_a_delay_and_the_next_message_gets_a_new_connection()
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        await using var smtp = MailTransport.Create(new MailOptions { Smtp = Smtp(server.Port, connections: 1) });
        var dropped = await Assert.ThrowsAsync<MailSendException>(() => smtp.Send(Message("x-hangup@example.org"), Ct));
        Assert.False(dropped.Permanent, dropped.ToString());
        await smtp.Send(Message("after@example.org"), Ct);
        Assert.Single(server.Messages);
    }

    [Fact]
    public async Task No_server_listening_is_a_delay_not_a_crash()
    {
        await using var smtp = MailTransport.Create(new MailOptions { Smtp = Smtp(SmtpRecorder.FreePort()) });
        var error = await Assert.ThrowsAsync<MailSendException>(() => smtp.Send(Message("ada@example.org"), Ct));
        Assert.False(error.Permanent);
        Assert.Contains("smtp://127.0.0.1:", error.Message);
    }

    [Theory]
    [InlineData("mail.example.org", "None", false, "allowed for loopback hosts only")]
    [InlineData("mail.example.org", "Plain", false, "must be StartTls, SslOnConnect or None")]
    public void Clear_text_SMTP_off_this_machine_is_refused_unless_forced(string host, string security, bool force, string error)
    {
        var options = new SmtpOptions { Host = host, Security = security, AllowInsecure = force };
        Assert.Contains(error, Assert.Single(options.Validate()));
        Assert.Empty(new SmtpOptions { Host = host, Security = "None", AllowInsecure = true }.Validate());
        Assert.Empty(new SmtpOptions { Host = "::1", Security = "None" }.Validate());
        Assert.Equal(587, new SmtpOptions { Host = host }.EffectivePort);
    }

    [Fact]
    public void The_password_is_never_part_of_where_mail_goes()
    {
        var options = new SmtpOptions { Host = "127.0.0.1", Port = 2525, Security = "None", User = "blog", Password = "hunter2-secret" };
        Assert.Empty(options.Validate());
        var transport = MailTransport.Create(new MailOptions { Smtp = options });
        Assert.DoesNotContain("hunter2", transport.Destination);
    }

    [Theory]
    [InlineData("StartTls", "starttls")]
    [InlineData("SslOnConnect", "implicit")]
    public async Task Over_TLS_the_server_receives_the_message_bytes_unchanged_awaited_or_blocking(string security, string mode)
    {
        var (certificate, pem, key) = SelfSigned();
        using var server = SmtpRecorder.Start(_folder["received"], (mode, pem, key));
        var options = new SmtpOptions { Host = "127.0.0.1", Port = server.Port, Security = security, MaxConnections = 1 };
        Assert.Empty(options.Validate());
        // This server's own certificate and no other (the system's trust store does not know it).
        await using var smtp = new SmtpTransport(options)
        {
            CertificateValidation = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
        };
        // Blocking sends first, on a connection of their own (a socket that never saw an awaited call),
        // then awaited ones: each kind makes its own TLS handshake. Bodies with and without dot-stuffing.
        var sent = new List<byte[]>();
        for (var i = 0; i < 3; i++)
        {
            using var blocking = Message($"b{i}@example.org", text: i == 1 ? $".dot line {i}\n" : $"blocking {i}\n");
            smtp.SendBlocking(blocking);
            sent.Add(blocking.Bytes.ToArray());
        }
        for (var i = 0; i < 3; i++)
        {
            using var message = Message($"a{i}@example.org", text: $".dot line {i}\n" + new string('x', 9000) + "\n");
            await smtp.Send(message, Ct);
            sent.Add(message.Bytes.ToArray());
        }
        Assert.Equal(sent, server.Messages.Select(File.ReadAllBytes));
        Assert.All(server.Tls, version => Assert.StartsWith("TLSv1.", version));
    }

    [Fact]
    public async Task The_final_dot_waits_for_beforeEnd_and_what_beforeEnd_throws_stops_the_message()
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        await using var smtp = MailTransport.Create(new MailOptions { Smtp = Smtp(server.Port, connections: 1) });
        var arrivedMeanwhile = -1;
        smtp.SendBlocking(Message("first@example.org"), beforeEnd: () =>
        {
            // The message is written but for its end: the server must not have it yet.
            Thread.Sleep(300);
            arrivedMeanwhile = server.Messages.Count;
        });
        Assert.Equal(0, arrivedMeanwhile);
        Assert.Single(server.Messages);

        var stopped = Assert.Throws<InvalidOperationException>(() => smtp.SendBlocking(Message("second@example.org"), beforeEnd: () => throw new InvalidOperationException("the ledger failed")));
        Assert.Equal("the ledger failed", stopped.Message);
        smtp.SendBlocking(Message("third@example.org"));
        Assert.Equal(["first@example.org", "third@example.org"], server.Recipients);
    }

    [Theory]
    [InlineData(true, "None")]
    [InlineData(false, "None")]
    [InlineData(true, "SslOnConnect")]
    [InlineData(false, "SslOnConnect")]
    public async Task A_server_that_stops_answering_is_a_delay_after_Mail_Smtp_Timeout(bool blocking, string security)
    {
        // Greets (in clear), or says nothing at all (TLS from the first byte: the handshake waits for
        // it), then reads whatever comes and never answers.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var silent = Task.Run(async () =>
        {
            using var connection = await listener.AcceptTcpClientAsync(Ct);
            var stream = connection.GetStream();
            if (security == "None")
                await stream.WriteAsync("220 silent.example.org ESMTP\r\n"u8.ToArray(), Ct);
            var buffer = new byte[4096];
            try
            {
                while (await stream.ReadAsync(buffer, Ct) > 0)
                {
                }
            }
            catch (IOException)
            {
                // The client gave up and reset the connection.
            }
        }, Ct);
        var options = new SmtpOptions { Host = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port, Security = security, Timeout = TimeSpan.FromSeconds(1) };
        Assert.Empty(options.Validate());
        await using var smtp = MailTransport.Create(new MailOptions { Smtp = options });
        var clock = Stopwatch.StartNew();
        var error = blocking
            ? Assert.Throws<MailSendException>(() => smtp.SendBlocking(Message("ada@example.org")))
            : await Assert.ThrowsAsync<MailSendException>(() => smtp.Send(Message("ada@example.org"), Ct));
        Assert.False(error.Permanent);
        // In clear the timeout is the error; under TLS it is what ended MailKit's handshake.
        Assert.Contains("did not answer within 1 s (Mail:Smtp:Timeout)", security == "None" ? error.Message : error.ToString());
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        await silent.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    /// <summary>A certificate for 127.0.0.1, and its PEM certificate and key files.</summary>
    private (X509Certificate2 Certificate, string Pem, string Key) SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (certificate, _folder.Write("tls/cert.pem", certificate.ExportCertificatePem()), _folder.Write("tls/key.pem", rsa.ExportPkcs8PrivateKeyPem()));
    }
}
