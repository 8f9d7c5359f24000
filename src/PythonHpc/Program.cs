using Microsoft.Extensions.Configuration.Memory;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Feeds;
using PythonHpc.Hosting;
using PythonHpc.Mail;
using PythonHpc.Subscribers;
using Microsoft.AspNetCore.HttpOverrides;

return await CommandLine.RunAsync(CommandLine.Create(RunServiceAsync), args);

static async Task<int> RunServiceAsync(IReadOnlyDictionary<string, string?> overrides)
{
    WebApplication app;
    try
    {
        app = Program.BuildService(overrides);
    }
    catch (ConfigurationException e)
    {
        CommandLine.Report(e, Console.Error);
        return CommandLine.ConfigurationError;
    }
    await app.RunAsync();
    return CommandLine.Success;
}

internal partial class Program
{
    /// <summary>The service: feeds and HTTP, configured from the working folder, the environment and <paramref name="overrides"/>.</summary>
    internal static WebApplication BuildService(IReadOnlyDictionary<string, string?> overrides)
    {
        WebApplicationBuilder builder;
        try
        {
            builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Directory.GetCurrentDirectory() });
        }
        catch (InvalidDataException e)
        {
            throw AppSettings.FromFileError(e);
        }
        // Embedded defaults, under everything else: no log line per request (a feed server answers thousands).
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new("Logging:LogLevel:Default", "Information"), new("Logging:LogLevel:Microsoft.AspNetCore", "Warning")],
        });
        builder.Configuration.AddEnvironmentVariables(AppSettings.EnvironmentPrefix).AddInMemoryCollection(overrides);
        var settings = AppSettings.Load(builder.Configuration);
        // Under systemd (Type=notify): readiness and stopping are reported to it, logs go to the journal. Elsewhere, nothing changes.
        builder.Host.UseSystemd();
        builder.WebHost.UseUrls(settings.Http.Urls.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

        settings.AddTo(builder.Services)
            .AddSingleton(TimeProvider.System)
            .AddContent()
            .AddFeeds()
            .AddMail()
            .AddSubscribers()
            .AddAnnouncements()
            .AddAnnouncementSchedule(settings.Announcements, settings.Store, settings.Cluster);
        // Behind a reverse proxy on this machine (nginx, Caddy), the client is the one X-Forwarded-For
        // names: the rate limits count clients, not the proxy. Only loopback proxies are believed.
        builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);

        var app = builder.Build();
        MailSetup.Validate(app.Services);
        SubscribersSetup.Validate(app.Services);
        AnnouncementsSetup.Validate(app.Services);
        // Feeds first, ahead of routing: they are nearly every request a blog's service answers.
        app.UseFeeds();
        app.UseRouting();
        app.UseForwardedHeaders();
        app.MapHealth();
        app.MapSubscribers();
        return app;
    }
}
