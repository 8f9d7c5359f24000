using System.Buffers;
using System.Text;

namespace PythonHpc.Content;

/// <summary>
/// Turns a post file's bytes into text every later step can trust: UTF-8 (BOM or not), LF line
/// ends, and no character that XML 1.0 forbids (§2.2 Char: NUL, form feed and the other C0
/// controls but tab, LF and CR, and U+FFFE / U+FFFF), because one such character makes a whole
/// feed unreadable. Invalid UTF-8 is refused rather than guessed at.
/// </summary>
internal static class SourceText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly SearchValues<char> Forbidden = SearchValues.Create(ForbiddenChars());

    // The same as bytes, plus CR (which needs normalizing) and 0xEF (the lead byte of U+FFFE / U+FFFF,
    // and of much else: a hit only sends the file down the careful path).
    private static readonly SearchValues<byte> NeedsCare = SearchValues.Create([.. ForbiddenChars().Select(c => (byte)c).Where(b => b < 0x20), (byte)'\r', 0xEF]);

    /// <summary>
    /// True when <paramref name="utf8"/> is text as it should be — valid UTF-8, LF line ends, nothing XML
    /// forbids — so it can be split and decoded piecewise. Nearly every post; a vectorised scan.
    /// </summary>
    public static bool IsClean(ReadOnlySpan<byte> utf8) =>
        utf8.IndexOfAny(NeedsCare) < 0 && System.Text.Unicode.Utf8.IsValid(utf8);

    /// <summary>Decodes and cleans <paramref name="bytes"/>; null when the file must be rejected.</summary>
    public static string? Decode(ReadOnlySpan<byte> bytes, string file, List<Problem> problems)
    {
        if (bytes.StartsWith("\uFEFF"u8))
            bytes = bytes[3..];
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            var at = Math.Clamp(e.Index, 0, bytes.Length);
            problems.Add(Problem.Error(file, LineAt(bytes[..at]), $"invalid UTF-8 at byte {at}: save the file as UTF-8"));
            return null;
        }
        text = RemoveForbidden(text, file, problems);
        return NormalizeNewlines(text);
    }

    public static bool HasForbidden(string text) => text.AsSpan().IndexOfAny(Forbidden) >= 0;

    /// <summary>Removes the characters XML 1.0 forbids from a short value (a title, a configuration value).</summary>
    public static string RemoveForbidden(string text)
    {
        var span = text.AsSpan();
        if (span.IndexOfAny(Forbidden) < 0)
            return text;
        var kept = new StringBuilder(text.Length);
        foreach (var c in span)
            if (!Forbidden.Contains(c))
                kept.Append(c);
        return kept.ToString();
    }

    private static string RemoveForbidden(string text, string file, List<Problem> problems)
    {
        var first = text.AsSpan().IndexOfAny(Forbidden);
        if (first < 0)
            return text;
        var count = 0;
        foreach (var c in text.AsSpan(first))
            if (Forbidden.Contains(c))
                count++;
        var line = 1 + text.AsSpan(0, first).Count('\n');
        problems.Add(Problem.Warning(file, line,
            $"removed {count} control character{(count == 1 ? "" : "s")} that XML cannot carry (first: U+{(int)text[first]:X4})"));
        return RemoveForbidden(text);
    }

    private static string NormalizeNewlines(string text)
    {
        if (!text.Contains('\r'))
            return text;
        return text.Replace("\r\n", "\n").Replace('\r', '\n');
    }

    private static int LineAt(ReadOnlySpan<byte> before) => 1 + before.Count((byte)'\n');

    private static char[] ForbiddenChars()
    {
        var chars = new List<char>();
        for (var c = '\0'; c < ' '; c++)
            if (c is not ('\t' or '\n' or '\r'))
                chars.Add(c);
        chars.Add('\uFFFE');
        chars.Add('\uFFFF');
        return [.. chars];
    }
}
