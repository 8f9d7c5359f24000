using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Hosting;
using PythonHpc.Mail;

/// <summary>bench/run's diagnostic: the sending of `announce send-now` without its ledger, through MailKit or a minimal writer, a blocking thread per connection.</summary>
internal static class Wire
{
    public static async Task<int> Run(string folder, string port, int count, int connections, string how)
    {
        var mail = new MailOptions { From = "Python HPC <webinars@blog.example.org>" };
        var site = new SiteOptions { BaseUrl = "https://blog.example.org/" };
        var content = new ContentOptions { PostsPath = folder };
        var errors = site.Validate().Concat(content.Validate()).Concat(mail.Validate()).ToList();
        if (errors.Count > 0)
            throw new ConfigurationException(errors);
        var messages = new AnnouncementMessage(site, mail, new AnnouncementsOptions(), new LiquidTemplates(new TemplatesOptions()), null);
        var loader = new PostLoader(site, content);
        var post = new PostCatalog(content, loader).Refresh().Posts.Single(p => p.Webinar is not null);
        var draft = messages.Prepare(post, post.Webinar!, new PostContent(loader, new PostRenderer()).Render(post));
        var next = -1;
        WireMessage Compose(int i) => messages.Compose(draft,
            new Recipient($"user{i}@example.org", $"Reader {i}", new Uri($"https://blog.example.org/unsubscribe/{i:x8}")), DateTimeOffset.UtcNow);

        var clock = Stopwatch.StartNew();
        // One thread per connection, blocking in the socket, as the service's senders do (DeliveryRun).
        Action send;
        MailTransport? transport = null;
        if (how == "mailkit")
        {
            var smtp = new SmtpOptions { Host = "127.0.0.1", Port = int.Parse(port, CultureInfo.InvariantCulture), Security = "None", MaxConnections = connections };
            if (smtp.Validate().ToList() is { Count: > 0 } bad)
                throw new ConfigurationException(bad);
            transport = MailTransport.Create(new MailOptions { Smtp = smtp });
            send = () =>
            {
                while (Interlocked.Increment(ref next) is var i && i < count)
                {
                    using var message = Compose(i);
                    transport.SendBlocking(message);
                }
            };
        }
        else
        {
            send = () =>
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Connect("127.0.0.1", int.Parse(port, CultureInfo.InvariantCulture));
                var replies = new byte[4096];
                Reply(socket, replies, 1);
                socket.Send("EHLO bench.example.org\r\n"u8);
                Reply(socket, replies, 1);
                while (Interlocked.Increment(ref next) is var i && i < count)
                {
                    using var message = Compose(i);
                    // RFC 2920: the envelope and DATA in one write, their three replies read together.
                    socket.Send(Encoding.ASCII.GetBytes($"MAIL FROM:<{message.Sender}>\r\nRCPT TO:<{message.Recipient}>\r\nDATA\r\n"));
                    Reply(socket, replies, 3);
                    // The message has no line starting with a dot (WireMessage's quoted-printable): no stuffing
                    // needed here; it and the final dot in one write.
                    socket.Send([.. message.Bytes.Span, .. ".\r\n"u8]);
                    Reply(socket, replies, 1);
                }
                socket.Send("QUIT\r\n"u8);
            };
        }
        var threads = Enumerable.Range(0, connections).Select(_ => new Thread(() => send())).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (transport is not null)
            await transport.DisposeAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messages={count} seconds={seconds:0.000} rate={count / seconds:0}"));
        return 0;
    }

    /// <summary>Reads until <paramref name="count"/> final reply lines ("NNN " lines, RFC 5321 §4.2) have come; fails on anything but 2xx/3xx.</summary>
    private static void Reply(Socket socket, byte[] buffer, int count)
    {
        var (seen, column, first, final) = (0, 0, (byte)0, false);
        while (seen < count)
        {
            var n = socket.Receive(buffer);
            if (n == 0)
                throw new IOException("the server closed the connection");
            foreach (var c in buffer.AsSpan(0, n))
            {
                if (column == 0)
                    first = c;
                if (column == 3)
                    final = c == ' ';
                column++;
                if (c != '\n')
                    continue;
                if (final && first is not ((byte)'2' or (byte)'3'))
                    throw new IOException($"refused with {(char)first}xx");
                seen += final ? 1 : 0;
                (column, final) = (0, false);
            }
        }
    }
}
