using System.Text.Json;
using PythonHpc.Feeds;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Feeds;

/// <summary>
/// The feeds as readers outside .NET see them: Debian's feedparser (the library behind many
/// readers) must parse every file without a "bozo" flag, and xmllint, which rejects whatever
/// XML 1.0 rejects, must accept every XML file.
/// </summary>
public sealed class FeedReaderTests : IDisposable
{
    private const string Title = "Tom & Jerry <3 — \"quotes\" and ]]> in a title";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string[] WriteOut(IReadOnlyList<FeedDocument> documents)
    {
        FeedOutput.Write(_folder["out"], documents);
        return [.. documents.Select(d => _folder["out/" + d.Path])];
    }

    private static List<JsonElement> Parse(IEnumerable<string> files)
    {
        Tool.RequirePythonModule("feedparser", "python3-feedparser");
        var result = Tool.Run(Tool.Python, [FeedBuild.Testdata("feedcheck.py"), .. files]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray()];
    }

    private static void AssertWellFormedXml(IEnumerable<string> files)
    {
        var xmllint = Tool.Require("xmllint", "libxml2-utils");
        foreach (var file in files.Where(f => f.EndsWith(".xml", StringComparison.Ordinal)))
        {
            var result = Tool.Run(xmllint, ["--noout", "--nonet", file]);
            Assert.True(result.ExitCode == 0, file + "\n" + result);
        }
    }

    private static void AssertNoBozo(List<JsonElement> feeds)
    {
        foreach (var feed in feeds)
        {
            Assert.False(feed.GetProperty("bozo").GetBoolean(), feed.GetProperty("file") + ": " + feed.GetProperty("bozo_exception"));
            var file = feed.GetProperty("file").GetString()!;
            var expected = file.Contains("/chapters/", StringComparison.Ordinal) ? "chapters"
                : file.EndsWith(".json", StringComparison.Ordinal) ? "json1"
                : file.EndsWith("atom.xml", StringComparison.Ordinal) ? "atom10" : "rss20";
            Assert.Equal(expected, feed.GetProperty("version").GetString());
            foreach (var entry in feed.GetProperty("entries").EnumerateArray().Where(_ => expected != "chapters"))
            {
                Assert.StartsWith("https://example.org/", entry.GetProperty("link").GetString());
                Assert.NotEqual(JsonValueKind.Null, entry.GetProperty("published_parsed").ValueKind);
                foreach (var content in entry.GetProperty("content").EnumerateArray())
                {
                    Assert.DoesNotContain("<script", content.GetString(), StringComparison.OrdinalIgnoreCase);
                    Assert.DoesNotMatch("(href|src)=\"(?!https?:|mailto:)", content.GetString()!);
                }
            }
        }
    }

