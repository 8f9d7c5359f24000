using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Xml.Linq;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Feeds;

/// <summary>The service on a real port on 127.0.0.1, with a real posts folder it watches.</summary>
public sealed class FeedServingTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private FeedService _service = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _folder.Write("posts/2024-01-01-first.md", "---\ntitle: First\ndate: 2024-01-01\ncategories: [Python]\n---\nFirst post, long enough to be worth compressing. " + string.Concat(Enumerable.Repeat("Lorem ipsum dolor sit amet. ", 40)) + "\n");
        _folder.Write("posts/2024-02-01-second.md", "---\ntitle: Second\ndate: 2024-02-01\ncategories: [Python, HPC]\n---\nSecond post.\n");
        _service = await FeedService.Start(_folder);
        _http = _service.Http;
    }

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        _folder.Dispose();
    }

    private Task<HttpResponseMessage> Get(string path, Action<HttpRequestHeaders>? headers = null, HttpMethod? method = null) =>
        _service.Get(path, headers, method);

    private Task<string> Eventually(string path, Func<string, bool> condition, int seconds = 10) =>
        _service.Eventually(path, condition, seconds);

    [Fact]
    public async Task Serves_each_feed_with_its_type_validators_and_the_bytes_written_to_disk()
    {
        foreach (var (path, type) in new[] { ("/feed.xml", "application/rss+xml"), ("/atom.xml", "application/atom+xml"), ("/feed.json", "application/feed+json"), ("/categories/hpc/feed.xml", "application/rss+xml") })
        {
            using var response = await Get(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
            Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
            Assert.True(response.Headers.ETag!.IsWeak);
            Assert.NotNull(response.Content.Headers.LastModified);
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            Assert.Equal(await File.ReadAllBytesAsync(_folder["out"] + path, Ct), await response.Content.ReadAsByteArrayAsync(Ct));
        }
        using var missing = await Get("/nothing-here.xml");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Conditional_requests_get_304_without_a_body()
    {
        using var first = await Get("/feed.xml");
        var etag = first.Headers.ETag!;
        var lastModified = first.Content.Headers.LastModified!.Value;

        using var byTag = await Get("/feed.xml", h => h.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, byTag.StatusCode);
        Assert.Empty(await byTag.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(etag, byTag.Headers.ETag);

        using var strongForm = await Get("/feed.xml", h => h.TryAddWithoutValidation("If-None-Match", "\"other\", " + etag.Tag));
        Assert.Equal(HttpStatusCode.NotModified, strongForm.StatusCode);

        using var otherTag = await Get("/feed.xml", h => h.IfNoneMatch.Add(new EntityTagHeaderValue("\"stale\"")));
        Assert.Equal(HttpStatusCode.OK, otherTag.StatusCode);

        using var byDate = await Get("/feed.xml", h => h.IfModifiedSince = lastModified);
        Assert.Equal(HttpStatusCode.NotModified, byDate.StatusCode);

        using var olderDate = await Get("/feed.xml", h => h.IfModifiedSince = lastModified.AddSeconds(-1));
        Assert.Equal(HttpStatusCode.OK, olderDate.StatusCode);

        // If-None-Match decides when both are sent (RFC 9110 §13.2.2).
        using var both = await Get("/feed.xml", h => { h.IfNoneMatch.Add(new EntityTagHeaderValue("\"stale\"")); h.IfModifiedSince = lastModified; });
        Assert.Equal(HttpStatusCode.OK, both.StatusCode);
    }

    [Theory]
    [InlineData("gzip", "gzip")]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData("*", "br")]
    [InlineData("identity", null)]
    public async Task Compresses_as_accept_encoding_allows(string acceptEncoding, string? expected)
    {
        var identity = await _http.GetByteArrayAsync("/feed.xml", Ct);
        using var response = await Get("/feed.xml", h => h.TryAddWithoutValidation("Accept-Encoding", acceptEncoding));
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(expected, response.Content.Headers.ContentEncoding.SingleOrDefault());
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        byte[] decoded = expected switch
        {
            "gzip" => Decompress(new GZipStream(new MemoryStream(body), CompressionMode.Decompress)),
            "br" => Decompress(new BrotliStream(new MemoryStream(body), CompressionMode.Decompress)),
            _ => body,
        };
        Assert.Equal(identity, decoded);
        if (expected is not null)
            Assert.True(body.Length < identity.Length);
    }

    private static byte[] Decompress(Stream stream)
    {
        using var output = new MemoryStream();
        stream.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public async Task Head_gets_the_headers_and_no_body()
    {
        using var response = await Get("/atom.xml", method: HttpMethod.Head);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((await _http.GetByteArrayAsync("/atom.xml", Ct)).Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Health_reports_the_last_build()
    {
        using var response = await Get("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(2, health.GetProperty("feeds").GetProperty("published").GetInt32());
        Assert.Equal(0, health.GetProperty("feeds").GetProperty("errors").GetInt32());
    }

    [Fact]
    public async Task A_new_edited_or_deleted_post_is_served_without_a_restart()
    {
        var etag = (await Get("/feed.xml")).Headers.ETag;
        _folder.Write("posts/2024-03-01-third.md", "---\ntitle: Third\ndate: 2024-03-01\n---\nNew.\n");
        await Eventually("/feed.xml", b => b.Contains("<title>Third</title>", StringComparison.Ordinal));
        Assert.NotEqual(etag, (await Get("/feed.xml")).Headers.ETag);
        Assert.Contains("<title>Third</title>", await File.ReadAllTextAsync(_folder["out/feed.xml"], Ct));

        _folder.Write("posts/2024-01-01-first.md", "---\ntitle: First, renamed\ndate: 2024-01-01\ncategories: [Python]\n---\nEdited.\n");
        await Eventually("/feed.xml", b => b.Contains("<title>First, renamed</title>", StringComparison.Ordinal));

        File.Delete(_folder["posts/2024-02-01-second.md"]);
        await Eventually("/feed.xml", b => !b.Contains("<title>Second</title>", StringComparison.Ordinal));
        // Its only post in HPC is gone, and so is the category's feed.
        using var gone = await Get("/categories/hpc/feed.xml");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_broken_post_is_reported_and_the_service_keeps_serving()
    {
        _folder.Write("posts/2024-04-01-broken.md", "---\ntitle: [broken\n---\nx");
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(25, Ct))
        {
            var health = JsonDocument.Parse(await _http.GetStringAsync("/healthz", Ct)).RootElement;
            if (health.GetProperty("feeds").GetProperty("errors").GetInt32() == 1)
            {
                var rss = await _http.GetStringAsync("/feed.xml", Ct);
                Assert.Contains("<title>First</title>", rss);
                XDocument.Parse(rss);
                return;
            }
        }
        Assert.Fail("the broken post was never reported in /healthz");
    }

    [Fact]
    public async Task A_scheduled_post_appears_when_its_date_passes_without_any_file_change()
    {
        var due = DateTimeOffset.UtcNow.AddSeconds(3);
        _folder.Write("posts/scheduled.md", $"---\ntitle: Scheduled\ndate: {due:yyyy-MM-dd HH:mm:ss} +00:00\n---\nLater.\n");
        await Task.Delay(800, Ct);
        Assert.DoesNotContain("Scheduled", await _http.GetStringAsync("/feed.xml", Ct), StringComparison.Ordinal);
        await Eventually("/feed.xml", b => b.Contains("<title>Scheduled</title>", StringComparison.Ordinal), seconds: 15);
        Assert.True(DateTimeOffset.UtcNow >= due.AddSeconds(-1));
    }

    [Fact]
    public async Task Readers_never_see_a_partial_feed_while_posts_change()
    {
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                _folder.Write($"posts/2024-05-{i % 28 + 1:00}-churn-{i}.md", $"---\ntitle: Churn {i}\ndate: 2024-05-{i % 28 + 1:00}\n---\n" + new string('x', 5000) + "\n");
                await Task.Delay(15, Ct);
            }
        }, Ct);
        var reads = 0;
        while (!writer.IsCompleted || reads < 50)
        {
            XDocument.Parse(await _http.GetStringAsync("/feed.xml", Ct));
            JsonDocument.Parse(await _http.GetStringAsync("/feed.json", Ct)).Dispose();
            reads++;
        }
        await writer;
        await Eventually("/healthz", b => JsonDocument.Parse(b).RootElement.GetProperty("feeds").GetProperty("published").GetInt32() == 32);
    }
}
