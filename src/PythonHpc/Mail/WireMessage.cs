using System.Buffers;
using MimeKit;

namespace PythonHpc.Mail;

/// <summary>
/// A message as it goes on the wire and into a pickup file: its bytes (CRLF line ends, 7-bit,
/// signed when DKIM is on, starting with its MIME-Version field) and its envelope, one sender and
/// one recipient. Built once; the
/// transports write these bytes as they are, so what was signed is exactly what is sent, and no
/// message is serialised a second time on its way out. The bytes may live in a pooled buffer,
/// returned by <see cref="Dispose"/>: a message is disposed once it has been sent.
/// </summary>
internal sealed class WireMessage : IDisposable
{
    private byte[]? _pooled;

    internal WireMessage(string sender, string recipient, string? messageId, ReadOnlyMemory<byte> bytes, byte[]? pooled = null)
    {
        (Sender, Recipient, MessageId, Bytes, _pooled) = (sender, recipient, messageId, bytes, pooled);
    }

    /// <summary>The envelope's sender (MAIL FROM, RFC 5321 §4.1.1.2): where bounces go.</summary>
    public string Sender { get; }

    /// <summary>The envelope's one recipient (RCPT TO).</summary>
    public string Recipient { get; }

    /// <summary>The Message-ID, without its angle brackets.</summary>
    public string? MessageId { get; }

    /// <summary>The whole message, headers and body, ending with CRLF; not dot-stuffed.</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>Every message starts with this field (see <see cref="Split"/>).</summary>
    public static ReadOnlySpan<byte> MimeVersionLine => "MIME-Version: 1.0\r\n"u8;

    /// <summary>
    /// A message built with MimeKit, prepared for 7-bit transport and serialised as it will go, with
    /// its one recipient. <paramref name="signer"/>, when given, signs those bytes.
    /// </summary>
    public static WireMessage From(MimeMessage message, MessageSigner? signer = null, DateTimeOffset? signedAt = null)
    {
        var recipients = message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes).ToList();
        if (recipients.Count != 1)
            throw new ArgumentException($"a message goes to one recipient; this one has {recipients.Count}", nameof(message));
        var sender = message.Sender ?? message.From.Mailboxes.FirstOrDefault()
            ?? throw new ArgumentException("a message needs a From address", nameof(message));
        // Quoted-printable or base64 wherever a part is not 7-bit, so that no relay re-encodes it (and
        // breaks a DKIM body hash) and the bytes need no 8BITMIME.
        message.Prepare(EncodingConstraint.SevenBit);
        message.MimeVersion = new Version(1, 0);
        using var stream = new MemoryStream(16 * 1024);
        message.WriteTo(MessageSigner.Wire, stream);
        var written = stream.GetBuffer().AsSpan(0, (int)stream.Length);
        var bytes = MimeVersionFirst(written);
        if (signer is not null)
            bytes = signer.Sign(bytes, signedAt ?? message.Date);
        return new WireMessage(sender.Address, recipients[0].Address, message.MessageId, bytes);
    }

    /// <summary>The message with its MIME-Version field moved to the top (field order has no meaning, RFC 5322 §3.6).</summary>
    private static byte[] MimeVersionFirst(ReadOnlySpan<byte> message)
    {
        var at = 0;
        while (at < message.Length && !message[at..].StartsWith("\r\n"u8))
        {
            var end = message[at..].IndexOf("\r\n"u8) + at + 2;
            if (message[at..end].SequenceEqual(MimeVersionLine))
                return [.. MimeVersionLine, .. message[..at], .. message[end..]];
            at = end;
        }
        throw new ArgumentException("the message has no 'MIME-Version: 1.0' field", nameof(message));
    }

    /// <summary>
    /// The message's header block after its first field (MIME-Version), as the name of the next field
    /// and the raw value from its colon to the block's last CRLF, and the body after the blank line.
    /// </summary>
    internal (string Field, byte[] Value, ReadOnlyMemory<byte> Body) Split()
    {
        var bytes = Bytes;
        var blank = bytes.Span.IndexOf("\r\n\r\n"u8);
        if (!bytes.Span.StartsWith(MimeVersionLine) || blank < MimeVersionLine.Length)
            throw new InvalidOperationException("a message starts with its MIME-Version field and has more before its body");
        var rest = bytes.Span[MimeVersionLine.Length..(blank + 2)];
        var colon = rest.IndexOf((byte)':');
        return (System.Text.Encoding.ASCII.GetString(rest[..colon]), rest[(colon + 1)..].ToArray(), bytes[(blank + 4)..]);
    }

    /// <summary>A MIME-Version field for a MimeMessage, as <see cref="MimeVersionLine"/> writes it.</summary>
    internal static Header MimeVersionHeader()
    {
        var header = new Header(HeaderId.MimeVersion, "");
        header.SetRawValue(" 1.0\r\n"u8.ToArray());
        return header;
    }

    /// <summary>The message read back by MimeKit (tests, previews).</summary>
    public MimeMessage Parse()
    {
        using var stream = new MemoryStream(Bytes.ToArray(), writable: false);
        return MimeMessage.Load(stream);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _pooled, null) is { } pooled)
        {
            Bytes = ReadOnlyMemory<byte>.Empty;
            ArrayPool<byte>.Shared.Return(pooled);
        }
    }
}
