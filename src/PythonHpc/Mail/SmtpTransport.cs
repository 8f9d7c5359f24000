using System.Collections.Concurrent;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace PythonHpc.Mail;

/// <summary>
/// An SMTP relay through MailKit, with up to <c>Mail:Smtp:MaxConnections</c> connections kept open
/// and reused (an <see cref="SmtpClient"/> serves one message at a time). Sockets are connected by
/// hand with TCP_NODELAY: MailKit leaves Nagle on, and against a peer's delayed ACK that caps a
/// connection near 22 messages/s (NOTES.md).
/// </summary>
internal sealed class SmtpTransport(SmtpOptions options) : MailTransport
{
    /// <summary>A connection idle longer than this is checked with NOOP first: relays close idle sessions (Postfix after 300 s).</summary>
    private static readonly TimeSpan CheckAfter = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _slots = new(options.MaxConnections, options.MaxConnections);
    private readonly ConcurrentStack<(SmtpClient Client, long IdleSince)> _idle = new();

    public override string Destination => $"smtp://{options.Host}:{options.EffectivePort} ({options.SocketOptions})";

    public override async Task<string> Send(WireMessage message, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        SmtpClient? client = null;
        var ready = new Ready(message);
        try
        {
            (client, var reused) = await Rent(cancellationToken);
            try
            {
                return await Send(client, ready, cancellationToken);
            }
            catch (Exception e) when (reused && !ready.Written && e is IOException or SocketException or ServiceNotConnectedException or SmtpProtocolException)
            {
                // A kept connection the relay had closed (it restarted, or timed the session out): the
                // message did not go, so it goes once more on a new connection.
                Discard(ref client);
                client = await Connect(cancellationToken);
                ready = new Ready(message);
                return await Send(client, ready, cancellationToken);
            }
        }
        catch (SmtpCommandException e)
        {
            // The server answered: 4xx is "later", 5xx is "never" (RFC 5321 §4.2.1). MailKit has sent RSET
            // and kept the session, unless the answer was 421.
            throw new MailSendException($"{(int)e.StatusCode} {e.Message}", permanent: (int)e.StatusCode >= 500, e) { Code = (int)e.StatusCode };
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or ServiceNotConnectedException
                                      or AuthenticationException or SslHandshakeException or TimeoutException)
        {
            Discard(ref client);
            throw new MailSendException($"{Destination}: {e.Message}", permanent: false, e) { MaybeDelivered = ready.Written };
        }
        finally
        {
            if (client is { IsConnected: true })
                _idle.Push((client, Environment.TickCount64));
            else
                Discard(ref client);
            _slots.Release();
        }
    }

    // No progress is asked for: MailKit would measure each message first, by serialising it once more.
    private Task<string> Send(SmtpClient client, Ready message, CancellationToken cancellationToken) =>
        client.SendAsync(MessageSigner.Wire, message, Sender(message.Wire.Sender), [new MailboxAddress("", message.Wire.Recipient)], cancellationToken);

    private MailboxAddress? _sender;

    /// <summary>The envelope's sender, parsed once: the messages of a run share it.</summary>
    private MailboxAddress Sender(string address)
    {
        var sender = _sender;
        if (sender?.Address != address)
            _sender = sender = new MailboxAddress("", address);
        return sender;
    }

    /// <summary>
    /// What MailKit is given to send: a MimeMessage that writes the ready message's bytes. MailKit's
    /// transaction stays whole (PIPELINING, SMTPUTF8, dot-stuffing, replies, RSET); what goes is MimeKit
    /// serialising a MIME tree for each message, which bench/run profiled at a fifth of an
    /// announcement's CPU time. MimeKit writes a message as its own header fields (adding MIME-Version
    /// when it has none), its body's fields, a blank line, then its body's content: here the message's
    /// one field is the MIME-Version a <see cref="WireMessage"/> starts with, the body's one field
    /// carries the rest of the header block as its raw value, and the body writes the rest. A test
    /// checks that a server receives exactly the message's bytes (tests/…/MailTransportTests.cs).
    /// </summary>
    private sealed class Ready : MimeMessage
    {
        public Ready(WireMessage message)
            : base((IEnumerable<Header>)[WireMessage.MimeVersionHeader()])
        {
            Wire = message;
            var (field, value, body) = message.Split();
            var rest = new Header(field, "");
            rest.SetRawValue(value);
            Body = new Content(this, rest, body);
        }

        public WireMessage Wire { get; }

        /// <summary>Every byte was handed to the connection: a failure after this may follow a delivery.</summary>
        public bool Written { get; private set; }

        /// <summary>Already 7-bit, with lines under 998 octets (WireMessage's promise): nothing to prepare.</summary>
        public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
        {
        }

        private sealed class Content : MimeEntity
        {
            private readonly Ready _message;
            private readonly ReadOnlyMemory<byte> _body;

            public Content(Ready message, Header rest, ReadOnlyMemory<byte> body)
                : base(new ContentType("application", "octet-stream"))
            {
                (_message, _body) = (message, body);
                Headers.Clear();
                Headers.Add(rest);
            }

            public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
            {
            }

            public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
            {
                if (!contentOnly)
                    throw new NotSupportedException("written only as its message's body");
                stream.Write(_body.Span);
                _message.Written = true;
            }

            public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
            {
                if (!contentOnly)
                    throw new NotSupportedException("written only as its message's body");
                await stream.WriteAsync(_body, cancellationToken);
                _message.Written = true;
            }
        }
    }

    /// <summary>A kept connection (reused: true) or a new one.</summary>
    private async Task<(SmtpClient Client, bool Reused)> Rent(CancellationToken cancellationToken)
    {
        while (_idle.TryPop(out var idle))
        {
            if (Environment.TickCount64 - idle.IdleSince < CheckAfter.TotalMilliseconds)
                return (idle.Client, true);
            try
            {
                await idle.Client.NoOpAsync(cancellationToken);
                return (idle.Client, true);
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or ServiceNotConnectedException)
            {
                SmtpClient? stale = idle.Client;
                Discard(ref stale);
            }
        }
        return (await Connect(cancellationToken), false);
    }

    private async Task<SmtpClient> Connect(CancellationToken cancellationToken)
    {
        var client = new SmtpClient { Timeout = 60_000 };
        try
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(options.Host, options.EffectivePort, cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            await client.ConnectAsync(socket, options.Host, options.EffectivePort, options.SocketOptions, cancellationToken);
            // With SIZE (RFC 1870) offered, MailKit serialises every message once more only to measure it
            // for MAIL FROM's SIZE= (a tenth of the sending's CPU, profiled by bench/run). An announcement is
            // far below any relay's limit, and a relay that enforces one still refuses at the end of DATA.
            client.Capabilities &= ~SmtpCapabilities.Size;
            if (options.User.Length > 0)
                await client.AuthenticateAsync(options.User, options.Password, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static void Discard(ref SmtpClient? client)
    {
        if (client is null)
            return;
        try
        {
            if (client.IsConnected)
                client.Disconnect(quit: false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        client.Dispose();
        client = null;
    }

    public override async ValueTask DisposeAsync()
    {
        while (_idle.TryPop(out var idle))
        {
            try
            {
                await idle.Client.DisconnectAsync(quit: true);
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or ServiceNotConnectedException)
            {
            }
            idle.Client.Dispose();
        }
        _slots.Dispose();
        await base.DisposeAsync();
    }
}
