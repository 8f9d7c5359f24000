using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using MimeKit;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace PythonHpc.Mail;

/// <summary>
/// DKIM signing (RFC 6376), relaxed/relaxed, over the headers a bulk sender must protect. The
/// message is serialised once as it goes on the wire (prepared for 7-bit, CRLF), the body and the
/// listed headers are canonicalised and hashed from those bytes with the platform's SHA-256, and the
/// hash is signed with the platform's RSA (OpenSSL on Linux) or Ed25519 (RFC 8463). MimeKit's own
/// DkimSigner gives the same signatures about twenty times slower: its RSA runs on BouncyCastle's
/// managed big integers, and its body hash on a managed SHA-256 behind a chain of stream filters
/// (docs/BENCHMARKS.md has the figures).
/// </summary>
internal sealed class MessageSigner : IDisposable
{
    /// <summary>What is signed: the identity, the list headers Gmail and Yahoo check, and the structure.</summary>
    public static readonly string[] Headers =
        ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type"];

    /// <summary>As messages go on the wire: CRLF line ends.</summary>
    internal static readonly FormatOptions Wire = CreateWireFormat();

    [ThreadStatic]
    private static MemoryStream? t_wire;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_input;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_header;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_field;

    // " v=1; a=…; c=relaxed/relaxed; d=…; s=…;\n\tt=": the same for every message.
    private readonly byte[] _prefix;

    private readonly string _domain;
    private readonly string _selector;
    private readonly string _algorithm;
    private readonly Signature _sign;

    /// <summary>Signs the canonicalised headers (a hash over them is part of each algorithm).</summary>
    internal delegate byte[] Signature(ReadOnlySpan<byte> data);
    private readonly IDisposable? _key;

    internal MessageSigner(string domain, string selector, string algorithm, Signature sign, IDisposable? key)
    {
        (_domain, _selector, _algorithm, _sign, _key) = (domain, selector, algorithm, sign, key);
        _prefix = Encoding.ASCII.GetBytes($" v=1; a={algorithm}; c=relaxed/relaxed; d={domain}; s={selector};\n\tt=");
    }

    /// <summary><c>rsa-sha256</c> or <c>ed25519-sha256</c>.</summary>
    public string Algorithm => _algorithm;

    /// <summary>The signature alone over canonicalised headers (bench/run measures it apart from composing).</summary>
    internal byte[] SignHeaders(ReadOnlySpan<byte> canonicalHeaders) => _sign(canonicalHeaders);

