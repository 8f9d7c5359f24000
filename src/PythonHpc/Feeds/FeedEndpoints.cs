using System.Globalization;
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

    public static IEndpointRouteBuilder MapFeeds(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head], Serve);
        return app;
    }

    private static Task Serve(HttpContext context, string? path, FeedPublisher feeds)
    {
        var file = path is null ? null : feeds.Current.Find(path);
        if (file is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = file.ETag;
        headers.LastModified = file.LastModified.ToString("R", CultureInfo.InvariantCulture);
        headers.CacheControl = CacheControl;
        headers.Vary = HeaderNames.AcceptEncoding;
        if (NotModified(request, file))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        var (body, encoding) = Choose(request.Headers.AcceptEncoding.ToString(), file);
        response.ContentType = file.Document.ContentType;
        if (encoding is not null)
            headers.ContentEncoding = encoding;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }

    /// <summary>If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 §13.2.2); ETags compare weakly.</summary>
    internal static bool NotModified(HttpRequest request, FeedFile file)
    {
        var ifNoneMatch = request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            var ours = Opaque(file.ETag);
            foreach (var header in ifNoneMatch)
                foreach (var tag in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    if (tag == "*" || Opaque(tag).SequenceEqual(ours))
                        return true;
            return false;
        }
        return DateTimeOffset.TryParseExact(request.Headers.IfModifiedSince.ToString(), "R", CultureInfo.InvariantCulture,
                   DateTimeStyles.AssumeUniversal, out var since)
               && file.LastModified <= since;
    }

    private static ReadOnlySpan<char> Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag.AsSpan(2) : tag.AsSpan();

    /// <summary>Brotli, then gzip, then the bytes as they are, as far as Accept-Encoding allows (q=0 refuses).</summary>
    internal static (byte[] Body, string? Encoding) Choose(string acceptEncoding, FeedFile file)
    {
        if (acceptEncoding.Length == 0)
            return (file.Document.Bytes, null);
        var (brotli, gzip) = (Accepts(acceptEncoding, "br"), Accepts(acceptEncoding, "gzip"));
        if (brotli && file.Brotli is { } br)
            return (br, "br");
        if (gzip && file.Gzip is { } gz)
            return (gz, "gzip");
        return (file.Document.Bytes, null);
    }

    private static bool Accepts(string header, string coding)
    {
        bool? star = null;
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var semicolon = part.IndexOf(';');
            var name = (semicolon < 0 ? part : part[..semicolon]).Trim();
            var accepted = semicolon < 0 || Quality(part[(semicolon + 1)..]) > 0;
            if (name.Equals(coding, StringComparison.OrdinalIgnoreCase))
                return accepted;
            if (name == "*")
                star = accepted;
        }
        return star ?? false;
    }

    private static double Quality(string parameters)
    {
        foreach (var parameter in parameters.Split(';', StringSplitOptions.TrimEntries))
            if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                && double.TryParse(parameter.AsSpan(2), NumberStyles.Float, CultureInfo.InvariantCulture, out var q))
                return q;
        return 1;
    }
}
