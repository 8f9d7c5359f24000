using PythonHpc.Content;
using PythonHpc.Feeds;

namespace PythonHpc.Tests.Support;

/// <summary>Builds the feeds of a posts folder in process, as <c>pythonhpc build</c> does.</summary>
internal static class FeedBuild
{
    public static (IReadOnlyList<FeedDocument> Documents, CatalogSnapshot Snapshot) Run(
        string postsFolder, string baseUrl = "https://example.org/blog/", string timeZone = "Europe/Rome", int maxItems = 20)
    {
        var (site, content, feeds) = Settings.For(postsFolder, baseUrl, timeZone, maxItems: maxItems);
        var loader = new PostLoader(site, content);
        var snapshot = new PostCatalog(content, loader).Refresh();
        var documents = new FeedBuilder(site, feeds).Build(snapshot.PublishedAt(DateTimeOffset.UtcNow), new PostContent(loader, new PostRenderer()).Render);
        return (documents, snapshot);
    }

    public static string Testdata(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "testdata", .. parts]);
}
