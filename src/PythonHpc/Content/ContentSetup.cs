namespace PythonHpc.Content;

internal static class ContentSetup
{
    public static IServiceCollection AddContent(this IServiceCollection services) => services
        .AddSingleton<PostLoader>()
        .AddSingleton<PostCatalog>()
        .AddSingleton<PostRenderer>()
        .AddSingleton<PostContent>();
}
