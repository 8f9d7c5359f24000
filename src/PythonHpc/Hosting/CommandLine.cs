using System.CommandLine;
using System.Diagnostics;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Feeds;
using PythonHpc.Mail;
using PythonHpc.Subscribers;

namespace PythonHpc.Hosting;

/// <summary>
/// <c>pythonhpc</c> and its commands. Exit codes: 0 success; 1 configuration or usage error;
/// 2 done, but some input was rejected (each problem on stderr as <c>FILE:LINE: error: message</c>).
/// </summary>
internal static class CommandLine
{
    public const int Success = 0;
    public const int ConfigurationError = 1;
    public const int InputRejected = 2;

    public static RootCommand Create(Func<IReadOnlyDictionary<string, string?>, Task<int>> runService)
    {
        var root = new RootCommand("Publishes a blog's posts as RSS, Atom and JSON feeds and announces its webinars by email. Without a command, runs the service.");
        root.SetAction(_ => runService(new Dictionary<string, string?>()));
        root.Subcommands.Add(FeedCommand("build", "Build the feeds once into the output folder and exit.", write: true));
        root.Subcommands.Add(FeedCommand("check", "Read every post and report its problems, without writing anything.", write: false));
        root.Subcommands.Add(AnnounceCommand.Create());
        root.Subcommands.Add(SubscribersCommand.Create());
        return root;
    }

    /// <summary>Runs <paramref name="args"/>, leaving SIGTERM and Ctrl+C to the service's host, which stops gracefully.</summary>
    public static Task<int> RunAsync(RootCommand root, string[] args) =>
        root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

    private static Command FeedCommand(string name, string description, bool write)
    {
        var posts = new Option<string>("--posts") { Description = "Folder of posts (Content:PostsPath)." };
        var output = new Option<string>("--out") { Description = "Folder the feeds are written to (Feeds:OutputPath)." };
        var baseUrl = new Option<string>("--base-url") { Description = "Absolute URL of the blog (Site:BaseUrl)." };
        var maxItems = new Option<int?>("--max-items") { Description = "Items per feed (Feeds:MaxItems)." };
        var command = new Command(name, description) { posts, baseUrl, maxItems };
        if (write)
            command.Options.Add(output);
        command.SetAction(parse =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                    overrides[key] = value;
            }
            Set("Content:PostsPath", parse.GetValue(posts));
            Set("Feeds:OutputPath", write ? parse.GetValue(output) : null);
            Set("Site:BaseUrl", parse.GetValue(baseUrl));
            Set("Feeds:MaxItems", parse.GetValue(maxItems)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return BuildFeeds(overrides, write, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    internal static int BuildFeeds(IReadOnlyDictionary<string, string?> overrides, bool write, TextWriter stdout, TextWriter stderr)
    {
        var clock = Stopwatch.StartNew();
        if (!TryLoad(overrides, stderr, out var settings))
            return ConfigurationError;
        var loader = new PostLoader(settings.Site, settings.Content);
        var started = clock.ElapsedMilliseconds;
        var snapshot = new PostCatalog(settings.Content, loader).Refresh();
        var read = clock.ElapsedMilliseconds;
        foreach (var problem in snapshot.Problems)
            stderr.WriteLine(problem);

        var now = DateTimeOffset.UtcNow;
        var published = snapshot.PublishedAt(now);
        var documents = new FeedBuilder(settings.Site, settings.Feeds).Build(published, new PostContent(loader, new PostRenderer()).Render);
        var built = clock.ElapsedMilliseconds;
        var drafts = snapshot.Posts.Count(p => p.Draft);
        var summary = $"{settings.Content.PostsPath}: {snapshot.Posts.Count} posts, {published.Count} published, {drafts} drafts, "
            + $"{snapshot.Posts.Count - published.Count - drafts} scheduled, {snapshot.Problems.Count(p => p.Severity == Severity.Error)} rejected";
        if (write)
        {
            var outcome = FeedOutput.Write(settings.Feeds.OutputPath, documents);
            summary += $"; {documents.Count} feed files in {settings.Feeds.OutputPath} ({outcome.Written} written, {outcome.Unchanged} unchanged, {outcome.Removed} removed)";
        }
        stdout.WriteLine($"{summary} in {clock.ElapsedMilliseconds} ms (start {started}, reading posts {read - started}, feeds {built - read}, writing {clock.ElapsedMilliseconds - built})");
        return snapshot.HasErrors ? InputRejected : Success;
    }

    internal static bool TryLoad(IReadOnlyDictionary<string, string?> overrides, TextWriter stderr, out AppSettings settings)
    {
        try
        {
            settings = AppSettings.Load(AppSettings.Sources(overrides));
            return true;
        }
        catch (ConfigurationException e)
        {
            Report(e, stderr);
            settings = null!;
            return false;
        }
    }

    /// <summary>
    /// The mail and subscriber capabilities as the service wires them (<c>AddMail</c>, <c>AddSubscribers</c>),
    /// for a command to resolve what it needs: nothing is built, the database not opened, until asked for.
    /// Dispose it asynchronously (the mail transport may hold a connection).
    /// </summary>
    internal static ServiceProvider Services(AppSettings settings, TimeProvider? clock = null) => settings.AddTo(new ServiceCollection())
        .AddSingleton(clock ?? TimeProvider.System)
        .AddLogging()
        .AddContent()
        .AddAnnouncements()
        .AddMail()
        .AddSubscribers()
        .BuildServiceProvider();

    /// <summary>What a command does with the configuration and the capabilities it resolves; returns its exit code.</summary>
    internal delegate Task<int> ServicesBody(AppSettings settings, ServiceProvider services, TextWriter stdout, TextWriter stderr);

    /// <summary>
    /// Loads the configuration, builds <see cref="Services"/> and runs <paramref name="body"/>. A
    /// configuration or database that cannot be used is reported in one line and exit code 1, not a stack trace.
    /// </summary>
    internal static async Task<int> WithServices(ParseResult parse, ServicesBody body)
    {
        var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        if (!TryLoad(new Dictionary<string, string?>(), stderr, out var settings))
            return ConfigurationError;
        try
        {
            await using var services = Services(settings);
            return await body(settings, services, stdout, stderr);
        }
        catch (ConfigurationException e)
        {
            Report(e, stderr);
            return ConfigurationError;
        }
        catch (System.Data.Common.DbException e)
        {
            // Opened fine, then failed: most likely locked by the service past Store:BusyTimeout.
            stderr.WriteLine($"{settings.Store.DatabaseFile}: error: {e.Message}");
            return ConfigurationError;
        }
    }

    /// <summary>One line per error; errors that already name a place (<c>FILE:LINE: error: …</c>) are printed as they are.</summary>
    internal static void Report(ConfigurationException e, TextWriter stderr)
    {
        foreach (var error in e.Errors)
            stderr.WriteLine(error.Contains(": error: ", StringComparison.Ordinal) ? error : "error: " + error);
    }
}
