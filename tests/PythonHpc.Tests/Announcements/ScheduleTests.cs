using System.Globalization;
using Microsoft.Extensions.Configuration;
using PythonHpc.Announcements;
using PythonHpc.Hosting;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// Announcements:Schedule read in Announcements:TimeZone, across daylight-saving changes: the
/// firings Quartz computes from the validated options (the trigger is built from the same
/// <see cref="AnnouncementsOptions.Cron"/>).
/// </summary>
public sealed class ScheduleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static AnnouncementsOptions Options(string schedule, string zone)
    {
        var options = new AnnouncementsOptions { Schedule = schedule, TimeZone = zone };
        Assert.Empty(options.Validate().ToList());
        return options;
    }

    /// <summary>Every firing from local midnight of <paramref name="first"/> to the end of <paramref name="last"/>, in local time.</summary>
    private static List<DateTimeOffset> Firings(AnnouncementsOptions options, DateOnly first, DateOnly last)
    {
        var from = Local(options.Zone, first.ToDateTime(TimeOnly.MinValue));
        var to = Local(options.Zone, last.AddDays(1).ToDateTime(TimeOnly.MinValue));
        var firings = new List<DateTimeOffset>();
        for (var t = options.Cron.GetNextValidTimeAfter(from.AddTicks(-1)); t is { } at && at < to; t = options.Cron.GetNextValidTimeAfter(at))
            firings.Add(TimeZoneInfo.ConvertTime(at, options.Zone));
        return firings;
    }

    private static DateOnly Date(string text) => DateOnly.Parse(text, CultureInfo.InvariantCulture);

    private static DateTimeOffset Local(TimeZoneInfo zone, DateTime local) => new(local, zone.GetUtcOffset(local));

    private static IEnumerable<DateOnly> Days(DateOnly first, DateOnly last)
    {
        for (var day = first; day <= last; day = day.AddDays(1))
            yield return day;
    }

    [Theory]
    // Spring forward on Sunday 8 March; fall back on Sunday 1 November, so November is taken with the
    // second half of October, for weekdays on both sides of the change.
    [InlineData("America/New_York", "2026-03-01", "2026-03-31")]
    [InlineData("America/New_York", "2026-10-15", "2026-11-30")]
    // Spring forward on Sunday 29 March, fall back on Sunday 25 October.
    [InlineData("Europe/Rome", "2026-03-01", "2026-03-31")]
    [InlineData("Europe/Rome", "2026-10-01", "2026-11-30")]
    public void Weekdays_at_nine_fire_once_each_weekday_at_nine_local_time_across_a_clock_change(string zone, string from, string to)
    {
        var options = Options("0 0 9 ? * MON-FRI", zone);
        var (first, last) = (Date(from), Date(to));

        var firings = Firings(options, first, last);

        var weekdays = Days(first, last).Where(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).ToList();
        Assert.Equal(weekdays, firings.Select(f => DateOnly.FromDateTime(f.DateTime)));
        Assert.All(firings, f => Assert.Equal(new TimeSpan(9, 0, 0), f.TimeOfDay));
        // The month does cross a change: 09:00 is two different UTC times in it.
        Assert.Equal(2, firings.Select(f => f.Offset).Distinct().Count());
    }

    [Theory]
    [InlineData("America/New_York", "2026-11-01", "-04:00")]
    [InlineData("Europe/Rome", "2026-10-25", "+02:00")]
    public void A_time_inside_the_repeated_hour_fires_once_that_day_at_its_first_occurrence(string zone, string day, string offset)
    {
        var hour = zone == "Europe/Rome" ? 2 : 1;
        var options = Options($"0 30 {hour} * * ?", zone);
        var date = Date(day);

        var firings = Firings(options, date.AddDays(-1), date.AddDays(1));

        // One a day; on the change day, the 01:30 (02:30 in Rome) before the clocks go back, in summer time.
        Assert.Equal([date.AddDays(-1), date, date.AddDays(1)], firings.Select(f => DateOnly.FromDateTime(f.DateTime)));
        Assert.All(firings, f => Assert.Equal(new TimeSpan(hour, 30, 0), f.TimeOfDay));
        Assert.Equal(TimeSpan.Parse(offset.TrimStart('+'), CultureInfo.InvariantCulture), firings[1].Offset);
    }

    [Theory]
    [InlineData("America/New_York", "2026-03-08", "-04:00")]
    [InlineData("Europe/Rome", "2026-03-29", "+02:00")]
    public void A_time_inside_the_skipped_hour_fires_once_that_day_when_the_clocks_have_gone_forward(string zone, string day, string offset)
    {
        var options = Options("0 30 2 * * ?", zone);
        var date = Date(day);

        var firings = Firings(options, date.AddDays(-1), date.AddDays(1));

        // 02:30 does not exist that day. Quartz 4.7.3 does not skip the day, nor move the time an hour
        // on (03:30): it fires once at 03:00 local, the first instant after the gap. Other days, 02:30.
        Assert.Equal([date.AddDays(-1), date, date.AddDays(1)], firings.Select(f => DateOnly.FromDateTime(f.DateTime)));
        Assert.Equal([new(2, 30, 0), new(3, 0, 0), new(2, 30, 0)], firings.Select(f => f.TimeOfDay));
        Assert.Equal(TimeSpan.Parse(offset.TrimStart('+'), CultureInfo.InvariantCulture), firings[1].Offset);
    }

    [Theory]
    [InlineData("0 0 9 ? * MON-FRI", "Europe/Nowhere", "Announcements:TimeZone")]
    [InlineData("0 0 25 ? * MON-FRI", "UTC", "Announcements:Schedule")] // no hour 25
    [InlineData("every weekday at nine", "UTC", "Announcements:Schedule")]
    [InlineData("0 0 9 ? * MON-FRI 2001", "UTC", "Announcements:Schedule")] // never fires again
    public void An_unusable_schedule_or_zone_is_a_configuration_error_naming_its_key(string schedule, string zone, string key)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // Everything else as a bare start has it, but for a posts folder that exists.
            ["Content:PostsPath"] = _folder.Path,
            ["Announcements:Schedule"] = schedule,
            ["Announcements:TimeZone"] = zone,
        }).Build();

        var error = Assert.Throws<ConfigurationException>(() => AppSettings.Load(configuration));

        var only = Assert.Single(error.Errors);
        Assert.StartsWith(key + " ", only);
    }
}
