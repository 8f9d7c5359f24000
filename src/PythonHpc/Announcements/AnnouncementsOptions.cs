using System.Globalization;
using Quartz;

namespace PythonHpc.Announcements;

/// <summary>The <c>Announcements</c> section: what is announced, and when it is sent.</summary>
internal sealed class AnnouncementsOptions
{
    public const string Section = "Announcements";

    /// <summary>A Liquid template with the model of the email (<c>title</c>, <c>post</c>, <c>site</c>, <c>chapters</c>).</summary>
    public string Subject { get; set; } = "New webinar: {{ title }}";

    /// <summary>A Quartz cron expression (seconds first): when announcements go. Weekdays at 09:00 by default.</summary>
    public string Schedule { get; set; } = "0 0 9 ? * MON-FRI";

    /// <summary>The IANA time zone <see cref="Schedule"/> is read in: 09:00 stays 09:00 across daylight-saving changes.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>
    /// Empty: on the first start, every post already published counts as announced (nobody gets the
    /// archive). A date: posts published after it are announced, for a deliberate backfill.
    /// </summary>
    public string Since { get; set; } = "";

    /// <summary>Send a new webinar's announcement when it is found, instead of at the next firing of <see cref="Schedule"/>.</summary>
    public bool SendImmediately { get; set; }

    public TimeZoneInfo Zone { get; private set; } = TimeZoneInfo.Utc;

    public DateTimeOffset? SinceDate { get; private set; }

    /// <summary><see cref="Schedule"/> in <see cref="Zone"/>; set by <see cref="Validate"/>.</summary>
    public CronExpression Cron { get; private set; } = new("0 0 9 ? * MON-FRI", TimeZoneInfo.Utc);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Subject))
            yield return "Announcements:Subject must not be empty";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById((TimeZone ?? "").Trim(), out var zone))
            yield return $"Announcements:TimeZone '{TimeZone}' is not a known IANA time zone id (such as Europe/Rome or UTC)";
        else
            Zone = zone;
        if (!CronExpression.TryParse(Schedule ?? "", out var cron))
            yield return $"Announcements:Schedule '{Schedule}' is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week, such as 0 0 9 ? * MON-FRI)";
        else if (cron.WithTimeZone(Zone).GetNextValidTimeAfter(DateTimeOffset.UtcNow) is null)
            yield return $"Announcements:Schedule '{Schedule}' never fires again";
        else
            Cron = cron.WithTimeZone(Zone);
        if (!string.IsNullOrWhiteSpace(Since))
        {
            if (DateTimeOffset.TryParse(Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
                SinceDate = since;
            else
                yield return $"Announcements:Since must be a date such as 2025-09-01 (or empty), not '{Since}'";
        }
    }
}
