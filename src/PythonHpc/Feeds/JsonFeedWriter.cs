using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using PythonHpc.Hosting;

namespace PythonHpc.Feeds;

/// <summary>JSON Feed 1.1 (jsonfeed.org/version/1.1), written field by field so its order and bytes never vary.</summary>
internal sealed class JsonFeedWriter(SiteOptions site)
{
    public const string ContentType = "application/feed+json; charset=utf-8";

    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        NewLine = "\n",
        // Served as application/feed+json, never inside HTML: text stays readable, not \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public byte[] Write(Feed feed, Uri self)
    {
        var buffer = new ArrayBufferWriter<byte>(256 * 1024);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("version", "https://jsonfeed.org/version/1.1");
            json.WriteString("title", feed.Title);
            json.WriteString("home_page_url", feed.Home.AbsoluteUri);
            json.WriteString("feed_url", self.AbsoluteUri);
            if (!string.IsNullOrEmpty(feed.Description))
                json.WriteString("description", feed.Description);
            if (!string.IsNullOrEmpty(site.Language))
                json.WriteString("language", site.Language);
            WriteAuthors(json, [site.Author]);
            json.WriteStartArray("items");
            foreach (var item in feed.Items)
                WriteItem(json, item, site.BaseUri);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteItem(Utf8JsonWriter json, FeedItem item, Uri baseUri)
    {
        var post = item.Post;
        json.WriteStartObject();
        json.WriteString("id", post.Id);
        json.WriteString("url", post.Permalink.AbsoluteUri);
        json.WriteString("title", post.Title);
        json.WriteString("content_html", item.Content.Html);
        if (item.Content.Summary.Length > 0)
            json.WriteString("summary", item.Content.Summary);
        if (post.Image is not null)
            json.WriteString("image", post.Image.AbsoluteUri);
        json.WriteString("date_published", FeedXml.Rfc3339(post.Date));
        json.WriteString("date_modified", FeedXml.Rfc3339(post.Updated));
        if (post.Authors.Count > 0)
            WriteAuthors(json, post.Authors);
        if (post.Categories.Count > 0)
        {
            json.WriteStartArray("tags");
            foreach (var category in post.Categories)
                json.WriteStringValue(category);
            json.WriteEndArray();
        }
        if (post.Webinar is { } webinar)
            WriteChapters(json, post, webinar, baseUri);
        json.WriteEndObject();
    }

    /// <summary>
    /// JSON Feed 1.1 lets publishers add keys that start with an underscore; readers that do not
    /// know one ignore it. <c>_chapters</c> carries the video and its chapters with their summaries.
    /// </summary>
    private static void WriteChapters(Utf8JsonWriter json, Content.Post post, Webinars.Webinar webinar, Uri baseUri)
    {
        json.WriteStartObject("_chapters");
        json.WriteString("about", "https://github.com/Podcastindex-org/podcast-namespace/blob/main/chapters/jsonChapters.md");
        json.WriteString("video", webinar.Video.WatchUrl.AbsoluteUri);
        if (webinar.Thumbnail(post) is { } thumbnail)
            json.WriteString("thumbnail", thumbnail.AbsoluteUri);
        if (webinar.Chapters.Count > 0)
            json.WriteString("url", new Uri(baseUri, Webinars.ChapterFile.PathOf(post)).AbsoluteUri);
        Webinars.ChapterFile.WriteChapters(json, webinar, withSummaries: true);
        json.WriteEndObject();
    }

    private static void WriteAuthors(Utf8JsonWriter json, IEnumerable<string> names)
    {
        json.WriteStartArray("authors");
        foreach (var name in names)
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
