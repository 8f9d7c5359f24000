using PythonHpc.Announcements;
using PythonHpc.Feeds;

namespace PythonHpc.Hosting;

/// <summary><c>/healthz</c>: 200 once feeds are served, 503 before; the body says what a monitor or an operator wants to know.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", async (FeedPublisher feeds, Announcer announcer, ScheduleHealth schedule, CancellationToken ct) =>
        {
            var status = feeds.Status;
            var scheduler = await schedule.Read(ct);
            var last = announcer.Last;
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
                    read = status.Read,
                    rebuilt = status.Rebuilt,
                },
                scheduler = new
                {
                    status = scheduler.State,
                    nextFiring = scheduler.NextFiring,
                    lastFiring = scheduler.LastFiring,
                },
                lastAnnouncement = last is not { } run ? null : new
                {
                    id = run.Announcement.Id,
                    title = run.Announcement.Title,
                    sent = run.Progress.Sent,
                    deferred = run.Progress.Deferred,
                    failed = run.Progress.Failed,
                    skipped = run.Progress.Skipped,
                    total = run.Progress.Total,
                    messagesPerSecond = Math.Round(run.Progress.PerSecond, 1),
                },
            };
            return Results.Json(body, statusCode: status is null ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
        });
        return app;
    }
}
