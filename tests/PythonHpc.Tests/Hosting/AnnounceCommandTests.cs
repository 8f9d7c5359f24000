using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Hosting;

/// <summary><c>pythonhpc announce preview</c> and the webinar checks, run as a child process.</summary>
public sealed class AnnounceCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public AnnounceCommandTests()
    {
        _folder.Write("posts/2025-09-15-python-for-hpc.md", File.ReadAllText(FeedBuild.Testdata("seed", "2025-09-15-python-for-hpc.md")));
        _folder.Write("posts/2025-10-01-no-video.md", "---\ntitle: No video\ndate: 2025-10-01\n---\nJust text.\n");
    }

    public void Dispose() => _folder.Dispose();

    private ToolResult Run(params string[] arguments) => Tool.Pythonhpc(_folder.Path, arguments);

    [Fact]
    public void Preview_writes_the_message_its_parts_and_lists_the_chapters()
    {
        var result = Run("announce", "preview", "python-for-hpc", "--out", "preview", "--to", "ada@example.com");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("5 chapters:", result.Stdout);
        foreach (var line in new[] { "1      4:00  Environment management", "3     17:12  Threads vs processes", "5     55:24  Dask for scaling out" })
            Assert.Contains(line, result.Stdout);
        foreach (var extension in new[] { ".eml", ".html", ".txt" })
            Assert.True(new FileInfo(_folder[$"preview/2025-09-15-python-for-hpc{extension}"]).Length > 1000, extension);
        Assert.Contains("To: ada@example.com", File.ReadAllText(_folder["preview/2025-09-15-python-for-hpc.eml"]));
        // The post may be named by its file too.
        Assert.Equal(0, Run("announce", "preview", "posts/2025-09-15-python-for-hpc.md", "--out", "preview2").ExitCode);
    }

    [Fact]
    public void A_post_without_a_video_says_so_and_exits_2()
    {
        var result = Run("announce", "preview", "no-video");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("posts/2025-10-01-no-video.md: no YouTube or Vimeo video: nothing to announce", result.Stderr);
        Assert.False(Directory.Exists(_folder["out/preview"]));
    }

    [Fact]
    public void An_unknown_post_is_a_usage_error()
    {
        var result = Run("announce", "preview", "nonexistent");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no post 'nonexistent'", result.Stderr);
    }

    [Fact]
    public void Check_reports_odd_chapters_at_their_lines_and_still_passes()
    {
        _folder.Write("posts/2025-11-01-odd.md", "---\ntitle: Odd\ndate: 2025-11-01\n---\n[v](https://youtu.be/abcdefghijk)\n\n* [One](https://youtu.be/abcdefghijk?t=600) – first\n* [Two](https://youtu.be/abcdefghijk?t=300) – earlier\n");
        var result = Run("check");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("posts/2025-11-01-odd.md:8: warning: chapter 2 starts at 5:00, before chapter 1 (10:00)", result.Stderr);
    }

    [Fact]
    public void A_template_that_does_not_parse_stops_the_service_at_start_with_its_file_and_line()
    {
        _folder.Write("templates/email/announcement.txt.liquid", "line one\n{{ post.title | }}\n");
        var result = Run();
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("templates/email/announcement.txt.liquid:2: error:", result.Stderr);
    }
}
