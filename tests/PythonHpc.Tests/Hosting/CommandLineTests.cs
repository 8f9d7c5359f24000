using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Hosting;

/// <summary>The real <c>pythonhpc</c> program, run as a child process in a folder of its own.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public CommandLineTests()
    {
        _folder.Write("posts/2024-01-01-first.md", "---\ntitle: First\ndate: 2024-01-01\ncategories: [Python]\n---\nFirst post.\n");
        _folder.Write("posts/2024-02-01-second.md", "---\ntitle: Second\ndate: 2024-02-01 10:00\ncategories: [Machine Learning]\n---\nSecond post.\n");
    }

    public void Dispose() => _folder.Dispose();

    private ToolResult Run(params string[] arguments) => Tool.Pythonhpc(_folder.Path, arguments);

    private ToolResult Run(IDictionary<string, string> environment, params string[] arguments) => Tool.Pythonhpc(_folder.Path, arguments, environment);

    [Fact]
    public void Build_writes_the_feeds_and_exits_0()
    {
        var result = Run("build", "--base-url", "https://blog.example.org/");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        Assert.Contains("2 posts, 2 published", result.Stdout);
        foreach (var file in new[] { "feed.xml", "atom.xml", "feed.json", "categories/python/feed.xml", "categories/machine-learning/atom.xml" })
            Assert.True(File.Exists(_folder["out/feeds/" + file]), file);
        Assert.Contains("<link>https://blog.example.org/posts/2024-02-01-second.html</link>", File.ReadAllText(_folder["out/feeds/feed.xml"]));
    }

    [Fact]
    public void Max_items_limits_every_feed_to_the_newest_posts()
    {
        Assert.Equal(0, Run("build", "--max-items", "1").ExitCode);
        var rss = File.ReadAllText(_folder["out/feeds/feed.xml"]);
        Assert.Equal(1, rss.Split("<item>").Length - 1);
        Assert.Contains("<title>Second</title>", rss);
        Assert.Equal(1, File.ReadAllText(_folder["out/feeds/atom.xml"]).Split("<entry>").Length - 1);
    }

    [Fact]
    public async Task Without_a_command_it_runs_the_service_and_a_bad_configuration_stops_it_with_exit_1()
    {
        var bad = Run(new Dictionary<string, string> { ["PYTHONHPC_Site__TimeZone"] = "Mars/Olympus_Mons" });
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Assert.Contains("Site:TimeZone 'Mars/Olympus_Mons' is not a known IANA time zone id", bad.Stderr);

        var port = SmtpRecorder.FreePort();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = _folder.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Tool.PythonhpcDll);
        start.Environment["PYTHONHPC_Http__Urls"] = $"http://127.0.0.1:{port}";
        using var service = System.Diagnostics.Process.Start(start)!;
        // Drained, so that the service never blocks on a full pipe while it logs.
        service.OutputDataReceived += (_, _) => { };
        service.ErrorDataReceived += (_, _) => { };
        service.BeginOutputReadLine();
        service.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            string? rss = null;
            for (var deadline = DateTime.UtcNow.AddSeconds(30); rss is null && DateTime.UtcNow < deadline; await Task.Delay(100, TestContext.Current.CancellationToken))
            {
                try
                {
                    rss = await http.GetStringAsync("/feed.xml", TestContext.Current.CancellationToken);
                }
                catch (HttpRequestException) when (!service.HasExited)
                {
                }
            }
            Assert.NotNull(rss);
            Assert.Contains("<title>Second</title>", rss);
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            service.WaitForExit();
        }
    }

    [Fact]
    public void A_rejected_post_is_reported_as_file_line_and_the_others_are_still_published()
    {
        _folder.Write("posts/2024-03-01-broken.md", "---\ntitle: Broken\ndate: 2024-13-01\n---\nx");
        var result = Run("build");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("posts/2024-03-01-broken.md:3: error: date: '2024-13-01' is not a real date", result.Stderr.Trim());
        var rss = File.ReadAllText(_folder["out/feeds/feed.xml"]);
        Assert.Contains("<title>First</title>", rss);
        Assert.Contains("<title>Second</title>", rss);
        Assert.DoesNotContain("Broken", rss);
    }

    [Fact]
    public void Check_reports_the_same_problems_and_writes_nothing()
    {
        _folder.Write("posts/bad.md", "---\ntitle: [x\n---\n");
        var result = Run("check");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("posts/bad.md:", result.Stderr);
        Assert.Contains(": error: front matter is not valid YAML", result.Stderr);
        Assert.False(Directory.Exists(_folder["out"]));
    }

    [Theory]
    [InlineData("--base-url", "ftp://example.org/", "Site:BaseUrl must be an absolute http(s) URL")]
    [InlineData("--base-url", "/relative", "Site:BaseUrl must be an absolute http(s) URL")]
    [InlineData("--max-items", "0", "Feeds:MaxItems must be between 1 and 1000")]
    [InlineData("--posts", "no-such-folder", "Content:PostsPath 'no-such-folder' is not a folder")]
    public void A_configuration_error_names_its_key_and_exits_1(string option, string value, string message)
    {
        var result = Run("build", option, value);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(message, result.Stderr);
        Assert.False(Directory.Exists(_folder["out"]));
    }

    [Fact]
    public void Environment_variables_override_appsettings_json()
    {
        _folder.Write("appsettings.json", """{ "Site": { "BaseUrl": "https://from-file.example.org/", "TimeZone": "Europe/Rome" } }""");
        Assert.Equal(0, Run("build").ExitCode);
        Assert.Contains("https://from-file.example.org/posts/", File.ReadAllText(_folder["out/feeds/feed.xml"]));
        Assert.Contains("Thu, 01 Feb 2024 10:00:00 +0100", File.ReadAllText(_folder["out/feeds/feed.xml"]));

        var result = Run(new Dictionary<string, string> { ["PYTHONHPC_Site__BaseUrl"] = "https://from-env.example.org/" }, "build");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("https://from-env.example.org/posts/", File.ReadAllText(_folder["out/feeds/feed.xml"]));
    }

    [Fact]
    public void A_misspelt_key_or_a_broken_appsettings_file_is_a_configuration_error()
    {
        _folder.Write("appsettings.json", """{ "Site": { "BaseURI": "https://example.org/" } }""");
        var misspelt = Run("build");
        Assert.True(misspelt.ExitCode == 1, misspelt.ToString());
        Assert.Contains("Site:BaseURI is not a configuration key; the keys of Site are Title, Description, Language, Author, BaseUrl, TimeZone", misspelt.Stderr);

        _folder.Write("appsettings.json", "{\n  \"Site\": {\n    \"Title\": \"x\",,\n  }\n}\n");
        var broken = Run("build");
        Assert.True(broken.ExitCode == 1, broken.ToString());
        Assert.StartsWith("appsettings.json:3: error:", broken.Stderr);
    }

    [Fact]
    public void A_usage_error_exits_1()
    {
        var result = Run("build", "--no-such-option");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--no-such-option", result.Stderr + result.Stdout);
    }

    [Fact]
    public void Output_is_byte_identical_whatever_the_machine_culture_and_time_zone()
    {
        _folder.Write("posts/2024-03-10-dst.md", "---\ntitle: \"Ünïcödé & ıİ\"\ndate: 2024-03-10 02:30\ncategories: [İstanbul, Straße]\n---\n3.14 and 1,000 and ﷼ — **bold**.\n");
        _folder.Write("appsettings.json", """{ "Site": { "TimeZone": "America/New_York" } }""");
        var runs = new[]
        {
            new Dictionary<string, string> { ["TZ"] = "UTC", ["LANG"] = "C.UTF-8", ["LC_ALL"] = "C.UTF-8" },
            new Dictionary<string, string> { ["TZ"] = "Asia/Kathmandu", ["LANG"] = "tr_TR.UTF-8", ["LC_ALL"] = "tr_TR.UTF-8" },
            new Dictionary<string, string> { ["TZ"] = "America/St_Johns", ["LANG"] = "ar_SA.UTF-8", ["LC_ALL"] = "ar_SA.UTF-8" },
            new Dictionary<string, string> { ["TZ"] = "Pacific/Chatham", ["LANG"] = "de_DE.UTF-8", ["LC_ALL"] = "de_DE.UTF-8" },
        };
        string? first = null;
        foreach (var environment in runs)
        {
            var output = _folder["out-" + environment["TZ"].Replace('/', '-')];
            var result = Run(environment, "build", "--out", output);
            Assert.True(result.ExitCode == 0, result.ToString());
            var snapshot = string.Join("\n", Directory.GetFiles(output, "*", SearchOption.AllDirectories)
                .Order(StringComparer.Ordinal)
                .Select(f => Path.GetRelativePath(output, f) + "\n" + File.ReadAllText(f)));
            first ??= snapshot;
            Assert.Equal(first, snapshot);
        }
        // 02:30 on 2024-03-10 does not exist in New York (clocks jump to 03:00): it moves forward to 03:30 EDT.
        Assert.Contains("Sun, 10 Mar 2024 03:30:00 -0400", first);
        Assert.Contains("categories/istanbul/feed.xml", first);
        Assert.Contains("categories/strasse/feed.xml", first);
    }

    [Fact]
    public void A_second_build_of_the_same_posts_rewrites_nothing()
    {
        Assert.Equal(0, Run("build").ExitCode);
        var times = Directory.GetFiles(_folder["out/feeds"], "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Thread.Sleep(20);
        var second = Run("build");
        Assert.Contains("(0 written,", second.Stdout);
        foreach (var (file, time) in times)
            Assert.Equal(time, File.GetLastWriteTimeUtc(file));
    }
}
