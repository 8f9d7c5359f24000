using BenchmarkDotNet.Attributes;
using PythonHpc.Content;
using PythonHpc.Feeds;

namespace PythonHpc.Microbenchmarks;

/// <summary>Writing one feed of 20 items with full content, in each format (what a rebuild does per feed).</summary>
[MemoryDiagnoser]
public class FeedBenchmarks
{
    private readonly RssFeedWriter _rss = new(Sample.Site);
    private readonly AtomFeedWriter _atom = new(Sample.Site);
    private readonly JsonFeedWriter _json = new(Sample.Site);
    private readonly Uri _self = new(Sample.Site.BaseUri, "feed.xml");
    private Feed _feed = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (_, post, body) = Sample.Load();
        var rendered = new PostRenderer().Render(post, body);
        _feed = new Feed("Bench", "Twenty items", "", Sample.Site.BaseUri, [.. Enumerable.Repeat(new FeedItem(post, rendered), 20)]);
    }

    [Benchmark]
    public byte[] Rss() => _rss.Write(_feed, _self);

    [Benchmark]
    public byte[] Atom() => _atom.Write(_feed, _self);

    [Benchmark]
    public byte[] Json() => _json.Write(_feed, _self);
}
