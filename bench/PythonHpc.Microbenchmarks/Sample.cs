using PythonHpc.Content;
using PythonHpc.Hosting;

namespace PythonHpc.Microbenchmarks;

/// <summary>
/// What the benchmarks read: the repository's own posts folder (its webinar post is what an
/// announcement is composed from), found by walking up from the benchmark's binaries, which
/// BenchmarkDotNet runs from a folder below the project's.
/// </summary>
internal static class Sample
{
    public const string Webinar = "2025-09-15-python-for-hpc";

    public static readonly SiteOptions Site = new() { BaseUrl = "https://blog.example.org/" };

    public static string PostsFolder { get; } = Find();

    public static ContentOptions Content() => new() { PostsPath = PostsFolder };

    public static string WebinarPath => Path.Combine(PostsFolder, Webinar + ".md");

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "posts", Webinar + ".md")))
                return Path.Combine(folder.FullName, "posts");
        throw new DirectoryNotFoundException($"no posts/{Webinar}.md above {AppContext.BaseDirectory}");
    }

    /// <summary>The webinar post as the service reads it, and its body.</summary>
    public static (PostLoader Loader, Post Post, string Body) Load()
    {
        var content = Content();
        var errors = Site.Validate().Concat(content.Validate()).ToList();
        if (errors.Count > 0)
            throw new ConfigurationException(errors);
        var loader = new PostLoader(Site, content);
        var result = loader.Load(WebinarPath);
        return (loader, result.Post ?? throw new InvalidOperationException(string.Join('\n', result.Problems)), result.Body!);
    }
}
