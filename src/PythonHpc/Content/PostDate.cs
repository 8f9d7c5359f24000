using System.Globalization;
using System.Text.RegularExpressions;

namespace PythonHpc.Content;

/// <summary>
/// Dates as bloggers write them in front matter: <c>2025-09-15</c>, <c>2019-05-30 15:00</c>,
/// <c>2020-1-5 9:30</c>, RFC 3339 (<c>2021-03-04T10:00:00+01:00</c>), with or without an offset,
/// and a few spelled-out forms (<c>September 15, 2025</c>). A date without an offset is a wall-clock
/// time in the site's zone; never the machine's, so the same posts give the same feed anywhere.
/// </summary>
internal static partial class PostDate
{
    private static readonly string[] SpelledOut =
        ["MMMM d, yyyy", "MMM d, yyyy", "d MMMM yyyy", "d MMM yyyy", "MMMM d yyyy", "MMM d yyyy"];

    [GeneratedRegex(@"^(?<y>\d{4})[-/](?<mo>\d{1,2})[-/](?<d>\d{1,2})(?:(?:T|t|\s+)(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:[.,](?<f>\d{1,7})\d*)?)?)?\s*(?<z>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Numeric();

    [GeneratedRegex(@"^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})(?:-|$)")]
    private static partial Regex Prefix();

    public static bool TryParse(string text, TimeZoneInfo zone, out DateTimeOffset value, out string error)
    {
        value = default;
        error = "";
        text = text.Trim();
        var m = Numeric().Match(text);
        if (m.Success)
            return TryBuild(m, zone, out value, out error);
        if (DateTime.TryParseExact(text, SpelledOut, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var spelled))
        {
            value = InZone(spelled, zone);
            return true;
        }
        error = $"'{text}' is not a date (write it as 2025-09-15 or 2025-09-15 14:30, optionally with an offset such as +02:00)";
        return false;
    }

    /// <summary>The date at the start of a file name such as <c>2025-09-15-python-for-hpc</c>, as Jekyll names posts.</summary>
    public static DateTimeOffset? FromFileName(string stem, TimeZoneInfo zone)
    {
        var m = Prefix().Match(stem);
        if (!m.Success || !TryBuild(m, zone, out var value, out _))
            return null;
        return value;
    }

    /// <summary>The stem without a leading <c>yyyy-mm-dd-</c>.</summary>
    public static string WithoutPrefix(string stem)
    {
        var m = Prefix().Match(stem);
        return m.Success && m.Length < stem.Length ? stem[m.Length..] : stem;
    }

    /// <summary>
    /// A wall-clock time in <paramref name="zone"/>. In a spring-forward gap the time moves forward by
    /// the gap; in a fall-back overlap the earlier instant is taken (as java.time does).
    /// </summary>
    public static DateTimeOffset InZone(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            var before = zone.GetUtcOffset(local.AddHours(-6));
            var instant = new DateTimeOffset(local, before);
            return TimeZoneInfo.ConvertTime(instant, zone);
        }
        if (zone.IsAmbiguousTime(local))
            return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max());
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    private static bool TryBuild(Match m, TimeZoneInfo zone, out DateTimeOffset value, out string error)
    {
        value = default;
        error = "";
        int Part(string name) => m.Groups[name].Success ? int.Parse(m.Groups[name].ValueSpan, CultureInfo.InvariantCulture) : 0;
        var (year, month, day, hour, minute, second) = (Part("y"), Part("mo"), Part("d"), Part("h"), Part("mi"), Part("s"));
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, Math.Clamp(month, 1, 12)))
        {
            error = $"'{m.Value}' is not a real date";
            return false;
        }
        if (hour > 23 || minute > 59 || second > 59)
        {
            error = $"'{m.Value}' is not a real time of day";
            return false;
        }
        var ticks = m.Groups["f"].Success ? long.Parse(m.Groups["f"].Value.PadRight(7, '0'), CultureInfo.InvariantCulture) : 0;
        var local = new DateTime(year, month, day, hour, minute, second).AddTicks(ticks);
        var zoneText = m.Groups["z"].Success ? m.Groups["z"].Value : null;
        if (zoneText is null)
        {
            value = InZone(local, zone);
            return true;
        }
        if (!TryOffset(zoneText, out var offset))
        {
            error = $"'{zoneText}' is not a UTC offset between -14:00 and +14:00";
            return false;
        }
        value = new DateTimeOffset(local, offset);
        return true;
    }

    private static bool TryOffset(string text, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (text.Length > 0 && char.IsLetter(text[0]))
            return true;
        var digits = text[1..].Replace(":", "", StringComparison.Ordinal);
        var hours = int.Parse(digits.AsSpan(0, 2), CultureInfo.InvariantCulture);
        var minutes = digits.Length >= 4 ? int.Parse(digits.AsSpan(2, 2), CultureInfo.InvariantCulture) : 0;
        if (hours > 14 || minutes > 59)
            return false;
        offset = new TimeSpan(hours, minutes, 0) * (text[0] == '-' ? -1 : 1);
        return offset.Duration() <= TimeSpan.FromHours(14);
    }
}
