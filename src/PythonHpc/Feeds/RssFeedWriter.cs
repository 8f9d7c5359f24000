using System.ServiceModel.Syndication;
using System.Xml;
using PythonHpc.Hosting;

namespace PythonHpc.Feeds;

/// <summary>
/// RSS 2.0 (rssboard.org/rss-specification) through System.ServiceModel.Syndication, with what that
/// formatter leaves out added as extensions: the full HTML in <c>content:encoded</c> (the formatter's
/// own <c>a10:content</c> is ignored by RSS readers), <c>dc:creator</c> for authors known only by name
/// (<c>&lt;author&gt;</c> must be an email address), and dates with a numeric zone.
/// </summary>
internal sealed class RssFeedWriter(SiteOptions site)
{
    public const string ContentType = "application/rss+xml; charset=utf-8";

    public byte[] Write(Feed feed, Uri self)
    {
        var channel = new Channel(feed) { Language = site.Language, Generator = "pythonhpc" };
        channel.Links.Add(new SyndicationLink(self, "self", null, "application/rss+xml", 0));
        channel.AttributeExtensions.Add(new XmlQualifiedName("content", "http://www.w3.org/2000/xmlns/"), FeedXml.ContentNamespace);
        channel.AttributeExtensions.Add(new XmlQualifiedName("dc", "http://www.w3.org/2000/xmlns/"), FeedXml.DublinCoreNamespace);
        if (feed.Items.Any(i => i.Post.Webinar is not null))
        {
            channel.AttributeExtensions.Add(new XmlQualifiedName("media", "http://www.w3.org/2000/xmlns/"), FeedXml.MediaNamespace);
            channel.AttributeExtensions.Add(new XmlQualifiedName("podcast", "http://www.w3.org/2000/xmlns/"), FeedXml.PodcastNamespace);
        }
        channel.Items = feed.Items.Select(i => new Item(i, site.BaseUri));
        return FeedXml.Write(w => new Rss20FeedFormatter(channel).WriteTo(w));
    }

    private sealed class Channel(Feed feed) : SyndicationFeed(feed.Title, feed.Description, feed.Home)
    {
        protected override void WriteElementExtensions(XmlWriter writer, string version)
        {
            base.WriteElementExtensions(writer, version);
            writer.WriteElementString("pubDate", FeedXml.Rfc822(feed.Published));
            writer.WriteElementString("lastBuildDate", FeedXml.Rfc822(feed.Updated));
        }
    }

    private sealed class Item : SyndicationItem
    {
        private readonly FeedItem _item;
        private readonly Uri _baseUri;

        public Item(FeedItem item, Uri baseUri)
            : base(item.Post.Title, item.Content.Summary.Length > 0 ? item.Content.Summary : null, item.Post.Permalink, item.Post.Id, default)
        {
            _item = item;
            _baseUri = baseUri;
            foreach (var category in item.Post.Categories)
                Categories.Add(new SyndicationCategory(category));
        }

        protected override void WriteElementExtensions(XmlWriter writer, string version)
        {
            base.WriteElementExtensions(writer, version);
            writer.WriteElementString("pubDate", FeedXml.Rfc822(_item.Post.Date));
            foreach (var author in _item.Post.Authors)
                writer.WriteElementString("dc", "creator", FeedXml.DublinCoreNamespace, author);
            // content:encoded (web.resource.org/rss/1.0/modules/content/) holds the entity-free HTML in CDATA;
            // the writer splits any "]]>" inside into two sections.
            writer.WriteStartElement("content", "encoded", FeedXml.ContentNamespace);
            writer.WriteCData(_item.Content.Html);
            writer.WriteEndElement();
            if (_item.Post.Webinar is { } webinar)
                WriteWebinar(writer, webinar);
        }

        /// <summary>
        /// The recording as Media RSS (rssboard.org/media-rss: <c>media:content</c> and <c>media:thumbnail</c>)
        /// and its chapters as Podcasting 2.0's <c>podcast:chapters</c>.
        /// </summary>
        private void WriteWebinar(XmlWriter writer, Webinars.Webinar webinar)
        {
            writer.WriteStartElement("media", "content", FeedXml.MediaNamespace);
            writer.WriteAttributeString("url", webinar.Video.WatchUrl.AbsoluteUri);
            writer.WriteAttributeString("medium", "video");
            writer.WriteEndElement();
            if (webinar.Thumbnail(_item.Post) is { } thumbnail)
            {
                writer.WriteStartElement("media", "thumbnail", FeedXml.MediaNamespace);
                writer.WriteAttributeString("url", thumbnail.AbsoluteUri);
                writer.WriteEndElement();
            }
            if (webinar.Chapters.Count > 0)
            {
                writer.WriteStartElement("podcast", "chapters", FeedXml.PodcastNamespace);
                writer.WriteAttributeString("url", new Uri(_baseUri, Webinars.ChapterFile.PathOf(_item.Post)).AbsoluteUri);
                writer.WriteAttributeString("type", Webinars.ChapterFile.MediaType);
                writer.WriteEndElement();
            }
        }
    }
}
