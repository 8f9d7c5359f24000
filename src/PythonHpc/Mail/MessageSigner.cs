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
/// DKIM signing (RFC 6376), relaxed/relaxed, over the headers a bulk sender must protect. It signs a
/// message's bytes as they go on the wire (<see cref="WireMessage"/>: 7-bit, CRLF): the body and the
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
    private static ArrayBufferWriter<byte>? t_input;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_header;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_field;

    // " v=1; a=…; c=relaxed/relaxed; d=…; s=…;\r\n\tt=": the same for every message.
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
        _prefix = Encoding.ASCII.GetBytes($" v=1; a={algorithm}; c=relaxed/relaxed; d={domain}; s={selector};\r\n\tt=");
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

    /// <summary>The longest DKIM-Signature header this writes (an RSA-4096 signature, long names): room to keep before a message.</summary>
    public const int MaxHeaderLength = 2048;

    /// <summary>
    /// Writes the DKIM-Signature header field (with its CRLF) for <paramref name="message"/>, a whole
    /// message as it goes on the wire (CRLF line ends, already 7-bit, so that no relay changes the
    /// bytes the body hash covers), signed at <paramref name="time"/>. The signed headers are read
    /// from the bytes, bottom-most instance first (RFC 6376 §5.4.2).
    /// </summary>
    public void WriteHeader(ReadOnlySpan<byte> message, DateTimeOffset time, IBufferWriter<byte> output)
    {
        var split = message.IndexOf("\r\n\r\n"u8);
        var head = split < 0 ? message : message[..(split + 2)];
        var body = split < 0 ? ReadOnlySpan<byte>.Empty : message[(split + 4)..];
        var input = t_input ??= new ArrayBufferWriter<byte>(4096);
        input.ResetWrittenCount();
        var signed = new List<string>(Headers.Length);
        Span<(int Start, int Length)> fields = stackalloc (int, int)[Headers.Length];
        Fields(head, fields);
        for (var i = 0; i < Headers.Length; i++)
        {
            if (fields[i] is var (start, fieldLength) && fieldLength > 0)
            {
                signed.Add(Headers[i]);
                Relaxed.Header(head.Slice(start, fieldLength), input);
                input.Write("\r\n"u8);
            }
        }

        // " v=1; a=…; … bh=…;" then "b=" and the signature, folded at tag boundaries with CRLF-TAB (a
        // verifier unfolds and compresses whitespace before hashing), written straight into a
        // per-thread buffer: no strings.
        var field = t_field ??= new ArrayBufferWriter<byte>(1024);
        field.ResetWrittenCount();
        field.Write("DKIM-Signature:"u8);
        field.Write(_prefix);
        Ascii(field, time.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Ascii(field, "; h=");
        Ascii(field, signed.Count == Headers.Length ? AllHeaders : string.Join(':', signed));
        Ascii(field, ";\r\n\tbh=");
        Span<byte> bodyHash = stackalloc byte[44];
        Base64.EncodeToUtf8(Relaxed.BodyHash(body), bodyHash, out _, out var hashLength);
        field.Write(bodyHash[..hashLength]);
        Ascii(field, ";\r\n\tb=");
        // The header signs itself with an empty b= and without its final CRLF (RFC 6376 §3.7).
        Relaxed.Header(field.WrittenSpan, input);
        var signature = _sign(input.WrittenSpan);

        output.Write(field.WrittenSpan);
        Span<byte> encoded = stackalloc byte[Base64.GetMaxEncodedToUtf8Length(signature.Length)];
        Base64.EncodeToUtf8(signature, encoded, out _, out var length);
        for (var i = 0; i < length; i += 72)
        {
            if (i > 0)
                output.Write("\r\n\t "u8);
            output.Write(encoded.Slice(i, Math.Min(72, length - i)));
        }
        output.Write("\r\n"u8);
    }

    /// <summary>
    /// A new array: <paramref name="message"/> with its DKIM-Signature field, which goes after the
    /// first field (MIME-Version, see <see cref="WireMessage"/>).
    /// </summary>
    public byte[] Sign(ReadOnlySpan<byte> message, DateTimeOffset time)
    {
        var header = t_header ??= new ArrayBufferWriter<byte>(1024);
        header.ResetWrittenCount();
        WriteHeader(message, time, header);
        var first = message.IndexOf("\r\n"u8) + 2;
        return [.. message[..first], .. header.WrittenSpan, .. message[first..]];
    }

    private static readonly string AllHeaders = string.Join(':', Headers);

    private static void Ascii(ArrayBufferWriter<byte> output, string text)
    {
        var length = Encoding.ASCII.GetBytes(text, output.GetSpan(text.Length));
        output.Advance(length);
    }

    /// <summary>
    /// For each of <see cref="Headers"/>, its bottom-most field (RFC 6376 §5.4.2 signs instances
    /// bottom-up): where it starts and how long it is, with its folded lines; (0, 0) when absent. One
    /// pass over the header block.
    /// </summary>
    private static void Fields(ReadOnlySpan<byte> head, Span<(int Start, int Length)> found)
    {
        found.Clear();
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
            for (var i = 0; colon > 0 && i < Headers.Length; i++)
            {
                if (colon == Headers[i].Length && System.Text.Ascii.EqualsIgnoreCase(line[..colon], Headers[i]))
                {
                    found[i] = (at, end - at - 2);
                    break;
                }
            }
            at = end;
        }
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
