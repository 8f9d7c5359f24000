using System.Globalization;
using System.Text.RegularExpressions;
using PythonHpc.Content;

namespace PythonHpc.Webinars;

/// <summary>
/// Finds a post's video and chapters. A post is a webinar when its front matter says so
/// (<c>webinar: true</c>, or <c>video: URL</c>) and it has a video, or when its body links or embeds a
/// YouTube or Vimeo video (a Markdown link, an <c>&lt;iframe&gt;</c>, <c>{{&lt; video &gt;}}</c>,
/// <c>{{&lt; youtube &gt;}}</c>). Chapters come from front matter <c>chapters:</c> (a list of
/// <c>title</c>, <c>start</c>, <c>summary</c>) when present, else from the body, in the two forms
/// bloggers use:
/// <list type="bullet">
/// <item>list items linking the moment: <c>* [Environment management](https://youtu.be/ID?t=240) (4:00) – summary</c>
/// (the start from the link's <c>t=</c>, else from <c>(m:ss)</c>; <c>–</c>, <c>—</c>, <c>-</c> or <c>:</c> before the summary);</item>
/// <item>YouTube description lines: <c>04:00 Environment management</c>, <c>1:02:03 - Q&amp;A – summary</c>.</item>
/// </list>
/// The first run of two or more such lines is the chapter list. Odd chapters (out of order, repeated,
/// past the video's end, without a summary) are kept and reported as warnings at their line.
/// </summary>
internal static partial class WebinarReader
{
    private const string Time = @"(?:\d{1,2}:)?\d{1,2}:\d{2}";

    [GeneratedRegex(@"(?<url>(?:https?:)?//(?:www\.|m\.|player\.)?(?:youtube(?:-nocookie)?\.com|youtu\.be|vimeo\.com)/[^\s)""'<>\]]+)|\{\{[<%]\s*(?<shortcode>youtube|vimeo)\s+(?:id=)?[""']?(?<id>[\w-]+)", RegexOptions.IgnoreCase)]
    private static partial Regex VideoReference();

