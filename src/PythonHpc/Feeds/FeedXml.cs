using System.Globalization;
using System.Text;
using System.Xml;

namespace PythonHpc.Feeds;

/// <summary>What RSS and Atom writing share: one XmlWriter setup, the same on every machine.</summary>
internal static class FeedXml
{
    public const string ContentNamespace = "http://purl.org/rss/1.0/modules/content/";
    public const string DublinCoreNamespace = "http://purl.org/dc/elements/1.1/";
    public const string AtomNamespace = "http://www.w3.org/2005/Atom";
    public const string PodcastNamespace = "https://podcastindex.org/namespace/1.0";
    public const string MediaNamespace = "http://search.yahoo.com/mrss/";

    private static readonly XmlWriterSettings Settings = new()
    {
        // UTF-8 without a BOM, LF line ends, the same bytes whatever the machine's culture or OS.
        Encoding = new UTF8Encoding(false),
        Indent = true,
        IndentChars = "  ",
        NewLineChars = "\n",
        NewLineHandling = NewLineHandling.Replace,
        CheckCharacters = true,
    };

    public static byte[] Write(Action<XmlWriter> write)
    {
        // Feeds of full posts run to hundreds of kilobytes: start big rather than copy while growing.
        using var stream = new MemoryStream(256 * 1024);
        using (var writer = XmlWriter.Create(stream, Settings))
            write(writer);
        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    /// <summary>
    /// RFC 822 §5 as RFC 1123 amends it (a four-digit year), with a numeric zone: RSS 2.0 asks for it,
    /// and the "Z" that System.ServiceModel.Syndication writes for UTC is one readers misparse.
    /// </summary>
    public static string Rfc822(DateTimeOffset date)
    {
        var offset = date.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        return date.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture)
            + sign + offset.Hours.ToString("00", CultureInfo.InvariantCulture) + offset.Minutes.ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 3339, as Atom (RFC 4287 §3.3) and JSON Feed use.</summary>
    public static string Rfc3339(DateTimeOffset date) =>
        date.ToString(date.Millisecond == 0 ? "yyyy-MM-dd'T'HH:mm:sszzz" : "yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
}
