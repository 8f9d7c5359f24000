using System.Globalization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace PythonHpc.Feeds;

/// <summary>
/// Serves the feeds from memory as a static file server would: strong caching headers, conditional
/// requests answered with 304 (RFC 9110 §13), and the gzip or Brotli form chosen from
/// Accept-Encoding, compressed once per version of a feed.
/// </summary>
internal static class FeedEndpoints
{
    /// <summary>Readers poll every few minutes; a minute of freshness spares a burst, the validators do the rest.</summary>
    private const string CacheControl = "public, max-age=60";

    /// <summary>
    /// Serves the feeds ahead of routing and of every other middleware: a feed request costs a
    /// dictionary lookup and header comparisons, as a static file server's does. Other paths go on.
    /// </summary>
    public static IApplicationBuilder UseFeeds(this IApplicationBuilder app)
    {
        var feeds = app.ApplicationServices.GetRequiredService<FeedPublisher>();
        return app.Use((context, next) =>
        {
            var request = context.Request;
            if (!(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                || request.Path.Value is not ['/', .. var path] || feeds.Current.Find(path) is not { } file)
                return next(context);
            return Serve(context, file);
        });
    }

    private static Task Serve(HttpContext context, FeedFile file)
    {
        // Every value below was computed when the feed was built: a request costs a lookup, a few
        // header comparisons and a copy of bytes already compressed.
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = file.ETag;
        headers.LastModified = file.LastModifiedText;
        headers.CacheControl = CacheControl;
        headers.Vary = HeaderNames.AcceptEncoding;
        if (NotModified(request, file))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        var (body, encoding) = Choose(request.Headers.AcceptEncoding, file);
        response.ContentType = file.ContentType;
        if (encoding is not null)
            headers.ContentEncoding = encoding;
        response.ContentLength = body?.Length ?? file.Length;
        if (HttpMethods.IsHead(request.Method))
            return Task.CompletedTask;
        return response.Body.WriteAsync(body ?? file.Bytes).AsTask();
    }

    /// <summary>If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 §13.2.2); ETags compare weakly (§8.8.3.2).</summary>
    internal static bool NotModified(HttpRequest request, FeedFile file)
    {
        var ifNoneMatch = request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            var ours = Opaque(file.ETag);
            foreach (var header in ifNoneMatch)
                foreach (var range in (header ?? "").AsSpan().Split(','))
                {
                    var tag = (header ?? "").AsSpan()[range].Trim();
                    if (tag is "*" || Opaque(tag).SequenceEqual(ours))
                        return true;
                }
            return false;
        }
        return DateTimeOffset.TryParseExact(request.Headers.IfModifiedSince.ToString(), "R", CultureInfo.InvariantCulture,
                   DateTimeStyles.AssumeUniversal, out var since)
               && file.LastModified <= since;
    }

    private static ReadOnlySpan<char> Opaque(ReadOnlySpan<char> tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;

    /// <summary>
    /// Brotli, then gzip, as far as Accept-Encoding allows (q=0 refuses); null for the bytes as they are. Brotli at its best setting takes a few hundred milliseconds per feed,
    /// so it is made on the first request that accepts it and kept for the next ones.
    /// </summary>
    internal static (byte[]? Body, string? Encoding) Choose(StringValues acceptEncoding, FeedFile file)
    {
        if (acceptEncoding.Count == 0)
            return (null, null);
        bool brotli = false, gzip = false;
        foreach (var header in acceptEncoding)
        {
            brotli |= Accepts(header, "br");
            gzip |= Accepts(header, "gzip");
        }
        if (brotli && file.Brotli is { } br)
            return (br, "br");
        if (gzip && file.Gzip is { } gz)
            return (gz, "gzip");
        return (null, null);
    }

    /// <summary>Whether <paramref name="header"/> accepts <paramref name="coding"/>, by name or by <c>*</c> (RFC 9110 §12.5.3); no allocation.</summary>
    private static bool Accepts(string? header, string coding)
    {
        var text = (header ?? "").AsSpan();
        bool? star = null;
        foreach (var range in text.Split(','))
        {
            var part = text[range];
            var semicolon = part.IndexOf(';');
            var name = (semicolon < 0 ? part : part[..semicolon]).Trim();
            var accepted = semicolon < 0 || Quality(part[(semicolon + 1)..]) > 0;
            if (name.Equals(coding, StringComparison.OrdinalIgnoreCase))
                return accepted;
            if (name is "*")
                star = accepted;
        }
        return star ?? false;
    }

    private static double Quality(ReadOnlySpan<char> parameters)
    {
        foreach (var range in parameters.Split(';'))
        {
            var parameter = parameters[range].Trim();
            if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                && double.TryParse(parameter[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out var q))
                return q;
        }
        return 1;
    }
}
