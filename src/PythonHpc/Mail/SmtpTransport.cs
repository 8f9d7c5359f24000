using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MimeKit.IO;

namespace PythonHpc.Mail;

/// <summary>
/// An SMTP relay through MailKit, with up to <c>Mail:Smtp:MaxConnections</c> connections kept open
/// and reused (an <see cref="SmtpClient"/> serves one message at a time). Sockets are connected by
/// hand with TCP_NODELAY: MailKit leaves Nagle on, and against a peer's delayed ACK that caps a
/// connection near 22 messages/s (NOTES.md). MailKit talks over a <see cref="SocketStream"/>, which
/// sends what it writes a flush at a time.
/// </summary>
internal sealed class SmtpTransport(SmtpOptions options) : MailTransport
{
    /// <summary>A connection idle longer than this is checked with NOOP first: relays close idle sessions (Postfix after 300 s).</summary>
    private static readonly TimeSpan CheckAfter = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _slots = new(options.MaxConnections, options.MaxConnections);
    // Each connection is kept for the way it was made: a socket that has seen one awaited call is made
    // non-blocking by .NET for good, and blocking calls on it are then run over the socket engine.
    private readonly ConcurrentStack<(SmtpClient Client, bool Blocking, long IdleSince)> _idle = new();

    /// <summary>For tests against a server with a certificate of their own; null: the system's trust store decides.</summary>
    internal RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    public override string Destination => $"smtp://{options.Host}:{options.EffectivePort} ({options.SocketOptions})";

    public override Task<string> Send(WireMessage message, CancellationToken cancellationToken) =>
        Send(message, null, async: true, cancellationToken).AsTask();

    /// <summary>
    /// On the calling thread, with blocking socket calls: what announcement senders use, each on a
    /// thread of its own. A blocked thread is woken by the kernel when the reply comes; an awaited read
    /// goes through the socket engine's thread and the thread pool: 14 context switches a message
    /// against 4, and 5,029 against 6,528 messages/s to smtp-sink (20,000 messages, no ledger).
    /// </summary>
    public override string SendBlocking(WireMessage message, Action? beforeEnd = null)
    {
        var sending = Send(message, beforeEnd, async: false, CancellationToken.None);
        Debug.Assert(sending.IsCompleted, "a blocking send completes before it returns");
        return sending.GetAwaiter().GetResult();
    }

