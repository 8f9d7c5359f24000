using System.Security.Cryptography;
using System.ServiceModel.Syndication;
using System.Text;
using PythonHpc.Hosting;

namespace PythonHpc.Feeds;

/// <summary>
/// Atom 1.0 (RFC 4287) through System.ServiceModel.Syndication. Every date and id is set explicitly:
/// left unset, the formatter writes a random feed id and "now" as <c>updated</c> on every build.
/// </summary>
internal sealed class AtomFeedWriter(SiteOptions site)
{
    public const string ContentType = "application/atom+xml; charset=utf-8";

    public byte[] Write(Feed feed, Uri self)
    {
        var atom = new SyndicationFeed(feed.Title, feed.Description, feed.Home)
        {
            Id = FeedId(self),
            LastUpdatedTime = feed.Updated,
            Language = site.Language,
            Generator = "pythonhpc",
        };
        atom.Links.Add(new SyndicationLink(self, "self", null, "application/atom+xml", 0));
        // RFC 4287 §4.2.1: entries without an author take the feed's.
        atom.Authors.Add(new SyndicationPerson { Name = site.Author });
        atom.Items = feed.Items.Select(Entry);
        return FeedXml.Write(w => new Atom10FeedFormatter(atom).WriteTo(w));
    }

    private static SyndicationItem Entry(FeedItem item)
    {
        var post = item.Post;
        var entry = new SyndicationItem(post.Title, (SyndicationContent?)null, post.Permalink, post.Id, post.Updated)
        {
            PublishDate = post.Date,
            Content = new TextSyndicationContent(item.Content.Html, TextSyndicationContentKind.Html),
        };
        if (item.Content.Summary.Length > 0)
            entry.Summary = new TextSyndicationContent(item.Content.Summary);
        foreach (var author in post.Authors)
            entry.Authors.Add(new SyndicationPerson { Name = author });
        foreach (var category in post.Categories)
            entry.Categories.Add(new SyndicationCategory(category));
        return entry;
    }

    /// <summary>
    /// A name-based UUID (RFC 9562 §5.5, version 5) of the feed's address without its scheme: the
    /// same for every build and every node, unchanged by a move from http to https, and a valid IRI
    /// without claiming a date, as a tag URI would.
    /// </summary>
    internal static string FeedId(Uri self)
    {
        var name = self.IdnHost.ToLowerInvariant() + self.PathAndQuery;
        // The URL namespace of RFC 9562 Appendix A.
        Span<byte> input = stackalloc byte[16 + Encoding.UTF8.GetByteCount(name)];
        Guid.Parse("6ba7b811-9dad-11d1-80b4-00c04fd430c8").TryWriteBytes(input, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, input[16..]);
        Span<byte> hash = stackalloc byte[20];
#pragma warning disable CA5350 // RFC 9562 defines version 5 with SHA-1; this names a feed, it protects nothing.
        SHA1.HashData(input, hash);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return "urn:uuid:" + new Guid(hash[..16], bigEndian: true).ToString("D");
    }
}
