using System.Net;
using System.Text.RegularExpressions;

namespace PythonHpc.Tests.Support;

/// <summary>Debian's headless Chromium: screenshots, and layout measured in a viewport of an exact width.</summary>
internal static partial class Chromium
{
    [GeneratedRegex("<title>overflow=(?<overflow>true|false) width=(?<width>\\d+) inner=(?<inner>\\d+)</title>")]
    private static partial Regex Measured();

    private static string[] Flags(string profile) =>
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile];

    /// <summary>
    /// Lays <paramref name="html"/> out in a viewport exactly <paramref name="width"/> pixels wide (an
    /// iframe: headless windows cannot be narrower than 500 px) and returns its document's width.
    /// </summary>
    public static (bool Overflows, int DocumentWidth, int ViewportWidth) Measure(string html, int width, string folder)
    {
        var chromium = Tool.Require("/usr/bin/chromium", "chromium");
        Directory.CreateDirectory(folder);
        var host = Path.Combine(folder, $"measure-{width}.html");
        File.WriteAllText(host, $$"""
            <!DOCTYPE html><html><head><title>pending</title></head><body style="margin:0">
            <iframe id="f" style="width:{{width}}px;height:4000px;border:0" srcdoc="{{WebUtility.HtmlEncode(html)}}"></iframe>
            <script>document.getElementById('f').addEventListener('load', function () {
              var d = this.contentDocument.documentElement;
              document.title = 'overflow=' + (d.scrollWidth > this.contentWindow.innerWidth) + ' width=' + d.scrollWidth + ' inner=' + this.contentWindow.innerWidth;
            });</script></body></html>
            """);
        var result = Tool.Run(chromium, [.. Flags(Path.Combine(folder, "profile-" + width)), "--window-size=900,2000", "--virtual-time-budget=5000", "--dump-dom", "file://" + host]);
        var m = Measured().Match(result.Stdout);
        Assert.True(m.Success, "Chromium did not measure the page: " + result);
        return (m.Groups["overflow"].Value == "true", int.Parse(m.Groups["width"].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups["inner"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    public static void Screenshot(string htmlFile, string png, int width, int height, string folder)
    {
        var chromium = Tool.Require("/usr/bin/chromium", "chromium");
        var result = Tool.Run(chromium, [.. Flags(Path.Combine(folder, "shot-" + width)), $"--window-size={width},{height}", "--screenshot=" + png, "file://" + htmlFile]);
        Assert.True(File.Exists(png), "no screenshot: " + result);
    }
}
