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

    public override async Task<string> Send(MimeMessage message, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        SmtpClient? client = null;
        try
        {
            client = await Rent(cancellationToken);
            return await client.SendAsync(message, cancellationToken);
        }
        catch (SmtpCommandException e)
        {
            // The server answered: 4xx is "later", 5xx is "never" (RFC 5321 §4.2.1). MailKit has sent RSET
            // and kept the session, unless the answer was 421.
            throw new MailSendException($"{(int)e.StatusCode} {e.Message}", permanent: (int)e.StatusCode >= 500, e);
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or ServiceNotConnectedException
                                      or AuthenticationException or SslHandshakeException or TimeoutException)
        {
            Discard(ref client);
            throw new MailSendException($"{Destination}: {e.Message}", permanent: false, e);
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

    private async Task<SmtpClient> Rent(CancellationToken cancellationToken)
    {
        while (_idle.TryPop(out var idle))
        {
            if (Environment.TickCount64 - idle.IdleSince < CheckAfter.TotalMilliseconds)
                return idle.Client;
            try
            {
                await idle.Client.NoOpAsync(cancellationToken);
                return idle.Client;
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or ServiceNotConnectedException)
            {
                SmtpClient? stale = idle.Client;
                Discard(ref stale);
            }
        }
        return await Connect(cancellationToken);
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