    /// <summary>
    /// One send, awaiting (<paramref name="async"/>) or blocking: with <paramref name="async"/> false
    /// every step is MailKit's or the socket's blocking call, so this returns completed (the pattern of
    /// .NET's own streams and Npgsql: one body for both).
    /// </summary>
    private async ValueTask<string> Send(WireMessage message, Action? beforeEnd, bool async, CancellationToken cancellationToken)
    {
        if (async)
            await _slots.WaitAsync(cancellationToken);
        else
            _slots.Wait(cancellationToken);
        SmtpClient? client = null;
        Ready? ready = null;
        try
        {
            ready = Ready.For(message, beforeEnd, blocking: !async);
            (client, var reused) = await Rent(async, cancellationToken);
            try
            {
                return await Send(client, ready, async, cancellationToken);
            }
            catch (Exception e) when (reused && !ready.Written && e is IOException or SocketException or ServiceNotConnectedException or SmtpProtocolException or TimeoutException)
            {
                // A kept connection the relay had closed (it restarted, or timed the session out) or that a
                // firewall dropped without a word: the message did not go, so it goes once more on a new connection.
                Discard(ref client);
                client = await Connect(async, cancellationToken);
                ready = Ready.For(message, beforeEnd, blocking: !async);
                return await Send(client, ready, async, cancellationToken);
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
            throw new MailSendException($"{Destination}: {e.Message}", permanent: false, e) { MaybeDelivered = ready?.Written ?? false };
        }
        finally
        {
            if (client is { IsConnected: true })
                _idle.Push((client, !async, Environment.TickCount64));
            else
                Discard(ref client);
            _slots.Release();
        }
    }

    // No progress is asked for: MailKit would measure each message first, by serialising it once more.
    private ValueTask<string> Send(SmtpClient client, Ready message, bool async, CancellationToken cancellationToken)
    {
        var sender = Sender(message.Wire.Sender);
        MailboxAddress[] recipients = [new MailboxAddress("", message.Wire.Recipient)];
        return async
            ? new ValueTask<string>(client.SendAsync(MessageSigner.Wire, message, sender, recipients, cancellationToken))
            : new ValueTask<string>(client.Send(MessageSigner.Wire, message, sender, recipients, cancellationToken));
    }

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
    /// transaction stays MailKit's (PIPELINING, SMTPUTF8, dot-stuffing, replies, RSET; in clear the stream
    /// under it adds DATA to the envelope, <see cref="SocketStream.PipelineData"/>); what goes is MimeKit
    /// serialising a MIME tree for each message, which bench/run profiled at a fifth of an
    /// announcement's CPU time. MimeKit writes a message as its own header fields (adding MIME-Version
    /// when it has none), its body's fields, a blank line, then its body's content: here the message's
    /// one field is the MIME-Version a <see cref="WireMessage"/> starts with, the body's one field
    /// carries the rest of the header block as its raw value, and the body writes the rest. A test
    /// checks that a server receives exactly the message's bytes (tests/…/MailTransportTests.cs).
    /// </summary>
    private sealed class Ready : MimeMessage
    {
        [ThreadStatic]
        private static Ready? t_kept;

        private readonly Content _content;

        private Ready()
            : base((IEnumerable<Header>)[WireMessage.MimeVersionHeader()])
        {
            Body = _content = new Content(this);
        }

        /// <summary>
        /// <paramref name="message"/> ready for MailKit: in a new Ready for an awaited send, in the
        /// thread's own for a blocking one (a thread sends one message at a time, and building a
        /// MimeMessage cost about 6 µs of each message's CPU time, perf).
        /// </summary>
        public static Ready For(WireMessage message, Action? beforeEnd, bool blocking)
        {
            var ready = blocking ? t_kept ??= new Ready() : new Ready();
            (ready.Wire, ready.BeforeEnd, ready.Written) = (message, beforeEnd, false);
            var (field, value, body) = message.Split();
            ready._content.Load(field, value, body);
            return ready;
        }

        public WireMessage Wire { get; private set; } = null!;

        /// <summary>Runs after the message's last byte is handed to MailKit and before MailKit writes the final dot.</summary>
        public Action? BeforeEnd { get; private set; }

        /// <summary>Every byte was handed to the connection: a failure after this may follow a delivery.</summary>
        public bool Written { get; private set; }

        /// <summary>Already 7-bit, with lines under 998 octets (WireMessage's promise): nothing to prepare.</summary>
        public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
        {
        }

        private sealed class Content(Ready message) : MimeEntity(new ContentType("application", "octet-stream"))
        {
            private ReadOnlyMemory<byte> _body;

            /// <summary>The message's header block after MIME-Version, as one field's raw value, and its body.</summary>
            public void Load(string field, byte[] value, ReadOnlyMemory<byte> body)
            {
                if (Headers.Count != 1 || Headers[0].Field != field)
                {
                    Headers.Clear();
                    Headers.Add(new Header(field, ""));
                }
                Headers[0].SetRawValue(value);
                _body = body;
            }

            public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
            {
            }

            /// <summary>
            /// Where the body goes. MailKit writes DATA through a dot-stuffing filter (RFC 5321 §4.5.2) that
            /// looks at every byte, a twentieth of a run's CPU time (perf). A body with no line starting with
            /// a dot that ends with CRLF (what quoted-printable announcements are) needs no stuffing, and
            /// goes to the stream under the filter; the filter, which has seen the header block end with
            /// CRLF, then adds nothing before MailKit's final dot. Any other body goes through the filter.
            /// </summary>
            private Stream Under(Stream stream)
            {
                var body = _body.Span;
                return stream is FilteredStream { Source: { } under } && body.Length >= 2 && body[0] != (byte)'.'
                    && body.EndsWith("\r\n"u8) && body.IndexOf("\n."u8) < 0
                    ? under
                    : stream;
            }

            /// <summary>After the body went to the connection (not when MailKit only measures the message): the hook, then the mark.</summary>
            private void Sent(Stream stream)
            {
                if (stream is MeasuringStream)
                    return;
                message.BeforeEnd?.Invoke();
                message.Written = true;
            }

            public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
            {
                if (!contentOnly)
                    throw new NotSupportedException("written only as its message's body");
                Under(stream).Write(_body.Span);
                Sent(stream);
            }

            public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
            {
                if (!contentOnly)
                    throw new NotSupportedException("written only as its message's body");
                await Under(stream).WriteAsync(_body, cancellationToken);
                Sent(stream);
            }
        }
    }

    /// <summary>A kept connection (reused: true) or a new one.</summary>
    private async ValueTask<(SmtpClient Client, bool Reused)> Rent(bool async, CancellationToken cancellationToken)
    {
        while (_idle.TryPop(out var idle))
        {
            SmtpClient? kept = idle.Client;
            // One of the other kind is closed rather than kept beside a new one: at most
            // Mail:Smtp:MaxConnections stay open (awaited sends are confirmations, and rare).
            if (idle.Blocking == async)
            {
                Discard(ref kept);
                continue;
            }
            if (Environment.TickCount64 - idle.IdleSince < CheckAfter.TotalMilliseconds)
                return (idle.Client, true);
            try
            {
                if (async)
                    await idle.Client.NoOpAsync(cancellationToken);
                else
                    idle.Client.NoOp(cancellationToken);
                return (idle.Client, true);
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or ServiceNotConnectedException or TimeoutException)
            {
                Discard(ref kept);
            }
        }
        return (await Connect(async, cancellationToken), false);
    }

    private async ValueTask<SmtpClient> Connect(bool async, CancellationToken cancellationToken)
    {
        var client = new SmtpClient { Timeout = (int)options.Timeout.TotalMilliseconds };
        if (CertificateValidation is not null)
            client.ServerCertificateValidationCallback = CertificateValidation;
        try
        {
            var socket = async ? await ConnectSocket(cancellationToken) : ConnectSocket();
            // The stream owns the socket from here: MailKit disposes it with the connection.
            var stream = new SocketStream(socket, options.Timeout);
            if (async)
                await client.ConnectAsync(stream, options.Host, options.EffectivePort, options.SocketOptions, cancellationToken);
            else
                client.Connect(stream, options.Host, options.EffectivePort, options.SocketOptions, cancellationToken);
            // With SIZE (RFC 1870) offered, MailKit serialises every message once more only to measure it
            // for MAIL FROM's SIZE= (a tenth of the sending's CPU, profiled by bench/run). An announcement is
            // far below any relay's limit, and a relay that enforces one still refuses at the end of DATA.
            client.Capabilities &= ~SmtpCapabilities.Size;
            if (options.User.Length > 0 && async)
                await client.AuthenticateAsync(options.User, options.Password, cancellationToken);
            else if (options.User.Length > 0)
                client.Authenticate(options.User, options.Password, cancellationToken);
            // MailKit waits for the envelope's replies before sending DATA: a round trip of three.
            if (!client.IsSecure && client.Capabilities.HasFlag(SmtpCapabilities.Pipelining))
            {
                // DATA is what goes with the envelope: MailKit must not choose BDAT (RFC 3030) instead.
                client.Capabilities &= ~(SmtpCapabilities.Chunking | SmtpCapabilities.BinaryMime);
                stream.PipelineData();
            }
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A TCP connection to the relay within <c>Mail:Smtp:Timeout</c> (the kernel alone would try for minutes).</summary>
    private async Task<Socket> ConnectSocket(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            await socket.ConnectAsync(options.Host, options.EffectivePort, timeout.Token);
            return socket;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw ConnectTimedOut(e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The same, blocking. The socket must never see an awaited call: .NET then makes it non-blocking for
    /// good and runs blocking calls over the socket engine's thread, which is what they are here to avoid.
    /// </summary>
    private Socket ConnectSocket()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // 0 while connecting; 1 once the watchdog has closed the socket, 2 once the connect has won.
        var state = 0;
        using var watchdog = new Timer(_ =>
        {
            if (Interlocked.CompareExchange(ref state, 1, 0) == 0)
                socket.Dispose();
        }, null, options.Timeout, Timeout.InfiniteTimeSpan);
        try
        {
            socket.Connect(options.Host, options.EffectivePort);
            if (Interlocked.CompareExchange(ref state, 2, 0) == 0)
                return socket;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException && Volatile.Read(ref state) == 1)
        {
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        // A blocking connect that took longer than Mail:Smtp:Timeout, ended by closing its socket.
        socket.Dispose();
        throw ConnectTimedOut(null);
    }

    private TimeoutException ConnectTimedOut(Exception? inner) =>
        new($"no connection within {options.Timeout.TotalSeconds:0.#} s (Mail:Smtp:Timeout)", inner);

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
