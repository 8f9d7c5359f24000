using PythonHpc.Content;

namespace PythonHpc.Tests.Content;

public class PostDateTests
{
    private static readonly TimeZoneInfo Rome = TimeZoneInfo.FindSystemTimeZoneById("Europe/Rome");

    [Theory]
    [InlineData("2025-09-15", "2025-09-15T00:00:00+00:00")]
    [InlineData("2019-05-30 15:00", "2019-05-30T15:00:00+00:00")]
    [InlineData("2020-1-5 9:30", "2020-01-05T09:30:00+00:00")]
    [InlineData("2021-03-04 10:00:00", "2021-03-04T10:00:00+00:00")]
    [InlineData("2021-03-04T10:00:00+01:00", "2021-03-04T10:00:00+01:00")]
    [InlineData("2021-03-04 10:00:00 -0700", "2021-03-04T10:00:00-07:00")]
    [InlineData("2021-03-04 10:00 +05:30", "2021-03-04T10:00:00+05:30")]
    [InlineData("2021-03-04T10:00:00Z", "2021-03-04T10:00:00+00:00")]
    [InlineData("2021-03-04T10:00:00.250Z", "2021-03-04T10:00:00.250+00:00")]
    [InlineData("2021/03/04", "2021-03-04T00:00:00+00:00")]
    [InlineData("September 15, 2025", "2025-09-15T00:00:00+00:00")]
    [InlineData("15 Sep 2025", "2025-09-15T00:00:00+00:00")]
    public void Parses_the_forms_bloggers_write(string text, string expected)
    {
        Assert.True(PostDate.TryParse(text, TimeZoneInfo.Utc, out var date, out var error), error);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), date);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture).Offset, date.Offset);
    }

    [Fact]
    public void A_date_without_offset_is_wall_clock_time_in_the_site_zone()
    {
        Assert.True(PostDate.TryParse("2025-07-01 09:00", Rome, out var summer, out _));
        Assert.Equal(TimeSpan.FromHours(2), summer.Offset);
        Assert.True(PostDate.TryParse("2025-01-15", Rome, out var winter, out _));
        Assert.Equal(new DateTimeOffset(2025, 1, 15, 0, 0, 0, TimeSpan.FromHours(1)), winter);
        Assert.Equal(TimeSpan.FromHours(1), winter.Offset);
    }

    [Fact]
    public void A_time_in_the_spring_forward_gap_moves_forward_and_one_in_the_overlap_takes_the_earlier_instant()
    {
        // Europe/Rome skips 02:00–03:00 on 2025-03-30 and repeats 02:00–03:00 on 2025-10-26.
        Assert.True(PostDate.TryParse("2025-03-30 02:30", Rome, out var gap, out _));
        Assert.Equal(new DateTimeOffset(2025, 3, 30, 3, 30, 0, TimeSpan.FromHours(2)), gap);
        Assert.True(PostDate.TryParse("2025-10-26 02:30", Rome, out var overlap, out _));
        Assert.Equal(new DateTimeOffset(2025, 10, 26, 2, 30, 0, TimeSpan.FromHours(2)), overlap);
    }

    [Theory]
    [InlineData("2025-02-30", "not a real date")]
    [InlineData("2025-13-01", "not a real date")]
    [InlineData("2025-04-31", "not a real date")]
    [InlineData("2025-01-01 25:00", "not a real time of day")]
    [InlineData("2025-01-01 10:00 +15:00", "UTC offset")]
    [InlineData("yesterday", "is not a date")]
    [InlineData("2025-09", "is not a date")]
    public void Rejects_impossible_dates_with_a_reason(string text, string reason)
    {
        Assert.False(PostDate.TryParse(text, TimeZoneInfo.Utc, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData("2025-09-15-python-for-hpc", "python-for-hpc")]
    [InlineData("python-for-hpc", "python-for-hpc")]
    [InlineData("2025-09-15", "2025-09-15")]
    public void The_date_prefix_of_a_file_name_is_recognised(string stem, string rest)
    {
        Assert.Equal(rest, PostDate.WithoutPrefix(stem));
        DateTimeOffset? expected = stem.StartsWith("2025", StringComparison.Ordinal) ? new DateTimeOffset(2025, 9, 15, 0, 0, 0, TimeSpan.Zero) : null;
        Assert.Equal(expected, PostDate.FromFileName(stem, TimeZoneInfo.Utc));
    }
}
