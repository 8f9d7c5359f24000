using System.Net.Sockets;

namespace PythonHpc.Mail;

/// <summary>
/// The connected socket MailKit talks SMTP over (given to <c>SmtpClient.ConnectAsync(Stream, …)</c>, and
/// under its TLS when there is TLS). MailKit's own socket stream hands the socket each 4 KB it has
/// buffered as a send of its own (with TCP_NODELAY, a segment each, and a wake-up of the server for
/// each), and arms a timer and three cancellation sources for every read and write. Here, what MailKit
/// writes is gathered until it flushes: one send for the envelope, one for DATA, one for the whole
/// message with its final dot. No timer or cancellation source is made per operation: one timer per
/// connection stands in for them. In clear, DATA also goes with the envelope (<see cref="PipelineData"/>):
/// two sends and two round trips a message. bench/run measured each difference.
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

    // DATA pipelined after the envelope (see PipelineData). _input holds what the relay sent that MailKit
    // has not been given yet: while the envelope's replies come in, only they are given, up to _scanned.
    private bool _pipelining;
    private Pipe _pipe;
    private int _repliesLeft;
    private bool _inData;
    // The last bytes of the content sent so far, for its end to be seen across sends.
    private readonly byte[] _tail = new byte[5];
    private byte[] _input = new byte[512];
    private int _inStart, _inEnd, _scanned;

    private enum Pipe
    {
        /// <summary>Nothing pipelined: what the relay sends goes to MailKit as it comes.</summary>
        None,

        /// <summary>MAIL, RCPT and our DATA sent: MailKit reads the replies to its own commands.</summary>
        Envelope,

        /// <summary>MailKit has its replies; DATA's is held until MailKit sends DATA (or something else).</summary>
        Held,
    }

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
        while (true)
        {
            if (Buffered(buffer.Span, out var taken))
                return taken;
            if (_pipe != Pipe.Envelope)
                return await ReceiveAsync(buffer, cancellationToken);
            if (!Filled(await ReceiveAsync(Space(), cancellationToken)))
                return 0;
        }
    }

    private async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
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
        while (true)
        {
            if (Buffered(buffer, out var taken))
                return taken;
            if (_pipe != Pipe.Envelope)
                return Receive(buffer);
            if (!Filled(Receive(Space().Span)))
                return 0;
        }
    }

    private int Receive(Span<byte> buffer)
    {
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
        if (!await Pipelined(async: true, cancellationToken))
            return;
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
        // Blocking, this completes before it returns (the async flag, as in SmtpTransport).
        var pipelined = Pipelined(async: false, CancellationToken.None);
        System.Diagnostics.Debug.Assert(pipelined.IsCompleted, "a blocking step completes before it returns");
        if (!pipelined.GetAwaiter().GetResult())
            return;
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

    /// <summary>
    /// From here on, DATA goes in the same group as MAIL FROM and RCPT TO (RFC 2920 §3.1: DATA may end a
    /// group, and the content waits for its 354): two round trips a message instead of MailKit's three.
    /// Only for a relay that offers PIPELINING, only where this stream carries SMTP in the clear (under
    /// MailKit's TLS it carries ciphertext), and only for MailKit's envelope of one sender and one
    /// recipient, which is every message here. MailKit does not see it: it is given the replies to its
    /// MAIL and RCPT, and when it then sends DATA, that command is not sent again and the reply already
    /// received is what it reads. When MailKit does not go on to DATA (a recipient refused: it sends
    /// RSET), DATA's reply is dropped. A relay should have refused that DATA, having no recipient (RFC
    /// 5321 §3.3), and most do; one that took it is waiting for content. RFC 2920 §3.1 would send it an
    /// empty message (a lone dot); here the connection is closed instead, without QUIT, so that nothing
    /// can be delivered, not even an empty message.
    /// </summary>
    public void PipelineData() => _pipelining = true;

    private enum Step
    {
        Send,
        /// <summary>MailKit's DATA: not sent; the reply already there is its answer.</summary>
        Swallow,
        /// <summary>Another command after the envelope: DATA's reply is dropped first.</summary>
        Drop,
    }

    private static ReadOnlySpan<byte> Data => "DATA\r\n"u8;

    /// <summary>
    /// What is gathered, made ready to send: DATA added to an envelope, or MailKit's DATA answered with
    /// the reply already received (reading it whole first, awaiting or blocking). False when nothing is
    /// to be sent.
    /// </summary>
    private async ValueTask<bool> Pipelined(bool async, CancellationToken cancellationToken)
    {
        if (!_pipelining || _count == 0 || Plan() is var step && step == Step.Send)
            return true;
        while (ReplyEnd() < 0)
            Filled(async ? await ReceiveAsync(Space(), cancellationToken) : Receive(Space().Span), required: true);
        return Settle(step);
    }

    /// <summary>What to do with the gathered bytes about to be sent.</summary>
    private Step Plan()
    {
        var output = _output.AsSpan(0, _count);
        if (_inData)
        {
            _inData = !Ends(output);
            return Step.Send;
        }
        if (_pipe == Pipe.None && output.SequenceEqual(Data))
        {
            // DATA not pipelined (the envelope was not MailKit's usual one): the content follows a 354.
            // Taken as sent either way: a refused DATA leaves this connection unpipelined, never the
            // other way round.
            StartContent();
            return Step.Send;
        }
        switch (_pipe)
        {
            case Pipe.Held:
                return output.SequenceEqual(Data) ? Step.Swallow : Step.Drop;
            case Pipe.Envelope:
                Abandon("MailKit wrote again before it had read the envelope's replies");
                break;
        }
        if (IsEnvelope(output) && _inStart == _inEnd)
        {
            Gather(Data);
            (_pipe, _repliesLeft, _scanned) = (Pipe.Envelope, 2, _inStart);
        }
        return Step.Send;
    }

    private void StartContent()
    {
        // As if after the CRLF that ended DATA: an empty message is the final dot alone.
        "\0\0\0\r\n"u8.CopyTo(_tail);
        _inData = true;
    }

    /// <summary>
    /// Whether the content ends with <paramref name="output"/>: with the final dot's line, which no
    /// line of the content can be (dot-stuffing, RFC 5321 §4.5.2). A large message goes in several
    /// sends, and the end may straddle two.
    /// </summary>
    private bool Ends(ReadOnlySpan<byte> output)
    {
        Span<byte> last = stackalloc byte[5];
        var fromOutput = Math.Min(output.Length, last.Length);
        _tail.AsSpan(fromOutput).CopyTo(last);
        output[^fromOutput..].CopyTo(last[(last.Length - fromOutput)..]);
        last.CopyTo(_tail);
        return last.SequenceEqual("\r\n.\r\n"u8);
    }

    /// <summary>
    /// Whether <paramref name="output"/> is MAIL FROM and one RCPT TO, whole: MailKit flushes a longer
    /// envelope in parts when it outgrows its 4 KB buffer, and a part must not be taken for the whole.
    /// </summary>
    private static bool IsEnvelope(ReadOnlySpan<byte> output)
    {
        var mail = output.IndexOf("\r\n"u8) + 2;
        return mail > 2 && output.StartsWith("MAIL FROM:"u8) && output[mail..].StartsWith("RCPT TO:"u8)
            && output[mail..].IndexOf("\r\n"u8) == output.Length - mail - 2;
    }

    /// <summary>
    /// DATA's reply is whole in the input (from _inStart): for a swallowed DATA it stays there for
    /// MailKit's read; before another command it is dropped. False when nothing is to be sent.
    /// </summary>
    private bool Settle(Step step)
    {
        var end = ReplyEnd();
        // 354, or any 3yz: the relay waits for content (RFC 5321 §4.2.1).
        var accepted = _input[_inStart] == (byte)'3';
        _pipe = Pipe.None;
        if (step == Step.Swallow)
        {
            if (accepted)
                StartContent();
            _count = 0;
            return false;
        }
        if (accepted)
            Abandon("the relay took DATA for a message MailKit did not send");
        _inStart = _scanned = end;
        return true;
    }

    /// <summary>
    /// Closes the connection when a relay took DATA for a message MailKit then did not send, or when
    /// what MailKit does no longer fits the pipelined DATA (that does not happen with MailKit 4.18): a
    /// relay that may be waiting for a message's content must not be sent anything that could become
    /// one. MailKit sees a dropped connection. After a refused recipient the refusal is still what the
    /// caller gets: MailKit 4.18 swallows what its RSET throws (a test holds it to that).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Abandon(string why)
    {
        _socket.Dispose();
        throw new IOException($"SMTP pipelining: {why}; connection closed");
    }

    /// <summary>Gives what MailKit may have of the input; false when that is nothing.</summary>
    private bool Buffered(Span<byte> buffer, out int taken)
    {
        if (_pipe == Pipe.Held)
            Abandon("MailKit read again before sending DATA");
        int available;
        if (_pipe == Pipe.Envelope)
        {
            // Only whole lines of the envelope's replies.
            while (_repliesLeft > 0 && LineEnd(_scanned) is var (end, last) and (> 0, _))
            {
                if (last)
                    _repliesLeft--;
                _scanned = end;
            }
            available = _scanned - _inStart;
        }
        else
        {
            available = _inEnd - _inStart;
        }
        taken = Math.Min(available, buffer.Length);
        if (taken == 0)
            return false;
        _input.AsSpan(_inStart, taken).CopyTo(buffer);
        _inStart += taken;
        if (_pipe == Pipe.Envelope && _repliesLeft == 0 && _inStart == _scanned)
            _pipe = Pipe.Held;
        if (_inStart == _inEnd)
            _inStart = _inEnd = _scanned = 0;
        return true;
    }

    /// <summary>Where the first whole reply in the input ends, or -1 when it is not all there yet.</summary>
    private int ReplyEnd()
    {
        for (var at = _inStart; ;)
        {
            var (end, last) = LineEnd(at);
            if (end < 0 || last)
                return end;
            at = end;
        }
    }

    /// <summary>
    /// Where the input's line from <paramref name="start"/> ends (after its LF; -1 when it has not all
    /// come), and whether it is its reply's last: one whose code is not followed by '-' (RFC 5321 §4.2.1).
    /// </summary>
    private (int End, bool Last) LineEnd(int start)
    {
        var newline = _input.AsSpan(start, _inEnd - start).IndexOf((byte)'\n');
        return newline < 0 ? (-1, false) : (start + newline + 1, !(newline > 3 && _input[start + 3] == (byte)'-'));
    }

    /// <summary>Room at the input's end, the input moved to its start first.</summary>
    private Memory<byte> Space()
    {
        if (_inStart > 0)
        {
            _input.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_input);
            (_inEnd, _scanned, _inStart) = (_inEnd - _inStart, _scanned - _inStart, 0);
        }
        if (_inEnd == _input.Length)
            Array.Resize(ref _input, _input.Length * 2);
        return _input.AsMemory(_inEnd);
    }

    /// <summary>Counts what a receive put in the input; false at the end of the stream (an error when <paramref name="required"/>).</summary>
    private bool Filled(int received, bool required = false)
    {
        if (received == 0 && required)
            throw new IOException("the relay closed the connection");
        _inEnd += received;
        return received > 0;
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
