using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PythonHpc.Store;
using PythonHpc.Subscribers;

namespace PythonHpc.Tests.Support;

/// <summary>
/// The whole service, in process, listening on a real port on 127.0.0.1, with its own posts, data
/// folder (a real SQLite file) and pickup folder.
/// </summary>
public sealed class ServiceHost : IAsyncDisposable
{
    public const string Secret = "test-secret-test-secret-test-secret-0123456789";

    private readonly WebApplication _app;

    private ServiceHost(TempFolder folder, WebApplication app, Uri address)
    {
        (Folder, _app, Address) = (folder, app, address);
        Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = address };
        Mailbox = new Mailbox(folder["mail"]);
    }

    public TempFolder Folder { get; }
    public Uri Address { get; }
    public HttpClient Http { get; }
    public Mailbox Mailbox { get; }

    /// <summary>The service's own services, for a test to reach what HTTP does not show (the scheduler, the stores).</summary>
    public IServiceProvider Services => _app.Services;

    internal SubscriberStore Store => _app.Services.GetRequiredService<SubscriberStore>();
    internal Subscriptions Subscriptions => _app.Services.GetRequiredService<Subscriptions>();

    public static async Task<ServiceHost> Start(TempFolder folder, IDictionary<string, string?>? settings = null)
    {
        folder.Write("posts/2024-01-01-first.md", "---\ntitle: First\ndate: 2024-01-01\n---\nFirst post.\n");
        var port = SmtpRecorder.FreePort();
        var overrides = new Dictionary<string, string?>
        {
            ["Content:PostsPath"] = folder["posts"],
            ["Feeds:OutputPath"] = folder["out"],
            ["Site:BaseUrl"] = "https://blog.example.org/",
            ["Http:Urls"] = $"http://127.0.0.1:{port}",
            ["Http:PublicUrl"] = $"http://127.0.0.1:{port}/",
            ["Store:DataPath"] = folder["data"],
            ["Mail:PickupDirectory"] = folder["mail"],
            ["Mail:From"] = "Test blog <webinars@blog.example.org>",
            ["Security:TokenSecret"] = Secret,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            overrides[key] = value;
        var app = Program.BuildService(overrides);
        await app.StartAsync();
        return new ServiceHost(folder, app, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>POSTs the subscription form as a browser does, optionally as the client <paramref name="client"/> (via X-Forwarded-For from loopback).</summary>
    public Task<HttpResponseMessage> Subscribe(string email, string? name = null, string? client = null, IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        var fields = new List<KeyValuePair<string, string>> { new("email", email) };
        if (name is not null)
            fields.Add(new("name", name));
        fields.AddRange(extra ?? []);
        var request = new HttpRequestMessage(HttpMethod.Post, "subscribe") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0");
        if (client is not null)
            request.Headers.Add("X-Forwarded-For", client);
        return Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    internal async Task<Subscriber?> Subscriber(string email)
    {
        Assert.True(EmailAddress.TryParse(email, out var address, out var error), error);
        return await Store.SubscriberByEmail(address, TestContext.Current.CancellationToken);
    }

    internal async Task<int> Count()
    {
        var counts = await Store.Counts(TestContext.Current.CancellationToken);
        return counts.Values.Sum();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        // Pooled connections keep the SQLite file open; the folder goes with the test.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
