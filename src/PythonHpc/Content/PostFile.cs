using System.Text;

namespace PythonHpc.Content;

/// <summary>
/// A post file read from disk and split into its front matter (as YAML text, with the file line it
/// starts on) and its body, which is decoded only when asked for. Clean files (nearly all: valid
/// UTF-8, LF line ends, nothing XML forbids) are split on their bytes, so reading a large blog
/// decodes only front matter; other files are cleaned first (see <see cref="SourceText"/>).
/// </summary>
internal sealed record PostFile(string? FrontMatter, int FrontMatterLine, Func<string> Body)
{
    /// <summary>The file line the body starts on (1 for a notebook, whose body is made of its cells).</summary>
    public int BodyLine { get; init; } = 1;

    /// <summary>
    /// False when the body cannot link a YouTube or Vimeo video, found on the bytes without decoding
    /// them: most posts are not webinars and need not be decoded to tell.
    /// </summary>
    public bool MayLinkVideo { get; init; } = true;

    /// <summary>Null, with a problem naming the file and line, when the file must be refused.</summary>
    public static PostFile? Read(FileInfo file, PostFormat format, string display, long maxBytes, List<Problem> problems)
    {
        if (format == PostFormat.Notebook)
        {
            var parts = ReadText(file, display, maxBytes, problems) is { } json ? Notebook.Convert(json, display, problems) : null;
            return parts is null ? null : new PostFile(parts.FrontMatter, parts.FrontMatterLine, () => parts.Markdown);
        }
        return ReadClean(file, display, maxBytes, problems) is { } bytes ? Split(bytes, display, problems) : null;
    }

    /// <summary>The file as text, cleaned (see <see cref="SourceText"/>); null, with a problem, when it must be refused.</summary>
    private static string? ReadText(FileInfo file, string display, long maxBytes, List<Problem> problems) =>
        ReadBytes(file, display, maxBytes, problems) is { } bytes ? NotEmpty(SourceText.Decode(bytes, display, problems), display, problems) : null;

    /// <summary>The file as clean UTF-8 bytes: as read when already clean (nearly always), else cleaned through <see cref="SourceText.Decode"/>.</summary>
    private static byte[]? ReadClean(FileInfo file, string display, long maxBytes, List<Problem> problems)
    {
        if (ReadBytes(file, display, maxBytes, problems) is not { } bytes)
            return null;
        var span = bytes.AsSpan();
        if (span.StartsWith("\uFEFF"u8))
            span = span[3..];
        if (!SourceText.IsClean(span))
            return NotEmpty(SourceText.Decode(span, display, problems), display, problems) is { } text ? Encoding.UTF8.GetBytes(text) : null;
        if (span.IndexOfAnyExcept(" \t\n"u8) < 0)
            return Empty<byte[]>(display, problems);
        return span.Length == bytes.Length ? bytes : span.ToArray();
    }

    private static byte[]? ReadBytes(FileInfo file, string display, long maxBytes, List<Problem> problems)
    {
        try
        {
            if (file.Length > maxBytes)
            {
                problems.Add(Problem.Error(display, 1,
                    $"file is {file.Length / 1048576.0:0.0} MB, more than Content:MaxFileBytes ({maxBytes / 1048576.0:0.#} MB); not read"));
                return null;
            }
            return File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(Problem.Error(display, 1, "cannot read the file: " + e.Message));
            return null;
        }
    }

    private static string? NotEmpty(string? text, string display, List<Problem> problems)
    {
        if (text is not null && string.IsNullOrWhiteSpace(text))
            return Empty<string>(display, problems);
        return text;
    }

    private static T? Empty<T>(string display, List<Problem> problems) where T : class
    {
        problems.Add(Problem.Error(display, 1, "file is empty"));
        return null;
    }

    /// <summary>
    /// Front matter is a block between a first line <c>---</c> and a line <c>---</c> or <c>...</c>. Works
    /// on the bytes, so that only the front matter is decoded now and the body when someone asks.
    /// </summary>
    private static PostFile? Split(byte[] text, string display, List<Problem> problems)
    {
        var mayLinkVideo = MentionsVideo(text);
        var whole = new PostFile(null, 0, () => Encoding.UTF8.GetString(text)) { MayLinkVideo = mayLinkVideo };
        var span = text.AsSpan();
        var firstLineEnd = span.IndexOf((byte)'\n');
        if (firstLineEnd < 0)
            return whole;
        var opening = span[..firstLineEnd].TrimEnd(" \t"u8);
        if (opening.Length < 2 || opening.IndexOfAnyExcept((byte)'-') >= 0)
            return whole;
        var start = firstLineEnd + 1;
        if (FindClosing(span, start) is not var (closing, from))
        {
            if (opening.Length != 3)
                return whole;
            problems.Add(Problem.Error(display, 1, "front matter starts with '---' on line 1 but is never closed by a '---' line"));
            return null;
        }
        var yaml = Encoding.UTF8.GetString(span[start..closing]);
        // "--" or "----" on line 1 is a typo for "---" when what follows is front matter (a title or a
        // date); otherwise it is a thematic break and the file has no front matter.
        if (opening.Length != 3)
        {
            if (Content.FrontMatter.Parse(yaml, 2, null, display, []) is not { } front || !(front.Has("title") || front.Has("date")))
                return whole;
            problems.Add(Problem.Warning(display, 1, $"front matter must open with '---', not '{Encoding.ASCII.GetString(opening)}'; read as front matter"));
        }
        return new PostFile(yaml, 2, () => Encoding.UTF8.GetString(text, from, text.Length - from))
        {
            BodyLine = 1 + span[..from].Count((byte)'\n'),
            MayLinkVideo = mayLinkVideo,
        };
    }

    /// <summary>Host names as they appear in links, which are lower case in practice (a miss only costs a decode).</summary>
    private static bool MentionsVideo(ReadOnlySpan<byte> text) =>
        text.IndexOf("youtu"u8) >= 0 || text.IndexOf("vimeo"u8) >= 0;

    /// <summary>The closing <c>---</c> or <c>...</c> line after <paramref name="start"/>: where it starts, and where the body after it starts.</summary>
    private static (int Line, int After)? FindClosing(ReadOnlySpan<byte> span, int start)
    {
        for (var position = start; position < span.Length;)
        {
            var end = span[position..].IndexOf((byte)'\n');
            var line = (end < 0 ? span[position..] : span.Slice(position, end)).TrimEnd(" \t"u8);
            if (line.SequenceEqual("---"u8) || line.SequenceEqual("..."u8))
                return (position, end < 0 ? span.Length : position + end + 1);
            if (end < 0)
                break;
            position += end + 1;
        }
        return null;
    }
}
