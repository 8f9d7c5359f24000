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

    [ThreadStatic]
    private static byte[]? t_buffer;

    /// <summary>The SHA-256 of the body: whitespace runs to one space, none at line ends, no empty lines at the end, a final CRLF.</summary>
    public static byte[] BodyHash(ReadOnlySpan<byte> body)
    {
        // Quoted-printable bodies are canonical already but for a few lines (indented text): lines
        // are copied whole (vectorised searches tell which need rewriting) into one buffer per
        // thread, and hashed in one call.
        var buffer = t_buffer is { } b && b.Length >= body.Length + 2 ? b : t_buffer = new byte[Math.Max(body.Length + 2, 32 * 1024)];
        var n = 0;
        var emptyLines = 0;
        while (body.Length > 0)
        {
            var end = body.IndexOf("\r\n"u8);
            var line = end < 0 ? body : body[..end];
            body = end < 0 ? [] : body[(end + 2)..];
            if (line.IndexOfAnyExcept(" \t"u8) < 0)
            {
                // Empty lines (whitespace only is empty once compressed) count only when something follows them.
                emptyLines++;
                continue;
            }
            for (; emptyLines > 0; emptyLines--)
            {
                buffer[n++] = (byte)'\r';
                buffer[n++] = (byte)'\n';
            }
            if (line.IndexOf((byte)'\t') < 0 && line.IndexOf("  "u8) < 0 && line[^1] != ' ')
            {
                line.CopyTo(buffer.AsSpan(n));
                n += line.Length;
            }
            else
                n += Compress(line, buffer.AsSpan(n));
            buffer[n++] = (byte)'\r';
            buffer[n++] = (byte)'\n';
        }
        return SHA256.HashData(buffer.AsSpan(0, n));
    }

    /// <summary>Runs of spaces and tabs to one space; none at the end. Returns the length written.</summary>
    private static int Compress(ReadOnlySpan<byte> line, Span<byte> output)
    {
        var n = 0;
        var pendingSpace = false;
        foreach (var c in line)
        {
            if (c is (byte)' ' or (byte)'\t')
            {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace)
                output[n++] = (byte)' ';
            pendingSpace = false;
            output[n++] = c;
        }
        return n;
    }
}
