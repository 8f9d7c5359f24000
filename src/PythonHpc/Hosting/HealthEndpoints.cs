using PythonHpc.Feeds;

namespace PythonHpc.Hosting;

/// <summary><c>/healthz</c>: 200 once feeds are served, 503 before; the body says what a monitor or an operator wants to know.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", (FeedPublisher feeds) =>
        {
            var status = feeds.Status;
            var body = new
            {
                status = status is null ? "starting" : "ok",
                feeds = status is null ? null : new
                {
                    builtAt = status.BuiltAt,
                    buildMilliseconds = Math.Round(status.Took.TotalMilliseconds, 1),
                    posts = status.Posts,
                    published = status.Published,
                    errors = status.Errors,
                    warnings = status.Warnings,
                    files = status.Feeds,
                    nextPublication = status.NextPublication,
                },
            };
            return Results.Json(body, statusCode: status is null ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
        });
        return app;
    }
}
