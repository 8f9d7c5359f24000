using PythonHpc.Content;
using PythonHpc.Feeds;
using PythonHpc.Hosting;

namespace PythonHpc.Tests.Support;

/// <summary>Validated options for a posts folder, as the service would build them.</summary>
internal static class Settings
{
    public static (SiteOptions Site, ContentOptions Content, FeedsOptions Feeds) For(
        string postsFolder, string baseUrl = "https://example.org/blog/", string timeZone = "UTC",
        string permalink = "posts/{path}.html", int maxItems = 20, long maxFileBytes = 16 * 1024 * 1024)
    {
        var site = new SiteOptions { BaseUrl = baseUrl, TimeZone = timeZone, Title = "Test blog", Author = "Site Author" };
        var content = new ContentOptions { PostsPath = postsFolder, Permalink = permalink, MaxFileBytes = maxFileBytes };
        var feeds = new FeedsOptions { MaxItems = maxItems };
        var errors = site.Validate().Concat(content.Validate()).Concat(feeds.Validate()).ToList();
        Assert.Empty(errors);
        return (site, content, feeds);
    }

    public static PostLoader Loader(string postsFolder, string baseUrl = "https://example.org/blog/", string timeZone = "UTC",
        string permalink = "posts/{path}.html", long maxFileBytes = 16 * 1024 * 1024)
    {
        var (site, content, _) = For(postsFolder, baseUrl, timeZone, permalink, maxFileBytes: maxFileBytes);
        return new PostLoader(site, content);
    }
}
