using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Hosting;
using PythonHpc.Subscribers;

namespace PythonHpc.Tests.Support;

/// <summary>
/// The sending side wired as the service wires it (a real SQLite file, the seed webinar post, a
/// real transport), driven by hand with a clock the test moves.
/// </summary>
internal sealed class AnnouncementRig : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private AnnouncementRig(TempFolder folder, ServiceProvider services, ManualClock clock) => (Folder, _services, Clock) = (folder, services, clock);

    public TempFolder Folder { get; }
    public ManualClock Clock { get; }
    public AnnouncementStore Store => _services.GetRequiredService<AnnouncementStore>();
    public SubscriberStore Subscribers => _services.GetRequiredService<SubscriberStore>();
    public Announcer Announcer => _services.GetRequiredService<Announcer>();
    public SendPacer Pacer => _services.GetRequiredService<SendPacer>();

    /// <summary>
    /// Mail through SMTP on <paramref name="smtpPort"/> (plain, loopback), or into the pickup folder when null.
    /// <paramref name="realTime"/>: the clock also moves by itself, as pacing (Mail:MaxPerSecond) needs.
    /// <paramref name="provider"/>: the store (<see cref="Stores"/>), a SQLite file by default.
    /// </summary>
    public static AnnouncementRig Create(TempFolder folder, int? smtpPort, int connections = 2, IDictionary<string, string?>? extra = null, bool realTime = false,
        string provider = Stores.Sqlite)
    {
        File.Copy(FeedBuild.Testdata("seed", "2025-09-15-python-for-hpc.md"), folder.Write("posts/2025-09-15-python-for-hpc.md", ""), overwrite: true);
        var values = new Dictionary<string, string?>
        {
            ["Content:PostsPath"] = folder["posts"],
            ["Store:DataPath"] = folder["data"],
            ["Mail:PickupDirectory"] = folder["mail"],
            ["Mail:From"] = "Test blog <webinars@blog.example.org>",
            ["Site:BaseUrl"] = "https://blog.example.org/",
            ["Security:TokenSecret"] = ServiceHost.Secret,
        };
        if (provider == Stores.Postgres)
        {
            values["Store:Provider"] = Stores.Postgres;
            values["Store:ConnectionString"] = PostgresServer.Require().NewDatabase();
        }
        if (smtpPort is { } port)
        {
            values["Mail:Smtp:Host"] = "127.0.0.1";
            values["Mail:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            values["Mail:Smtp:Security"] = "None";
            values["Mail:Smtp:MaxConnections"] = connections.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            values[key] = value;
        var settings = AppSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        var clock = new ManualClock(DateTimeOffset.UtcNow, running: realTime);
        return new AnnouncementRig(folder, CommandLine.Services(settings, clock), clock);
    }

    public Post Post => _services.GetRequiredService<PostCatalog>().Refresh().Posts.Single();

    /// <summary>Confirmed subscribers with these addresses, in this order (ids ascending).</summary>
    public async Task Subscribe(IEnumerable<string> emails)
    {
        var rows = emails.Select(e => EmailAddress.TryParse(e, out var a, out var error) ? new ImportRow(a, "", SubscriberStatus.Confirmed) : throw new ArgumentException(error));
        await Subscribers.Import(rows, TestContext.Current.CancellationToken);
    }

    /// <summary>Sends (or goes on sending) the seed post's announcement, as a firing would.</summary>
    public async Task<PythonHpc.Announcements.Announcement> Send()
    {
        var ct = TestContext.Current.CancellationToken;
        var announcement = await Store.AnnouncementFor(Post, ct);
        await Announcer.Send(announcement, Post, report: null, ct);
        return (await Store.AnnouncementById(announcement.Id, ct))!;
    }

    public async Task<DeliveryCounts> Counts() =>
        await Store.Counts((await Store.AnnouncementFor(Post, TestContext.Current.CancellationToken)).Id, TestContext.Current.CancellationToken);

    /// <summary>
    /// A connection holding SQLite's write lock (BEGIN IMMEDIATE), as another process's transaction
    /// would: this process's writes wait for it up to Store:BusyTimeout. Disposing it lets go.
    /// </summary>
    public async Task<System.Data.Common.DbConnection> HoldWriteLock()
    {
        var connection = await Store.Database.ConnectAloneAsync(TestContext.Current.CancellationToken);
        await using var hold = connection.CreateCommand();
        hold.CommandText = "BEGIN IMMEDIATE";
        await hold.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