    [Fact]
    public void The_golden_posts_feeds_parse_cleanly_and_say_the_same_in_every_format()
    {
        var (documents, _) = FeedBuild.Run(FeedBuild.Testdata("golden", "basic", "posts"));
        var files = WriteOut(documents);
        AssertWellFormedXml(files);
        var feeds = Parse(files);
        AssertNoBozo(feeds);

        var main = feeds.Where(f => Path.GetFileName(Path.GetDirectoryName(f.GetProperty("file").GetString())) == "out").ToList();
        Assert.Equal(3, main.Count);
        foreach (var feed in main)
        {
            var entries = feed.GetProperty("entries").EnumerateArray().Skip(1).ToList();
            Assert.Equal("Scaling Python: a webinar", feed.GetProperty("entries")[0].GetProperty("title").GetString());
            Assert.Equal([Title, "Callouts and cells", "A notebook"], entries.Select(e => e.GetProperty("title").GetString()));
            Assert.Equal(["tag:example.org,2025-03-01:blog/tom-and-jerry", "tag:example.org,2025-02-10:blog/callouts", "tag:example.org,2024-12-24:blog/notebook"],
                entries.Select(e => e.GetProperty("id").GetString()));
            // 18:45 in Rome on 2025-03-01 is 17:45 UTC: the zone was applied once, in the right direction.
            Assert.Equal([2025, 3, 1, 17, 45, 0], entries[0].GetProperty("published_parsed").EnumerateArray().Select(v => v.GetInt32()));
            Assert.Equal(["C#", "Träffar"], entries[0].GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            Assert.Contains("🐍", entries[0].GetProperty("content")[0].GetString());
            Assert.Contains("שלום עולם", entries[0].GetProperty("content")[0].GetString());
            Assert.Contains("<code>]]&gt;</code>", entries[0].GetProperty("content")[0].GetString());
            Assert.Equal("Escaping, once.", entries[0].GetProperty("summary").GetString());
        }
        var rss = main.Single(f => f.GetProperty("version").GetString() == "rss20");
        Assert.Equal(["Ada Lovelace", "Grace Hopper"], rss.GetProperty("entries")[1].GetProperty("authors").EnumerateArray().Select(a => a.GetString()));
        var webinar = rss.GetProperty("entries")[0];
        Assert.Equal(["https://www.youtube.com/watch?v=Zv4DcRy1yeg"], webinar.GetProperty("media_content").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["https://i.ytimg.com/vi/Zv4DcRy1yeg/hqdefault.jpg"], webinar.GetProperty("media_thumbnail").EnumerateArray().Select(m => m.GetString()));
        var chapters = feeds.Single(f => f.GetProperty("file").GetString()!.EndsWith("chapters/2025-03-10-webinar.json", StringComparison.Ordinal));
        Assert.Equal([0, 754, 3723], chapters.GetProperty("entries").EnumerateArray().Select(c => c.GetProperty("start").GetInt32()));
        var atom = main.Single(f => f.GetProperty("version").GetString() == "atom10");
        Assert.Equal("text/html", atom.GetProperty("entries")[0].GetProperty("content_types")[0].GetString());
        Assert.Equal([2025, 3, 10, 16, 0, 0], atom.GetProperty("updated_parsed").EnumerateArray().Select(v => v.GetInt32()));
    }

    [Fact]
    public void The_sample_posts_build_feeds_that_parse_cleanly()
    {
        var samples = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "testdata", "samples"));
        var (documents, snapshot) = FeedBuild.Run(samples);
        Assert.Empty(snapshot.Problems);
        Assert.Contains(documents, d => d.Path == "categories/python/feed.xml");
        var files = WriteOut(documents);
        AssertWellFormedXml(files);
        var feeds = Parse(files);
        AssertNoBozo(feeds);
        var rss = feeds.Single(f => f.GetProperty("file").GetString()!.EndsWith("out/feed.xml", StringComparison.Ordinal));
        Assert.Contains(rss.GetProperty("entries").EnumerateArray(), e => e.GetProperty("title").GetString() == "Python for HPC");
        Assert.DoesNotContain(rss.GetProperty("entries").EnumerateArray(), e => e.GetProperty("title").GetString()!.Contains("mpi4py", StringComparison.Ordinal));
    }

    [Fact]
    public void Broken_and_hostile_posts_leave_the_feeds_well_formed()
    {
        var posts = _folder["posts"];
        _folder.Write("posts/2024-01-01-good.md", "---\ntitle: Good\ndate: 2024-01-01\n---\nFine.");
        _folder.Write("posts/2024-01-02-controls.md", "---\ntitle: \"Bell\\a and form\\f feed\"\ndate: 2024-01-02\n---\nNUL \u0000 here, form feed \f there, vertical tab \v, escape \u001b.\n");
        _folder.Write("posts/2024-01-03-yaml.md", "---\ntitle: [broken\n---\nx");
        _folder.Write("posts/2024-01-04-date.md", "---\ntitle: Date\ndate: 2024-02-30\n---\nx");
        _folder.Write("posts/2024-01-05-latin1.md", [.. "---\ntitle: Latin\ndate: 2024-01-05\n---\nCaf"u8.ToArray(), 0xE9]);
        _folder.Write("posts/2024-01-06-empty.md", "");
        _folder.Write("posts/2024-01-07-entities.md", "---\ntitle: \"&amp; &lt;b&gt; &#0; &#xFFFE;\"\ndate: 2024-01-07\n---\n&#0; &#xFFFF; &bogus; <b>unclosed <i>tags\n\n<![CDATA[ ]]> ]]> <?php echo 1 ?>\n");
        _folder.Write("posts/2024-01-08-nb.ipynb", "{\"cells\": [{\"cell_type\": \"raw\", \"source\": \"---\\ntitle: NB\\fcontrol\\ndate: 2024-01-08\\n---\"}, {\"cell_type\": \"markdown\", \"source\": \"text \\u000c \\u0007 here\"}], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}");
        var (documents, snapshot) = FeedBuild.Run(posts);
        Assert.Equal(["2024-01-03-yaml.md", "2024-01-04-date.md", "2024-01-05-latin1.md", "2024-01-06-empty.md"],
            snapshot.Problems.Where(p => p.Severity == PythonHpc.Content.Severity.Error).Select(p => Path.GetFileName(p.File)).Order());
        Assert.Equal(["Good", "Bell and form feed", "&amp; &lt;b&gt; &#0; &#xFFFE;", "NBcontrol"], snapshot.Posts.OrderBy(p => p.Date).Select(p => p.Title));
        var files = WriteOut(documents);
        AssertWellFormedXml(files);
        AssertNoBozo(Parse(files));
    }
}
