using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace PythonHpc.Tests.Support;

/// <summary>
/// The service in process on a real port on 127.0.0.1 (chosen by the kernel), watching a real posts
/// folder and writing a real output folder; its client asks for no decompression, so tests see the bytes as sent.
/// </summary>
public sealed class FeedService : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FeedService(WebApplication app, HttpClient http) => (_app, Http) = (app, http);

    public HttpClient Http { get; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<FeedService> Start(TempFolder folder)
    {
        var app = Program.BuildService(new Dictionary<string, string?>
        {
            ["Content:PostsPath"] = folder["posts"],
            ["Feeds:OutputPath"] = folder["out"],
            ["Site:BaseUrl"] = "https://example.org/",
            ["Http:Urls"] = "http://127.0.0.1:0",
        });
        await app.StartAsync(Ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = new Uri(address) };
        return new FeedService(app, http);
    }

    public async Task<HttpResponseMessage> Get(string path, Action<HttpRequestHeaders>? headers = null, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        headers?.Invoke(request.Headers);
        return await Http.SendAsync(request, Ct);
    }

    /// <summary>Polls <paramref name="path"/> until its body meets <paramref name="condition"/>; fails the test after <paramref name="seconds"/>.</summary>
    public async Task<string> Eventually(string path, Func<string, bool> condition, int seconds = 10)
    {
        var body = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(seconds); DateTime.UtcNow < deadline; await Task.Delay(25, Ct))
        {
            body = await Http.GetStringAsync(path, Ct);
            if (condition(body))
                return body;
        }
        Assert.Fail($"{path} never met the condition; last body:\n{body}");
        return body;
    }

    /// <summary>The <c>feeds</c> part of <c>/healthz</c>.</summary>
    public async Task<JsonElement> Feeds() =>
        JsonDocument.Parse(await Http.GetStringAsync("/healthz", Ct)).RootElement.GetProperty("feeds").Clone();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
