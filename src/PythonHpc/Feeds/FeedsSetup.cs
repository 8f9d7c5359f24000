namespace PythonHpc.Feeds;

internal static class FeedsSetup
{
    public static IServiceCollection AddFeeds(this IServiceCollection services) => services
        .AddSingleton<FeedBuilder>()
        .AddSingleton<FeedPublisher>()
        .AddHostedService(s => s.GetRequiredService<FeedPublisher>());
}
