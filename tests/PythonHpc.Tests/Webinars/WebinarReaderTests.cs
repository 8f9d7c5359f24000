using PythonHpc.Content;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Webinars;

public sealed class WebinarReaderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private PostLoader.Result Load(string text, string file = "2025-01-01-talk.md")
    {
        var path = _folder.Write("posts/" + file, text);
        return Settings.Loader(_folder["posts"]).Load(path);
    }

    [Fact]
    public void The_seed_post_yields_its_five_chapters_with_deep_links_and_summaries()
    {
        var seed = File.ReadAllText(FeedBuild.Testdata("seed", "2025-09-15-python-for-hpc.md"));
        var result = Load(seed, "2025-09-15-python-for-hpc.md");
        Assert.Empty(result.Problems);
        var webinar = result.Post!.Webinar;
        Assert.NotNull(webinar);
        Assert.Equal(("youtube", "Zv4DcRy1yeg"), (webinar.Video.Provider, webinar.Video.Id));
        Assert.Equal("https://www.youtube.com/watch?v=Zv4DcRy1yeg", webinar.Video.WatchUrl.AbsoluteUri);
        Assert.Equal("https://i.ytimg.com/vi/Zv4DcRy1yeg/hqdefault.jpg", webinar.Video.Thumbnail!.AbsoluteUri);
        Assert.Equal(["4:00", "9:17", "17:12", "32:54", "55:24"], webinar.Chapters.Select(c => c.StartText));
        Assert.Equal([1, 2, 3, 4, 5], webinar.Chapters.Select(c => c.Index));
        Assert.Equal(["Environment management", "AI code assistants", "Threads vs processes", "Numba optimization", "Dask for scaling out"], webinar.Chapters.Select(c => c.Title));
        Assert.Equal("https://www.youtube.com/watch?v=Zv4DcRy1yeg&t=240s", webinar.Chapters[0].Link.AbsoluteUri);
        Assert.Equal("https://www.youtube.com/watch?v=Zv4DcRy1yeg&t=3324s", webinar.Chapters[4].Link.AbsoluteUri);
        Assert.StartsWith("Jupyter workflow; two deployment patterns", webinar.Chapters[0].Summary);
        Assert.StartsWith("Task graphs, scheduler behavior", webinar.Chapters[4].Summary);
    }

    [Fact]
    public void Youtube_description_lines_are_chapters_too()
    {
        var post = Load("""
            ---
            title: Talk
            ---
            Watch it on https://youtu.be/abcdefghijk

            00:00 Introduction – who we are
            04:00 Environment management
            1:02:03 - Q&A: questions from the audience
            """).Post!;
        var chapters = post.Webinar!.Chapters;
        Assert.Equal(["0:00", "4:00", "1:02:03"], chapters.Select(c => c.StartText));
        Assert.Equal(["Introduction", "Environment management", "Q&A"], chapters.Select(c => c.Title));
        Assert.Equal(["who we are", null, "questions from the audience"], chapters.Select(c => c.Summary));
        Assert.Equal("https://www.youtube.com/watch?v=abcdefghijk&t=3723s", chapters[2].Link.AbsoluteUri);
    }

    [Theory]
    [InlineData("–")]
    [InlineData("—")]
    [InlineData("-")]
    [InlineData(":")]
    public void List_items_take_their_start_from_the_link_or_from_the_time_in_parentheses(string separator)
    {
        var post = Load($"""
            ---
            title: Talk
            video: https://www.youtube.com/watch?v=abcdefghijk
            ---
            * [Setup](https://www.youtube.com/watch?v=abcdefghijk&t=90s) {separator} getting started
            * [Profiling](https://example.org/slides.pdf) (12:05) {separator} where the time goes
            * [4:30:00](https://youtu.be/abcdefghijk?t=16200) Wrap-up {separator} the end
            """).Post!;
        var chapters = post.Webinar!.Chapters;
        Assert.Equal([TimeSpan.FromSeconds(90), new TimeSpan(0, 12, 5), new TimeSpan(4, 30, 0)], chapters.Select(c => c.Start));
        Assert.Equal(["Setup", "Profiling", "Wrap-up"], chapters.Select(c => c.Title));
        Assert.Equal(["getting started", "where the time goes", "the end"], chapters.Select(c => c.Summary));
    }

    [Fact]
    public void Front_matter_chapters_win_and_vimeo_links_use_its_fragment()
    {
        var result = Load("""
            ---
            title: Vimeo talk
            video: https://vimeo.com/76979871
            chapters:
              - title: Opening
                start: "0:00"
                summary: Hello.
              - title: Deep dive
                start: 3723
                summary: The *details*.
            ---
            * [Ignored](https://vimeo.com/76979871#t=10s) – not used
            * [Also ignored](https://vimeo.com/76979871#t=20s) – not used
            """);
        var webinar = result.Post!.Webinar!;
        Assert.Equal("vimeo", webinar.Video.Provider);
        Assert.Equal(["Opening", "Deep dive"], webinar.Chapters.Select(c => c.Title));
        Assert.Equal("https://vimeo.com/76979871#t=1h2m3s", webinar.Chapters[1].Link.AbsoluteUri);
        Assert.Equal("https://vimeo.com/76979871#t=0m0s", webinar.Chapters[0].Link.AbsoluteUri);
        Assert.Equal("The details.", webinar.Chapters[1].Summary);
    }

    [Theory]
    [InlineData("<iframe src=\"https://www.youtube-nocookie.com/embed/abcdefghijk\"></iframe>")]
    [InlineData("{{< video https://www.youtube.com/embed/abcdefghijk >}}")]
    [InlineData("{{< youtube abcdefghijk >}}")]
    [InlineData("[talk](https://m.youtube.com/watch?feature=share&v=abcdefghijk)")]
    public void Any_embedded_or_linked_video_makes_a_webinar(string body)
    {
        var post = Load($"---\ntitle: T\ndate: 2025-01-01\n---\n{body}\n").Post!;
        Assert.Equal("abcdefghijk", post.Webinar!.Video.Id);
        Assert.Empty(post.Webinar.Chapters);
    }

    [Fact]
    public void A_post_without_a_video_is_not_a_webinar_even_if_it_says_so()
    {
        Assert.Null(Load("---\ntitle: T\n---\n[a channel](https://www.youtube.com/@sdsc)\n").Post!.Webinar);
        var declared = Load("---\ntitle: T\nwebinar: true\n---\nNo link yet.\n");
        Assert.Null(declared.Post!.Webinar);
        Assert.Contains("webinar: true, but the post links no", Assert.Single(declared.Problems).Message);
    }

    [Fact]
    public void Odd_chapters_are_kept_and_reported_at_their_lines()
    {
        var result = Load("""
            ---
            title: Odd
            video: https://youtu.be/abcdefghijk
            duration: "30:00"
            ---
            Chapters:

            * [Start](https://youtu.be/abcdefghijk?t=60) (1:00) – fine
            * [Later](https://youtu.be/abcdefghijk?t=600) (1:00) – text disagrees
            * [Earlier](https://youtu.be/abcdefghijk?t=300) – out of order
            * [Same](https://youtu.be/abcdefghijk?t=300)
            * [Too late](https://youtu.be/abcdefghijk?t=2400) – after the end
            * [Other video](https://youtu.be/zzzzzzzzzzz?t=2500) – elsewhere
            """);
        var webinar = result.Post!.Webinar!;
        Assert.Equal(6, webinar.Chapters.Count);
        var messages = result.Problems.Select(p => (p.Line, p.Message)).ToList();
        Assert.Contains((9, "chapter 2: the link starts at 10:00 but the text says 1:00; the link is used"), messages);
        Assert.Contains((10, "chapter 3 starts at 5:00, before chapter 2 (10:00)"), messages);
        Assert.Contains((11, "chapter 4 starts at the same time as chapter 3 (5:00)"), messages);
        Assert.Contains((11, "chapter 4 ('Same') has no summary"), messages);
        Assert.Contains((12, "chapter 5 starts at 40:00, after the video's end (30:00)"), messages);
        Assert.Contains((13, "chapter 6 links to another video (zzzzzzzzzzz) than the post's (abcdefghijk)"), messages);
        Assert.All(result.Problems, p => Assert.Equal(Severity.Warning, p.Severity));
    }

    [Fact]
    public void Time_stamps_inside_code_are_not_chapters()
    {
        var post = Load("""
            ---
            title: Logs
            ---
            [video](https://youtu.be/abcdefghijk)

            ```
            00:01 started
            00:02 finished
            ```
            """).Post!;
        Assert.Empty(post.Webinar!.Chapters);
    }
}
