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
        // Quoted-printable bodies are canonical already but for a few places (indented text): the
        // bytes between those places are copied whole into one buffer per thread, found with three
        // vectorised searches that each pass over the body once, and the result hashed in one call.
        var buffer = t_buffer is { } b && b.Length >= body.Length + 2 ? b : t_buffer = new byte[Math.Max(body.Length + 2, 32 * 1024)];
        var n = 0;
        var at = 0;
        int doubleSpace = -1, tab = -1, spaceEnd = -1;
        while (true)
        {
            doubleSpace = Next(body, at, doubleSpace, "  "u8);
            tab = Next(body, at, tab, "\t"u8);
            spaceEnd = Next(body, at, spaceEnd, " \r\n"u8);
            var special = Math.Min(doubleSpace, Math.Min(tab, spaceEnd));
            if (special == int.MaxValue)
                break;
            // The run of whitespace this belongs to, from its first space or tab to its last.
            var start = special;
            while (start > at && body[start - 1] is (byte)' ' or (byte)'\t')
                start--;
            var end = special;
            while (end < body.Length && body[end] is (byte)' ' or (byte)'\t')
                end++;
            body[at..start].CopyTo(buffer.AsSpan(n));
            n += start - at;
            // A run before a line end (or the end) goes; any other run becomes one space.
            if (end < body.Length && !body[end..].StartsWith("\r\n"u8))
                buffer[n++] = (byte)' ';
            at = end;
        }
        var rest = body[at..];
        // Whitespace at the very end, with no line end after it, goes too.
        rest = rest.TrimEnd(" \t"u8);
        rest.CopyTo(buffer.AsSpan(n));
        n += rest.Length;
        // No empty lines at the end, and exactly one CRLF after the last line (none for an empty body).
        while (n >= 2 && buffer[n - 1] == '\n' && buffer[n - 2] == '\r')
            n -= 2;
        if (n > 0)
        {
            buffer[n++] = (byte)'\r';
            buffer[n++] = (byte)'\n';
        }
        return SHA256.HashData(buffer.AsSpan(0, n));
    }

    /// <summary>The next <paramref name="pattern"/> at or after <paramref name="at"/>, searching again only once passed.</summary>
    private static int Next(ReadOnlySpan<byte> body, int at, int known, ReadOnlySpan<byte> pattern)
    {
        if (known == int.MaxValue || (known >= at && known >= 0))
            return known;
        var found = body[at..].IndexOf(pattern);
        return found < 0 ? int.MaxValue : at + found;
    }
}