    /// <summary>Null when signing is off; a <see cref="Hosting.ConfigurationException"/> when the key cannot be used.</summary>
    public static MessageSigner? Create(DkimOptions options)
    {
        if (!options.Enabled)
            return null;
        var pem = File.ReadAllText(options.PrivateKeyPath);
        switch (ReadKey(pem))
        {
            case RsaPrivateCrtKeyParameters rsa when rsa.Modulus.BitLength >= 1024:
                // One RSA object per thread: the platform's RSA is not documented as safe to share.
                var keys = new ThreadLocal<RSA>(() =>
                {
                    var key = RSA.Create();
                    key.ImportFromPem(pem);
                    return key;
                }, trackAllValues: true);
                return new MessageSigner(options.Domain, options.Selector, "rsa-sha256",
                    data => keys.Value!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), new RsaKeys(keys));
            case Ed25519PrivateKeyParameters ed25519:
                // RFC 8463 §3: Ed25519-SHA256 signs the SHA-256 hash of the data with PureEdDSA.
                return new MessageSigner(options.Domain, options.Selector, "ed25519-sha256", data =>
                {
                    var signature = new byte[Ed25519.SignatureSize];
                    ed25519.Sign(Ed25519.Algorithm.Ed25519, null, SHA256.HashData(data), 0, 32, signature, 0);
                    return signature;
                }, null);
            default:
                throw new Hosting.ConfigurationException(
                    [$"Mail:Dkim:PrivateKeyPath '{options.PrivateKeyPath}' is not a PEM private key of RSA (1024 bits or more) or Ed25519"]);
        }
    }

    private static AsymmetricKeyParameter? ReadKey(string pem)
    {
        try
        {
            return new Org.BouncyCastle.OpenSsl.PemReader(new StringReader(pem)).ReadObject() switch
            {
                AsymmetricCipherKeyPair pair => pair.Private,
                AsymmetricKeyParameter parameter => parameter,
                _ => null,
            };
        }
        catch (Exception e) when (e is IOException or InvalidCastException or ArgumentException)
        {
            return null;
        }
    }

    public void Dispose() => _key?.Dispose();

    /// <summary>
    /// Adds a DKIM-Signature header at the top of <paramref name="message"/>, whose bytes must not
    /// change on the way (its parts already 7-bit). Signed at <paramref name="time"/>. The message is
    /// serialised as it goes on the wire, and the hashes taken from those bytes.
    /// </summary>
    public void Sign(MimeMessage message, DateTimeOffset time)
    {
        var (head, body) = Serialize(message);
        var input = Input();
        var signed = new List<string>(Headers.Length);
        foreach (var name in Headers)
        {
            if (Field(head.Span, name) is var (start, length) && length > 0)
            {
                signed.Add(name);
                Relaxed.Header(head.Span.Slice(start, length), input);
                input.Write("\r\n"u8);
            }
        }
        AddSignature(message, time, signed, input, body.Span);
    }

    /// <summary>
    /// The same signature without serialising the message: the headers are read from MimeKit's own
    /// header objects (the bytes it writes), and <paramref name="body"/> must be exactly the bytes it
    /// writes after them. Callers check once, with <see cref="SameHashInput"/>, that this holds.
    /// </summary>
    public void Sign(MimeMessage message, DateTimeOffset time, ReadOnlySpan<byte> body)
    {
        var input = Input();
        var signed = CanonicalHeaders(message, input);
        AddSignature(message, time, signed, input, body);
    }

    /// <summary>Whether both ways of reading <paramref name="message"/> give the same headers and body to hash.</summary>
    internal static bool SameHashInput(MimeMessage message, ReadOnlySpan<byte> body)
    {
        var (head, serializedBody) = Serialize(message);
        var fromObjects = new ArrayBufferWriter<byte>();
        CanonicalHeaders(message, fromObjects);
        var fromBytes = new ArrayBufferWriter<byte>();
        foreach (var name in Headers)
        {
            if (Field(head.Span, name) is var (start, length) && length > 0)
            {
                Relaxed.Header(head.Span.Slice(start, length), fromBytes);
                fromBytes.Write("\r\n"u8);
            }
        }
        return fromObjects.WrittenSpan.SequenceEqual(fromBytes.WrittenSpan) && serializedBody.Span.SequenceEqual(body);
    }

    /// <summary>The message as it goes on the wire, split at the blank line; the bytes live in a per-thread buffer until the next call.</summary>
    private static (ReadOnlyMemory<byte> Head, ReadOnlyMemory<byte> Body) Serialize(MimeMessage message)
    {
        // Buffers kept per thread: an announcement signs thousands of messages on each.
        var wire = t_wire ??= new MemoryStream(32 * 1024);
        wire.SetLength(0);
        message.WriteTo(Wire, wire);
        var bytes = wire.GetBuffer().AsMemory(0, (int)wire.Length);
        var split = bytes.Span.IndexOf("\r\n\r\n"u8);
        return split < 0 ? (bytes, ReadOnlyMemory<byte>.Empty) : (bytes[..(split + 2)], bytes[(split + 4)..]);
    }

    private static ArrayBufferWriter<byte> Input()
    {
        var input = t_input ??= new ArrayBufferWriter<byte>(4096);
        input.ResetWrittenCount();
        return input;
    }

    /// <summary>The listed headers that the message has, canonicalised from MimeKit's header objects (the message's, then its body's, as written).</summary>
    private static List<string> CanonicalHeaders(MimeMessage message, ArrayBufferWriter<byte> input)
    {
        var signed = new List<string>(Headers.Length);
        Span<byte> field = stackalloc byte[1024];
        foreach (var name in Headers)
        {
            var header = Last(message.Body?.Headers, name) ?? Last(message.Headers, name);
            if (header is null)
                continue;
            var raw = header.RawValue;
            var buffer = header.Field.Length + 1 + raw.Length <= field.Length ? field : new byte[header.Field.Length + 1 + raw.Length];
            var n = Encoding.ASCII.GetBytes(header.Field, buffer);
            buffer[n++] = (byte)':';
            raw.CopyTo(buffer[n..]);
            Relaxed.Header(buffer[..(n + raw.Length)], input);
            input.Write("\r\n"u8);
            signed.Add(name);
        }
        return signed;
    }

    private static Header? Last(HeaderList? headers, string name)
    {
        if (headers is null)
            return null;
        for (var i = headers.Count - 1; i >= 0; i--)
            if (headers[i].Field.Equals(name, StringComparison.OrdinalIgnoreCase))
                return headers[i];
        return null;
    }

    private void AddSignature(MimeMessage message, DateTimeOffset time, List<string> signed, ArrayBufferWriter<byte> input, ReadOnlySpan<byte> body)
    {
        // The header's bytes are written straight into a per-thread buffer (no strings): " v=1; a=…;
        // … bh=…;" then "b=" and the signature, folded at tag boundaries with LF-TAB (MimeKit turns
        // LF into CRLF on the wire; a verifier unfolds and compresses whitespace before hashing).
        var value = t_header ??= new ArrayBufferWriter<byte>(1024);
        value.ResetWrittenCount();
        value.Write(_prefix);
        Ascii(value, time.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Ascii(value, "; h=");
        Ascii(value, signed.Count == Headers.Length ? AllHeaders : string.Join(':', signed));
        Ascii(value, ";\n\tbh=");
        Span<byte> bodyHash = stackalloc byte[44];
        Base64.EncodeToUtf8(Relaxed.BodyHash(body), bodyHash, out _, out var hashLength);
        value.Write(bodyHash[..hashLength]);
        Ascii(value, ";\n\tb=");

        var field = t_field ??= new ArrayBufferWriter<byte>(1024);
        field.ResetWrittenCount();
        field.Write("DKIM-Signature:"u8);
        field.Write(value.WrittenSpan);
        Relaxed.Header(field.WrittenSpan, input);
        var signature = _sign(input.WrittenSpan);

        Span<byte> encoded = stackalloc byte[Base64.GetMaxEncodedToUtf8Length(signature.Length)];
        Base64.EncodeToUtf8(signature, encoded, out _, out var length);
        for (var i = 0; i < length; i += 72)
        {
            if (i > 0)
                value.Write("\n\t "u8);
            value.Write(encoded.Slice(i, Math.Min(72, length - i)));
        }
        value.Write("\n"u8);
        var header = new Header(HeaderId.DkimSignature, "");
        header.SetRawValue(value.WrittenSpan.ToArray());
        message.Headers.Insert(0, header);
    }

    private static readonly string AllHeaders = string.Join(':', Headers);

    private static void Ascii(ArrayBufferWriter<byte> output, string text)
    {
        var length = Encoding.ASCII.GetBytes(text, output.GetSpan(text.Length));
        output.Advance(length);
    }

    /// <summary>The bottom-most field called <paramref name="name"/> (RFC 6376 §5.4.2 signs instances bottom-up): where it starts and how long it is, with its folded lines.</summary>
    private static (int Start, int Length)? Field(ReadOnlySpan<byte> head, string name)
    {
        (int, int)? found = null;
        var at = 0;
        while (at < head.Length)
        {
            var end = at;
            // A field runs to the CRLF that is not followed by whitespace (a folded line continues it).
            while (true)
            {
                var crlf = head[end..].IndexOf("\r\n"u8);
                end = crlf < 0 ? head.Length : end + crlf + 2;
                if (end >= head.Length || head[end] is not ((byte)' ' or (byte)'\t'))
                    break;
            }
            var line = head[at..end];
            var colon = line.IndexOf((byte)':');
            if (colon == name.Length && System.Text.Ascii.EqualsIgnoreCase(line[..colon], name))
                found = (at, end - at - 2);
            at = end;
        }
        return found;
    }

    private static FormatOptions CreateWireFormat()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        return options;
    }

    private sealed class RsaKeys(ThreadLocal<RSA> keys) : IDisposable
    {
        public void Dispose()
        {
            foreach (var key in keys.Values)
                key.Dispose();
            keys.Dispose();
        }
    }
}
