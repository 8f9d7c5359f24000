using System.Collections.Concurrent;
using PythonHpc.Content;
using PythonHpc.Hosting;
using PythonHpc.Webinars;

namespace PythonHpc.Feeds;

/// <summary>
/// Published posts in, feed files out: the main feed and one per category, each as RSS 2.0,
/// Atom 1.0 and JSON Feed 1.1. Only the posts some feed shows are rendered.
/// </summary>
internal sealed class FeedBuilder(SiteOptions site, FeedsOptions options)
{
    private readonly RssFeedWriter _rss = new(site);
    private readonly AtomFeedWriter _atom = new(site);
    private readonly JsonFeedWriter _json = new(site);
    private readonly ConcurrentDictionary<string, string> _slugs = new(StringComparer.Ordinal);

    /// <param name="published">Newest first, as <see cref="CatalogSnapshot.PublishedAt"/> gives them.</param>
    public IReadOnlyList<FeedDocument> Build(IReadOnlyList<Post> published, Func<Post, RenderedPost> render) =>
        Build(published, render, null).Documents;

    /// <summary>The files built, and every post some feed shows (built or not): the renderings worth keeping.</summary>
    internal sealed record Outcome(IReadOnlyList<FeedDocument> Documents, IReadOnlySet<Post> Shown);

    /// <param name="published">Newest first, as <see cref="CatalogSnapshot.PublishedAt"/> gives them.</param>
    /// <param name="scopes">Only the files of these <see cref="FeedScope"/>s; null: all of them.</param>
    public Outcome Build(IReadOnlyList<Post> published, Func<Post, RenderedPost> render, IReadOnlySet<string>? scopes)
    {
        var plans = Plan(published);
        var shown = plans.SelectMany(p => p.Posts).ToHashSet<Post>(ReferenceEqualityComparer.Instance);
        plans = scopes is null ? plans : [.. plans.Where(p => scopes.Contains(p.Folder))];
        var needed = plans.SelectMany(p => p.Posts).Distinct().ToList();
        var rendered = new ConcurrentDictionary<Post, RenderedPost>(ReferenceEqualityComparer.Instance);
        Parallel.ForEach(needed, post => rendered[post] = render(post));

        var documents = new ConcurrentBag<FeedDocument>();
        Parallel.ForEach(plans, plan =>
        {
            var feed = new Feed(plan.Title, plan.Description, plan.Folder, site.BaseUri,
                [.. plan.Posts.Select(p => new FeedItem(p, rendered[p]))]);
            foreach (var document in Write(feed))
                documents.Add(document);
        });
        foreach (var document in Chapters(published))
            if (scopes is null || scopes.Contains(document.Path))
                documents.Add(document);
        return new Outcome([.. documents.OrderBy(d => d.Path, StringComparer.Ordinal)], shown);
    }

    /// <summary>The slug of a category's name, computed once per name (a 10,000-post blog names a few hundred).</summary>
    public string SlugOf(string category) => _slugs.GetOrAdd(category, Slug.From);

    /// <summary>One chapters file per published webinar that has chapters (the first post of a key wins, in feed order).</summary>
    private static IEnumerable<FeedDocument> Chapters(IReadOnlyList<Post> published)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var post in published)
            if (post.Webinar is { Chapters.Count: > 0 } webinar && seen.Add(ChapterFile.PathOf(post)))
                yield return new FeedDocument(ChapterFile.PathOf(post), ChapterFile.ContentType, ChapterFile.Write(post, webinar));
    }

    private sealed record FeedPlan(string Title, string Description, string Folder, IReadOnlyList<Post> Posts);

    private List<FeedPlan> Plan(IReadOnlyList<Post> published)
    {
        var plans = new List<FeedPlan> { new(site.Title, site.Description, "", [.. published.Take(options.MaxItems)]) };
        var categories = new Dictionary<string, (string Name, List<Post> Posts)>(StringComparer.Ordinal);
        foreach (var post in published)
        {
            foreach (var category in post.Categories)
            {
                var slug = SlugOf(category);
                if (!categories.TryGetValue(slug, out var group))
                    categories[slug] = group = (category, []);
                if (group.Posts.Count < options.MaxItems && (group.Posts.Count == 0 || !ReferenceEquals(group.Posts[^1], post)))
                    group.Posts.Add(post);
            }
        }
        foreach (var (slug, (name, posts)) in categories)
            plans.Add(new FeedPlan($"{site.Title}: {name}", $"Posts in {name} from {site.Title}", FeedScope.Category(slug), posts));
        return plans;
    }

    private IEnumerable<FeedDocument> Write(Feed feed)
    {
        Uri Self(string file) => new(site.BaseUri, feed.Folder + file);
        yield return new FeedDocument(feed.Folder + "feed.xml", RssFeedWriter.ContentType, _rss.Write(feed, Self("feed.xml")));
        yield return new FeedDocument(feed.Folder + "atom.xml", AtomFeedWriter.ContentType, _atom.Write(feed, Self("atom.xml")));
        yield return new FeedDocument(feed.Folder + "feed.json", JsonFeedWriter.ContentType, _json.Write(feed, Self("feed.json")));
    }
}
