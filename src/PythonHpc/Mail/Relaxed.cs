using System.Buffers;
using System.Security.Cryptography;

namespace PythonHpc.Mail;

/// <summary>DKIM's "relaxed" canonicalization (RFC 6376 §3.4.2 and §3.4.4), on the bytes as they go on the wire.</summary>
internal static class Relaxed
{
    /// <summary>
    /// A header field: the name in lower case, unfolded, every run of whitespace one space, none at
    /// the end or around the colon. No CRLF is added.
    /// </summary>
    public static void Header(ReadOnlySpan<byte> field, IBufferWriter<byte> output)
    {
        var colon = field.IndexOf((byte)':');
        var name = field[..colon].TrimEnd(" \t"u8);
        var target = output.GetSpan(field.Length + 1);
        var n = 0;
        foreach (var c in name)
            target[n++] = c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c + 32) : c;
        target[n++] = (byte)':';
        var pendingSpace = false;
        var started = false;
        foreach (var c in field[(colon + 1)..])
        {
            if (c is (byte)'\r' or (byte)'\n')
                continue;
            if (c is (byte)' ' or (byte)'\t')
            {
                pendingSpace = started;
                continue;
            }
            if (pendingSpace)
                target[n++] = (byte)' ';
            pendingSpace = false;
            started = true;
            target[n++] = c;
        }
        output.Advance(n);
    }

    /// <summary>The SHA-256 of the body: whitespace runs to one space, none at line ends, no empty lines at the end, a final CRLF.</summary>
    public static byte[] BodyHash(ReadOnlySpan<byte> body)
    {
        // Quoted-printable bodies are nearly always canonical already: no tab, no double space, no
        // space before a line end. Then only the empty lines at the end go (vectorised searches).
        if (body.EndsWith("\r\n"u8) && body.IndexOf((byte)'\t') < 0 && body.IndexOf("  "u8) < 0 && body.IndexOf(" \r\n"u8) < 0)
        {
            var end = body.Length;
            while (end >= 4 && body[(end - 4)..end].SequenceEqual("\r\n\r\n"u8))
                end -= 2;
            // One call on the bytes as they are, ending with exactly one CRLF (no hash object to make).
            return SHA256.HashData(end == 2 ? [] : body[..end]);
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> line = stackalloc byte[1024];
        var emptyLines = 0;
        while (body.Length > 0)
        {
            var end = body.IndexOf("\r\n"u8);
            var raw = end < 0 ? body : body[..end];
            body = end < 0 ? [] : body[(end + 2)..];
            var buffer = raw.Length + 2 <= line.Length ? line : new byte[raw.Length + 2];
            var n = 0;
            var pendingSpace = false;
            foreach (var c in raw)
            {
                if (c is (byte)' ' or (byte)'\t')
                {
                    pendingSpace = true;
                    continue;
                }
                if (pendingSpace)
                    buffer[n++] = (byte)' ';
                pendingSpace = false;
                buffer[n++] = c;
            }
            if (n == 0)
            {
                // Empty lines count only when something follows them.
                emptyLines++;
                continue;
            }
            for (; emptyLines > 0; emptyLines--)
                hash.AppendData("\r\n"u8);
            buffer[n++] = (byte)'\r';
            buffer[n++] = (byte)'\n';
            hash.AppendData(buffer[..n]);
        }
        return hash.GetHashAndReset();
    }
}
