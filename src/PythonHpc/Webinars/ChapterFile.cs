using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using PythonHpc.Content;

namespace PythonHpc.Webinars;

/// <summary>
/// A webinar's chapters in the Podcasting 2.0 JSON chapters format (podcastindex.org namespace,
/// chapters/jsonChapters.md, version 1.2.0), which podcast apps and some feed readers show as a
/// table of contents; the RSS item links it with <c>podcast:chapters</c>.
/// </summary>
internal static class ChapterFile
{
    public const string ContentType = "application/json+chapters; charset=utf-8";

    /// <summary>The media type the <c>podcast:chapters</c> element gives, without parameters.</summary>
    public const string MediaType = "application/json+chapters";

    private static readonly JsonWriterOptions Options = new() { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string PathOf(Post post) => "chapters/" + Uri.EscapeDataString(post.Key) + ".json";

    /// <summary>The <c>chapters</c> array; summaries are not in the format, but the JSON Feed extension carries them.</summary>
    public static void WriteChapters(Utf8JsonWriter json, Webinar webinar, bool withSummaries)
    {
        json.WriteStartArray("chapters");
        foreach (var chapter in webinar.Chapters)
        {
            json.WriteStartObject();
            json.WriteNumber("startTime", (long)chapter.Start.TotalSeconds);
            json.WriteString("title", chapter.Title);
            json.WriteString("url", chapter.Link.AbsoluteUri);
            if (withSummaries && chapter.Summary is not null)
                json.WriteString("summary", chapter.Summary);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    public static byte[] Write(Post post, Webinar webinar)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.2.0");
            json.WriteString("title", post.Title);
            WriteChapters(json, webinar, withSummaries: false);
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
