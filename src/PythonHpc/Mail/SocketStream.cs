using System.Net.Sockets;

namespace PythonHpc.Mail;

/// <summary>
/// The connected socket MailKit talks SMTP over (given to <c>SmtpClient.ConnectAsync(Stream, …)</c>, and
/// under its TLS when there is TLS). MailKit's own socket stream hands the socket each 4 KB it has
/// buffered as a send of its own (with TCP_NODELAY, a segment each, and a wake-up of the server for
/// each), and arms a timer and three cancellation sources for every read and write. Here, what MailKit
/// writes is gathered until it flushes: one send for the envelope, one for DATA, one for the whole
/// message with its final dot. No timer or cancellation source is made per operation: one timer per
/// connection stands in for them. bench/run measured the difference.
/// </summary>
internal sealed class SocketStream : Stream
{
    /// <summary>Gathered bytes go out at this size even without a flush: a large message is not held whole.</summary>
    private const int SendAt = 64 * 1024;

    private readonly Socket _socket;
    private readonly Timer _watchdog;
    private byte[] _output = new byte[16 * 1024];
    private int _count;
    private int _timeout = Timeout.Infinite;

    // When the read or send under way started (Environment.TickCount64), 0 when none is: the watchdog
    // closes the socket once one has taken longer than the timeout.
    private long _busySince;
    private volatile bool _timedOut;

    /// <summary>
    /// <paramref name="timeout"/> holds from the first byte: MailKit sets its own only once connected,
    /// after an implicit-TLS handshake that could otherwise wait for ever on a relay that says nothing.
    /// </summary>
    public SocketStream(Socket socket, TimeSpan timeout)
    {
        _socket = socket;
        _watchdog = new Timer(static state => ((SocketStream)state!).Watch(), this, Timeout.Infinite, Timeout.Infinite);
        SetTimeout((int)timeout.TotalMilliseconds);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override bool CanTimeout => true;

    /// <summary>MailKit sets both to <c>SmtpClient.Timeout</c>: how long one read or send may take.</summary>
    public override int ReadTimeout
    {
        get => _timeout;
        set => SetTimeout(value);
    }

    public override int WriteTimeout
    {
        get => _timeout;
        set => SetTimeout(value);
    }

    private void SetTimeout(int milliseconds)
    {
        _timeout = milliseconds <= 0 ? Timeout.Infinite : milliseconds;
        // Blocking calls have the kernel's own timeouts; asynchronous ones have the watchdog, which looks
        // a few times per timeout (at most once a second).
        _socket.ReceiveTimeout = _socket.SendTimeout = _timeout == Timeout.Infinite ? 0 : _timeout;
        var period = _timeout == Timeout.Infinite ? Timeout.Infinite : Math.Clamp(_timeout / 4, 50, 1000);
        _watchdog.Change(period, period);
    }

    private void Watch()
    {
        var since = Interlocked.Read(ref _busySince);
        if (since == 0 || _timeout == Timeout.Infinite || Environment.TickCount64 - since <= _timeout)
            return;
        // The pending read or send ends with an error, reported as the timeout it is.
        _timedOut = true;
        _socket.Dispose();
    }

    private void Begin() => Interlocked.Exchange(ref _busySince, Environment.TickCount64);

    private void End() => Interlocked.Exchange(ref _busySince, 0);

    /// <summary>What a failed read or send throws: a timeout (the watchdog's, or the kernel's for a blocking call), or an IOException.</summary>
    private Exception Failure(Exception e) => _timedOut || e is SocketException { SocketErrorCode: SocketError.TimedOut }
        ? new TimeoutException($"the server did not answer within {_timeout / 1000.0:0.#} s (Mail:Smtp:Timeout)", e)
        : e as IOException ?? new IOException(e.Message, e);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Whoever reads waits for an answer to what it wrote: anything still gathered goes first.
        if (_count > 0)
            await SendAsync(cancellationToken);
        Begin();
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException || (_timedOut && e is OperationCanceledException))
        {
            throw Failure(e);
        }
        finally
        {
            End();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_count > 0)
            Flush();
        try
        {
            return _socket.Receive(buffer);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failure(e);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Gather(buffer);
        if (_count >= SendAt)
            Flush();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Gather(buffer.Span);
        return _count >= SendAt ? SendAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    private void Gather(ReadOnlySpan<byte> bytes)
    {
        if (_count + bytes.Length > _output.Length)
            Array.Resize(ref _output, Math.Max(_output.Length * 2, _count + bytes.Length));
        bytes.CopyTo(_output.AsSpan(_count));
        _count += bytes.Length;
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _count == 0 ? Task.CompletedTask : SendAsync(cancellationToken).AsTask();

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        Begin();
        try
        {
            var sent = 0;
            while (sent < _count)
                sent += await _socket.SendAsync(_output.AsMemory(sent, _count - sent), SocketFlags.None, cancellationToken);
            _count = 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException || (_timedOut && e is OperationCanceledException))
        {
            throw Failure(e);
        }
        finally
        {
            End();
        }
    }

    public override void Flush()
    {
        try
        {
            var sent = 0;
            while (sent < _count)
                sent += _socket.Send(_output.AsSpan(sent, _count - sent));
            _count = 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failure(e);
        }
    }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _watchdog.Dispose();
            _socket.Dispose();
        }
        base.Dispose(disposing);
    }
}
