using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Mail;

/// <summary>The announcement as readers see it: Chromium's layout at phone and desktop widths, and SpamAssassin's score.</summary>
public sealed partial class EmailRenderingTests : IDisposable
{
    private const string Thumbnail = "https://i.ytimg.com/vi/Zv4DcRy1yeg/hqdefault.jpg";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [GeneratedRegex(@"Content analysis details:\s+\((?<score>-?[\d.]+) points")]
    private static partial Regex Score();

    /// <summary>The seed's HTML part, with the video thumbnail replaced by a local picture of the same size (no network here).</summary>
    private string Html()
    {
        var announcement = Announcement.ForSeed(_folder);
        var (html, _) = announcement.Messages.Render(announcement.Draft, Announcement.Recipient());
        var thumbnail = _folder.Write("render/thumbnail.svg",
            """<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360"><rect width="480" height="360" fill="#1f2937"/><circle cx="240" cy="180" r="48" fill="#dc2626"/><polygon points="225,155 225,205 265,180" fill="#fff"/></svg>""");
        Assert.Contains(Thumbnail, html);
        return html.Replace(Thumbnail, "file://" + thumbnail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(600)]
    [InlineData(375)]
    public void The_html_part_fits_the_width_without_horizontal_overflow(int width)
    {
        var (overflows, documentWidth, viewport) = Chromium.Measure(Html(), width, _folder["render"]);
        Assert.Equal(width, viewport);
        Assert.False(overflows, $"the email is {documentWidth} px wide in a {width} px viewport");
    }

    [Fact]
    public void The_overflow_check_sees_overflow_when_there_is_some()
    {
        var wide = Html().Replace("max-width:600px;", "min-width:700px;", StringComparison.Ordinal);
        Assert.True(Chromium.Measure(wide, 375, _folder["render"]).Overflows);
    }

    /// <summary>docs/email-600.png and docs/email-375.png, shown in the README; rewritten with PYTHONHPC_UPDATE_SCREENSHOTS=1.</summary>
    [Fact]
    public void Screenshots_are_taken_at_both_widths()
    {
        var file = _folder.Write("render/email.html", Html());
        foreach (var (width, height) in new[] { (600, 1350), (375, 1900) })
        {
            var png = _folder[$"render/email-{width}.png"];
            Chromium.Screenshot(file, png, width, height, _folder["render"]);
            Assert.True(new FileInfo(png).Length > 10_000);
            if (Environment.GetEnvironmentVariable("PYTHONHPC_UPDATE_SCREENSHOTS") == "1")
                File.Copy(png, Path.Combine(Repository(), "docs", $"email-{width}.png"), overwrite: true);
        }
    }

    [Fact]
    public void SpamAssassin_scores_the_seed_announcement_at_most_1()
    {
        var spamassassin = Tool.Require("/usr/bin/spamassassin", "spamassassin");
        using var message = Announcement.ForSeed(_folder).ComposeWire();
        var file = _folder["render/seed.eml"];
        Directory.CreateDirectory(_folder["render"]);
        File.WriteAllBytes(file, message.Bytes.ToArray());
        // -t: test mode, a report of the rules; -L: local tests only (no network here).
        var result = Tool.Run(spamassassin, ["-t", "-L"], stdin: File.ReadAllText(file));
        var report = result.Stdout[result.Stdout.LastIndexOf("Content analysis details", StringComparison.Ordinal)..];
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        var score = double.Parse(Score().Match(report).Groups["score"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(score <= 1.0, "SpamAssassin scored the announcement " + score + ":\n" + report);
    }

    private static string Repository([CallerFilePath] string path = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", ".."));
}