    [GeneratedRegex(@"^\s{0,3}(?:(?:[*+-]|\d{1,3}[.)])\s+)?")]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"^\[(?<text>[^\]]+)\]\((?<url>[^)\s]+)(?:\s+""[^""]*"")?\)\s*(?:\(\s*(?<time>" + Time + @")\s*\))?\s*(?:[–—:-]\s*)?(?<rest>.*)$")]
    private static partial Regex LinkedChapter();

    [GeneratedRegex(@"^\(?(?<time>" + Time + @")\)?\s*(?:[–—:-]\s*)?(?<rest>\S.*)$")]
    private static partial Regex TimedLine();

    [GeneratedRegex(@"^" + Time + "$")]
    private static partial Regex TimeOnly();

    [GeneratedRegex(@"\s+[–—-]\s+|:\s+")]
    private static partial Regex TitleSeparator();

    [GeneratedRegex(@"^ {0,3}(`{3,}|~{3,})")]
    private static partial Regex Fence();

    private sealed record Found(int Line, string Title, TimeSpan Start, string? Summary, Uri? Link, TimeSpan? TextStart);

    public static Webinar? Read(FrontMatter front, PostFile source, string display, List<Problem> problems)
    {
        var declared = front.Text(display, problems, "webinar")?.Trim().ToLowerInvariant() is "true" or "yes";
        var videoText = front.Text(display, problems, "video")?.Trim();
        if (!declared && videoText is null && !source.MayLinkVideo)
            return null;
        var body = source.Body();
        var video = videoText is null ? null : FromFrontMatter(videoText, front, display, problems);
        video ??= FirstVideoIn(body);
        if (video is null)
        {
            if (declared)
                problems.Add(Problem.Warning(display, front.LineOf(front.Get("webinar")!), "webinar: true, but the post links no YouTube or Vimeo video (add video: URL)"));
            return null;
        }
        var found = FromFrontMatterChapters(front, display, problems) ?? FromBody(body, source.BodyLine);
        var chapters = Number(found, video, display, problems);
        CheckOrder(chapters, found, Duration(front, display, problems), display, problems);
        return new Webinar(video, chapters);
    }

    private static Video? FromFrontMatter(string url, FrontMatter front, string display, List<Problem> problems)
    {
        if (Video.Recognize(url) is { } video)
            return video;
        if (Uri.TryCreate(url, UriKind.Absolute, out var file) && file.Scheme is "http" or "https")
            return new Video("file", "", file, null);
        problems.Add(Problem.Warning(display, front.LineOf(front.Get("video")!), $"video '{url}' is not a video URL; ignored"));
        return null;
    }

    /// <summary>The first YouTube or Vimeo video the body links or embeds, in reading order.</summary>
    private static Video? FirstVideoIn(string body)
    {
        foreach (Match m in VideoReference().Matches(body))
        {
            var video = m.Groups["shortcode"].Success
                ? (m.Groups["shortcode"].Value.Equals("vimeo", StringComparison.OrdinalIgnoreCase) ? Video.VimeoVideo(m.Groups["id"].Value) : Video.YouTubeVideo(m.Groups["id"].Value))
                : Video.Recognize(m.Groups["url"].Value.Replace("&amp;", "&", StringComparison.Ordinal));
            if (video is not null)
                return video;
        }
        return null;
    }

    private static List<Found>? FromFrontMatterChapters(FrontMatter front, string display, List<Problem> problems)
    {
        if (front.Get("chapters") is not FrontList list)
            return null;
        var found = new List<Found>();
        foreach (var item in list.Items)
        {
            var line = front.LineOf(item);
            if (item is not FrontMap map || map.Get("title") is not FrontScalar { IsNull: false } title || map.Get("start") is not FrontScalar { IsNull: false } start)
            {
                problems.Add(Problem.Warning(display, line, "a chapter needs a title and a start; ignored"));
                continue;
            }
            if (ParseStart(start.Text) is not { } at)
            {
                problems.Add(Problem.Warning(display, front.LineOf(start), $"chapter start '{start.Text}' is not a time (write 4:00, 1:02:03 or 240); ignored"));
                continue;
            }
            var summary = map.Get("summary") is FrontScalar { IsNull: false } s ? MarkdownText.Plain(s.Text) : null;
            found.Add(new Found(line, MarkdownText.Plain(title.Text) ?? title.Text, at, summary, null, null));
        }
        return found;
    }

    private static TimeSpan? ParseStart(string text) =>
        ChapterTime.ParseClock(text)
        ?? (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null)
        ?? (Uri.TryCreate("https://x/?t=" + text.Trim(), UriKind.Absolute, out var u) ? ChapterTime.FromLink(u) : null);

    /// <summary>The first run of two or more chapter lines (blank lines allowed between them), outside code.</summary>
    private static List<Found> FromBody(string body, int firstLine)
    {
        var lines = body.Split('\n');
        var run = new List<Found>();
        string? fence = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var fenceMatch = Fence().Match(lines[i]);
            if (fenceMatch.Success)
                fence = fence is null ? fenceMatch.Groups[1].Value : (lines[i].Trim().StartsWith(fence, StringComparison.Ordinal) ? null : fence);
            if (fence is not null || fenceMatch.Success)
                continue;
            if (lines[i].Trim().Length == 0)
                continue;
            if (ParseLine(lines[i], firstLine + i) is { } chapter)
            {
                run.Add(chapter);
                continue;
            }
            if (run.Count >= 2)
                return run;
            run.Clear();
        }
        return run.Count >= 2 ? run : [];
    }

    private static Found? ParseLine(string line, int lineNumber)
    {
        var text = line[ListMarker().Match(line).Length..].TrimEnd();
        var linked = LinkedChapter().Match(text);
        if (linked.Success)
        {
            var link = Uri.TryCreate(linked.Groups["url"].Value, UriKind.Absolute, out var u) ? u : null;
            var label = linked.Groups["text"].Value.Trim();
            var rest = linked.Groups["rest"].Value.Trim();
            TimeSpan? textStart = linked.Groups["time"].Success ? ChapterTime.ParseClock(linked.Groups["time"].Value) : null;
            if (TimeOnly().IsMatch(label))
            {
                // [4:00](https://youtu.be/ID?t=240) Environment management – summary
                if (string.IsNullOrEmpty(rest))
                    return null;
                var (t, s) = SplitTitle(rest);
                return new Found(lineNumber, t, ChapterTime.ParseClock(label)!.Value, s, link, ChapterTime.ParseClock(label));
            }
            var start = (link is null ? null : ChapterTime.FromLink(link)) ?? textStart;
            return start is null ? null : new Found(lineNumber, MarkdownText.Plain(label) ?? label, start.Value, Summary(rest), link, textStart);
        }
        var timed = TimedLine().Match(text);
        if (!timed.Success || ChapterTime.ParseClock(timed.Groups["time"].Value) is not { } at)
            return null;
        var (title, summary) = SplitTitle(timed.Groups["rest"].Value.Trim());
        return new Found(lineNumber, title, at, summary, null, at);
    }

    private static (string Title, string? Summary) SplitTitle(string rest)
    {
        var separator = TitleSeparator().Match(rest);
        if (!separator.Success || separator.Index == 0)
            return (MarkdownText.Plain(rest) ?? rest, null);
        return (MarkdownText.Plain(rest[..separator.Index]) ?? rest[..separator.Index], Summary(rest[(separator.Index + separator.Length)..]));
    }

    private static string? Summary(string? text) => string.IsNullOrWhiteSpace(text) ? null : MarkdownText.Plain(text);

    private static List<Chapter> Number(List<Found> found, Video video, string display, List<Problem> problems)
    {
        var chapters = new List<Chapter>(found.Count);
        foreach (var f in found)
        {
            var index = chapters.Count + 1;
            if (f.Link is not null && Video.Recognize(f.Link.AbsoluteUri) is { } linked && linked.Id != video.Id)
                problems.Add(Problem.Warning(display, f.Line, $"chapter {index} links to another video ({linked.Id}) than the post's ({video.Id})"));
            if (f.TextStart is { } written && f.Link is not null && ChapterTime.FromLink(f.Link) is { } fromLink && fromLink != written)
                problems.Add(Problem.Warning(display, f.Line, $"chapter {index}: the link starts at {ChapterTime.Format(fromLink)} but the text says {ChapterTime.Format(written)}; the link is used"));
            if (f.Summary is null)
                problems.Add(Problem.Warning(display, f.Line, $"chapter {index} ('{f.Title}') has no summary"));
            chapters.Add(new Chapter(index, f.Title, f.Start, ChapterTime.Link(video, f.Start), f.Summary));
        }
        return chapters;
    }

    private static void CheckOrder(List<Chapter> chapters, List<Found> found, TimeSpan? duration, string display, List<Problem> problems)
    {
        for (var i = 0; i < chapters.Count; i++)
        {
            var chapter = chapters[i];
            if (i > 0 && chapter.Start == chapters[i - 1].Start)
                problems.Add(Problem.Warning(display, found[i].Line, $"chapter {chapter.Index} starts at the same time as chapter {chapter.Index - 1} ({chapter.StartText})"));
            else if (i > 0 && chapter.Start < chapters[i - 1].Start)
                problems.Add(Problem.Warning(display, found[i].Line, $"chapter {chapter.Index} starts at {chapter.StartText}, before chapter {chapter.Index - 1} ({chapters[i - 1].StartText})"));
            if (duration is { } end && chapter.Start >= end)
                problems.Add(Problem.Warning(display, found[i].Line, $"chapter {chapter.Index} starts at {chapter.StartText}, after the video's end ({ChapterTime.Format(end)})"));
        }
    }

    /// <summary>The video's length, when the front matter gives it (<c>duration: 1:02:30</c>), to check chapters against.</summary>
    private static TimeSpan? Duration(FrontMatter front, string display, List<Problem> problems)
    {
        var text = front.Text(display, problems, "duration", "video-duration");
        if (text is null)
            return null;
        if (ParseStart(text) is { } duration)
            return duration;
        problems.Add(Problem.Warning(display, front.LineOf(front.Get("duration", "video-duration")!), $"duration '{text}' is not a time; ignored"));
        return null;
    }
}
