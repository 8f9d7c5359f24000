using System.Globalization;
using System.Text.RegularExpressions;
using PythonHpc.Content;

namespace PythonHpc.Webinars;

/// <summary>Chapter times as written (<c>4:00</c>, <c>1:02:03</c>, <c>240</c>, <c>t=4m0s</c>) and as linked.</summary>
internal static partial class ChapterTime
{
    [GeneratedRegex(@"^(?:(?<h>\d{1,2}):)?(?<m>\d{1,2}):(?<s>\d{2})$")]
    private static partial Regex Clock();

    [GeneratedRegex(@"^(?:(?<h>\d+)h)?(?:(?<m>\d+)m)?(?:(?<s>\d+)s?)?$")]
    private static partial Regex Units();

    /// <summary><c>m:ss</c> or <c>h:mm:ss</c> (also <c>mm:ss</c>); seconds and minutes below 60.</summary>
    public static TimeSpan? ParseClock(string text)
    {
        var m = Clock().Match(text.Trim());
        if (!m.Success)
            return null;
        var (h, min, s) = (Part(m, "h"), Part(m, "m"), Part(m, "s"));
        return s < 60 && (!m.Groups["h"].Success || min < 60) ? new TimeSpan(h, min, s) : null;
    }

    /// <summary>
    /// A link's start time: YouTube's <c>t=240</c>, <c>t=240s</c>, <c>t=4m0s</c>, <c>start=240</c>, or
    /// Vimeo's <c>#t=4m0s</c>. Null when the link has none.
    /// </summary>
    public static TimeSpan? FromLink(Uri link)
    {
        foreach (var part in (link.Query.TrimStart('?') + "&" + link.Fragment.TrimStart('#')).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length == 2 && pair[0] is "t" or "start" && Units().Match(pair[1]) is { Success: true } m && m.Value.Length > 0)
                return new TimeSpan(Part(m, "h"), Part(m, "m"), Part(m, "s"));
        }
        return null;
    }

    public static string Format(TimeSpan time) => time.TotalHours >= 1
        ? time.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : ((int)time.TotalMinutes).ToString(CultureInfo.InvariantCulture) + ":" + time.Seconds.ToString("00", CultureInfo.InvariantCulture);

    /// <summary>A link that opens the video at <paramref name="start"/>: <c>&amp;t=240s</c> for YouTube, <c>#t=4m0s</c> for Vimeo.</summary>
    public static Uri Link(Video video, TimeSpan start)
    {
        var seconds = (long)start.TotalSeconds;
        return video.Provider == "vimeo"
            ? new Uri($"{video.WatchUrl.AbsoluteUri}#t={(seconds >= 3600 ? $"{seconds / 3600}h" : "")}{seconds % 3600 / 60}m{seconds % 60}s")
            : new Uri($"{video.WatchUrl.AbsoluteUri}&t={seconds}s");
    }

    private static int Part(Match m, string name) =>
        m.Groups[name].Success ? int.Parse(m.Groups[name].ValueSpan, CultureInfo.InvariantCulture) : 0;
}
