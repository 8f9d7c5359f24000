using System.Buffers;
using System.Text;

namespace PythonHpc.Mail;

/// <summary>
/// Quoted-printable (RFC 2045 §6.7) of text as UTF-8: CRLF line ends, lines of at most 76
/// characters (a soft break "=" CRLF before that), and every byte outside printable ASCII, every
/// '=', and whitespace at a line's end encoded as =XX. MimeKit then writes a part given this way as
/// it is, instead of encoding it through its stream filters each time the message is written.
/// </summary>
internal static class QuotedPrintable
{
    private const int MaxLine = 76;
    private static readonly byte[] Hex = "0123456789ABCDEF"u8.ToArray();
    // 0: written as is; 1: encoded as =XX; 2: space or tab (as is unless last on the line).
    private static readonly byte[] Kind = CreateKinds();
    /// <summary>The soft line break: nothing, to a reader; lets pieces encoded apart be joined.</summary>
    public static ReadOnlySpan<byte> SoftBreak => "=\r\n"u8;

    public static byte[] Encode(string text)
    {
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        var length = Encoding.UTF8.GetBytes(text, utf8);
        var output = ArrayPool<byte>.Shared.Rent(length * 3 + length / 24 * 3 + 8);
        try
        {
            var n = Write(utf8.AsSpan(0, length), output);
            return output.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
            ArrayPool<byte>.Shared.Return(output);
        }
    }
    /// <summary>Encodes <paramref name="input"/> into <paramref name="o"/>, starting a line; returns the length.</summary>
    private static int Write(ReadOnlySpan<byte> input, byte[] o)
    {
        var kinds = Kind;
        var hex = Hex;
        var n = 0;
        var column = 0;
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            if (c == '\n')
            {
                o[n++] = (byte)'\r';
                o[n++] = (byte)'\n';
                column = 0;
                continue;
            }
            if (c == '\r' && i + 1 < input.Length && input[i + 1] == '\n')
                continue;
            var kind = kinds[c];
            // Whitespace before a line end would be stripped by relays: it is encoded there.
            if (kind == 2 && (i + 1 == input.Length || input[i + 1] is (byte)'\n' or (byte)'\r'))
                kind = 1;
            var width = kind == 1 ? 3 : 1;
            // Always room for the soft break's '=' on the line.
            if (column + width > MaxLine - 1)
            {
                o[n++] = (byte)'=';
                o[n++] = (byte)'\r';
                o[n++] = (byte)'\n';
                column = 0;
            }
            // A dot that starts a line (after a soft break too) is encoded, so that SMTP's dot-stuffing
            // (RFC 5321 §4.5.2) never has to change the message on its way.
            if (c == '.' && column == 0)
                (kind, width) = (1, 3);
            if (kind == 1)
            {
                o[n++] = (byte)'=';
                o[n++] = hex[c >> 4];
                o[n++] = hex[c & 15];
            }
            else
                o[n++] = c;
            column += width;
        }
        return n;
    }
    private static byte[] CreateKinds()
    {
        var kinds = new byte[256];
        for (var c = 0; c < 256; c++)
            kinds[c] = c is (byte)' ' or (byte)'\t' ? (byte)2 : c is >= 33 and <= 126 && c != '=' ? (byte)0 : (byte)1;
        return kinds;
    }
}
