using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Feeds;

/// <summary>
/// The running service after a change to one post file: the served feeds change, and only the
/// feeds that post appears in are built again (read from <c>/healthz</c>: files read, files built).
/// </summary>
public sealed class IncrementalRebuildTests : IAsyncLifetime
{
    private static readonly string[] Main = ["atom.xml", "feed.json", "feed.xml"];

    private readonly TempFolder _folder = new();
    private FeedService _service = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Post("2024-01-01-a.md", "Post A", "2024-01-01", "Alpha");
        Post("2024-02-01-b.md", "Post B", "2024-02-01", "Beta");
        Post("2024-03-01-c.md", "Post C", "2024-03-01", "Gamma");
        _service = await FeedService.Start(_folder);
    }

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        _folder.Dispose();
    }

    private string Post(string name, string title, string date, string categories, string body = "Body.") =>
        _folder.Write("posts/" + name, Text(title, date, categories, body));

    private static string Text(string title, string date, string categories, string body = "Body.") =>
        $"---\ntitle: {title}\ndate: {date}\ncategories: [{categories}]\n---\n{body}\n";

    private static string[] Files(params string[] categories) =>
        [.. Main.Concat(categories.SelectMany(c => Main.Select(f => $"categories/{c}/{f}"))).Order(StringComparer.Ordinal)];

    /// <summary>Waits for the main RSS feed to meet <paramref name="condition"/>, then returns what the last build read and built.</summary>
    private async Task<(int Read, string[] Rebuilt)> After(Func<string, bool> condition)
    {
        await _service.Eventually("/feed.xml", condition);
        var feeds = await _service.Feeds();
        return (feeds.GetProperty("read").GetInt32(), [.. feeds.GetProperty("rebuilt").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal)]);
    }

    private static Func<string, bool> Has(string title) => body => body.Contains($"<title>{title}</title>", StringComparison.Ordinal);

    private static Func<string, bool> Lacks(string title) => body => !Has(title)(body);

    [Fact]
    public async Task At_start_every_feed_is_built()
    {
        var feeds = await _service.Feeds();
        Assert.Equal(3, feeds.GetProperty("read").GetInt32());
        Assert.Equal(Files("alpha", "beta", "gamma"), feeds.GetProperty("rebuilt").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_edited_post_rebuilds_the_main_feeds_and_its_categories_and_leaves_the_others_untouched()
    {
        using var before = await _service.Get("/categories/beta/feed.xml");
        var written = File.GetLastWriteTimeUtc(_folder["out/categories/beta/feed.xml"]);
        Post("2024-01-01-a.md", "Post A, edited", "2024-01-01", "Alpha");

        var (read, rebuilt) = await After(Has("Post A, edited"));
        Assert.Equal(1, read);
        Assert.Equal(Files("alpha"), rebuilt);
        Assert.Contains("<title>Post A, edited</title>", await _service.Http.GetStringAsync("/categories/alpha/feed.xml", Ct));
        Assert.Contains("<title>Post A, edited</title>", await File.ReadAllTextAsync(_folder["out/categories/alpha/feed.xml"], Ct));
        using var after = await _service.Get("/categories/beta/feed.xml");
        Assert.Equal(before.Headers.ETag, after.Headers.ETag);
        Assert.Equal(before.Content.Headers.LastModified, after.Content.Headers.LastModified);
        Assert.Equal(written, File.GetLastWriteTimeUtc(_folder["out/categories/beta/feed.xml"]));
    }

    [Fact]
    public async Task A_new_post_is_served_with_the_feeds_of_its_categories()
    {
        Post("2024-04-01-d.md", "Post D", "2024-04-01", "Beta, Delta");

        var (read, rebuilt) = await After(Has("Post D"));
        Assert.Equal(1, read);
        Assert.Equal(Files("beta", "delta"), rebuilt);
        Assert.Contains("<title>Post D</title>", await _service.Http.GetStringAsync("/categories/delta/feed.xml", Ct));
    }

    [Fact]
    public async Task A_deleted_post_takes_the_feeds_of_a_category_it_alone_was_in_along()
    {
        File.Delete(_folder["posts/2024-03-01-c.md"]);

        var (read, rebuilt) = await After(Lacks("Post C"));
        Assert.Equal(0, read);
        Assert.Equal(Main, rebuilt);
        using var gone = await _service.Get("/categories/gamma/feed.xml");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(Directory.Exists(_folder["out/categories/gamma"]));
        Assert.True(File.Exists(_folder["out/categories/beta/feed.xml"]));
    }

    [Fact]
    public async Task A_renamed_file_is_served_under_its_new_name()
    {
        File.Move(_folder["posts/2024-02-01-b.md"], _folder["posts/2024-02-01-b-renamed.md"]);

        var rss = await _service.Eventually("/feed.xml", b => b.Contains("2024-02-01-b-renamed.html", StringComparison.Ordinal));
        Assert.DoesNotContain("2024-02-01-b.html", rss, StringComparison.Ordinal);
        var feeds = await _service.Feeds();
        Assert.Equal(1, feeds.GetProperty("read").GetInt32());
        Assert.Equal(3, feeds.GetProperty("published").GetInt32());
    }

    [Fact]
    public async Task A_save_by_renaming_a_temporary_file_over_the_post_is_served()
    {
        // What editors such as vim (backupcopy=no), VS Code and gedit do: write beside, rename over.
        var temporary = _folder.Write("posts/.2024-01-01-a.md.tmp", Text("Post A, saved atomically", "2024-01-01", "Alpha"));
        File.Move(temporary, _folder["posts/2024-01-01-a.md"], overwrite: true);

        var (read, rebuilt) = await After(Has("Post A, saved atomically"));
        Assert.Equal(1, read);
        Assert.Equal(Files("alpha"), rebuilt);
    }

    [Fact]
    public async Task A_post_moved_to_another_category_rebuilds_that_one_and_removes_the_one_it_left_empty()
    {
        Post("2024-01-01-a.md", "Post A, moved", "2024-01-01", "Beta");

        var (_, rebuilt) = await After(Has("Post A, moved"));
        Assert.Equal(Files("beta"), rebuilt);
        Assert.Contains("<title>Post A, moved</title>", await _service.Http.GetStringAsync("/categories/beta/feed.xml", Ct));
        using var gone = await _service.Get("/categories/alpha/feed.xml");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_folder_of_posts_moved_in_is_read_whole()
    {
        var outside = _folder.Write("elsewhere/2024-05-01-e.md", Text("Post E", "2024-05-01", "Epsilon"));
        _folder.Write("elsewhere/2024-05-02-f.md", Text("Post F", "2024-05-02", "Epsilon"));
        Directory.Move(Path.GetDirectoryName(outside)!, _folder["posts/moved-in"]);

        await After(b => Has("Post E")(b) && Has("Post F")(b));
        Assert.Contains("<title>Post F</title>", await _service.Http.GetStringAsync("/categories/epsilon/feed.xml", Ct));
    }

    [Fact]
    public async Task Readers_polling_while_posts_are_edited_only_ever_get_whole_feeds()
    {
        const int edits = 40;
        // A second post keeps Beta's feeds served while the first is caught half written (and, for a moment, refused).
        Post("2024-02-02-b2.md", "Post B2", "2024-02-02", "Beta");
        await _service.Eventually("/categories/beta/feed.xml", Has("Post B2"));
        var writer = Task.Run(async () =>
        {
            for (var i = 1; i <= edits; i++)
            {
                // Bodies of very different sizes, so that a torn read could not pass for a whole one.
                Post("2024-02-01-b.md", $"Post B, edit {i}", "2024-02-01", "Beta", string.Concat(Enumerable.Repeat($"Edit {i}. ", i % 2 == 0 ? 2000 : 5)));
                await Task.Delay(20, Ct);
            }
        }, Ct);
        var reads = 0;
        while (!writer.IsCompleted || reads < 20)
        {
            XDocument.Parse(await Gunzipped("/feed.xml"));
            XDocument.Parse(await Gunzipped("/categories/beta/atom.xml"));
            JsonDocument.Parse(await _service.Http.GetStringAsync("/feed.json", Ct)).Dispose();
            reads++;
        }
        await writer;
        await _service.Eventually("/categories/beta/feed.xml", Has($"Post B, edit {edits}"));
    }

    /// <summary>The body as a reader asking for gzip gets it, decompressed; its length checked against Content-Length.</summary>
    private async Task<string> Gunzipped(string path)
    {
        using var response = await _service.Get(path, h => h.AcceptEncoding.ParseAdd("gzip"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(response.Content.Headers.ContentLength, body.Length);
        if (!response.Content.Headers.ContentEncoding.Contains("gzip"))
            return System.Text.Encoding.UTF8.GetString(body);
        using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var text = new StreamReader(gzip);
        return await text.ReadToEndAsync(Ct);
    }
}
