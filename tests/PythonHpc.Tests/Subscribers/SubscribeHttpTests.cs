using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Subscribers;

/// <summary>
/// Double opt-in over the real HTTP endpoints of the running service: the form, the confirmation
/// mail as Python's email package reads it from the pickup folder, the links in it, and the
/// RFC 8058 one-click request exactly as Gmail sends it.
/// </summary>
public sealed class SubscribeHttpTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private ServiceHost _service = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _service = await ServiceHost.Start(_folder, new Dictionary<string, string?>
    {
        ["Subscribers:PerClientPerMinute"] = "50",
        ["Subscribers:TotalPerMinute"] = "500",
    });

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        _folder.Dispose();
    }

    private HttpClient Http => _service.Http;

    /// <summary>Subscribes and confirms <paramref name="email"/>; returns the unsubscribe link the service would mail them.</summary>
    private async Task<Uri> Confirmed(string email, int messages = 1)
    {
        using var response = await _service.Subscribe(email);
        var mail = await _service.Mailbox.Wait(messages);
        using var confirm = await Http.GetAsync(mail.Link("/confirm/"), Ct);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        return mail.Link("/unsubscribe/");
    }

    [Fact]
    public async Task The_landing_page_shows_the_site_its_feeds_and_a_form_with_a_hidden_honeypot()
    {
        using var response = await Http.GetAsync("/", Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<h1>PythonHpc sample blog</h1>", html);
        Assert.Contains("href=\"https://blog.example.org/feed.xml\"", html);
        Assert.Contains("href=\"https://blog.example.org/atom.xml\"", html);
        Assert.Contains("href=\"https://blog.example.org/feed.json\"", html);
        Assert.Contains($"<form method=\"post\" action=\"{_service.Address}subscribe\">", html);
        Assert.Contains("name=\"email\" type=\"email\" required", html);
        Assert.Contains("<div class=\"trap\" aria-hidden=\"true\"><label for=\"website\">", html);
    }

    [Fact]
    public async Task Subscribe_mails_a_confirmation_whose_link_confirms_and_records_the_consent()
    {
        using var response = await _service.Subscribe("  Ada@Example.ORG ", "Ada Lovelace");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Check your inbox", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(SubscriberStatus.Pending, (await _service.Subscriber("ada@example.org"))!.Status);

        var mail = await _service.Mailbox.Wait(1);
        Assert.Empty(mail.Parsed.GetProperty("defects").EnumerateArray());
        Assert.Equal("Ada Lovelace <Ada@example.org>", mail.Header("To"));
        Assert.Equal("Test blog <webinars@blog.example.org>", mail.Header("From"));
        Assert.Equal("Confirm your subscription to PythonHpc sample blog", mail.Header("Subject"));
        Assert.Equal("auto-replied", mail.Header("Auto-Submitted"));
        Assert.Matches("^<[^@<>]+@blog\\.example\\.org>$", mail.Header("Message-ID"));
        Assert.Contains("Hello Ada Lovelace,", mail.Part("text/plain"));
        var link = mail.Link("/confirm/");
        Assert.Contains($"href=\"{link.AbsoluteUri}\"", mail.Part("text/html"));
        Assert.Equal(_service.Address.Authority, link.Authority);
        // CRLF throughout, as on the wire (RFC 5322 §2.1): the pickup file is the message as sent.
        Assert.DoesNotContain("\n", File.ReadAllText(mail.File).Replace("\r\n", "", StringComparison.Ordinal));

        using var confirm = await Http.GetAsync(link, Ct);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Contains("You are subscribed", await confirm.Content.ReadAsStringAsync(Ct));
        var subscriber = (await _service.Subscriber("ada@example.org"))!;
        Assert.Equal(SubscriberStatus.Confirmed, subscriber.Status);
        Assert.Equal("Ada@example.org", subscriber.Email);
        Assert.Equal(SubscriberSource.Web, subscriber.Source);
        Assert.Equal("127.0.0.1", subscriber.Requested.Ip);
        Assert.Equal("Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0", subscriber.Requested.UserAgent);
        Assert.NotNull(subscriber.Confirmed);
        Assert.Equal("127.0.0.1", subscriber.Confirmation.Ip);

        // A second click (a scanner, a double-click) finds them confirmed, still.
        using var again = await Http.GetAsync(link, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(subscriber.Confirmed, (await _service.Subscriber("ada@example.org"))!.Confirmed);
    }

    [Fact]
    public async Task The_confirmation_names_the_subscriber_escaped_and_stores_markup_and_sql_as_text()
    {
        const string name = "<script>alert('x')</script> Robert'); DROP TABLE subscribers;--";
        using var response = await _service.Subscribe("bobby@example.org", name);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var mail = await _service.Mailbox.Wait(1);
        var html = mail.Part("text/html");
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("Hello &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Robert&#x27;); DROP TABLE subscribers;--,", html);
        Assert.Equal(name, (await _service.Subscriber("bobby@example.org"))!.Name);
        Assert.Equal(1, await _service.Count());
    }

    [Fact]
    public async Task One_click_unsubscribe_with_exactly_the_request_Gmail_sends_unsubscribes_idempotently()
    {
        var unsubscribe = await Confirmed("grace@example.org");
        // RFC 8058 §3.1 as Gmail does it: a POST to the List-Unsubscribe URL, form-encoded
        // List-Unsubscribe=One-Click, no cookies, no Referer, no CSRF token.
        var request = new HttpRequestMessage(HttpMethod.Post, unsubscribe)
        {
            Content = new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (compatible; Google-Unsubscribe)");
        using var response = await Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var subscriber = (await _service.Subscriber("grace@example.org"))!;
        Assert.Equal(SubscriberStatus.Unsubscribed, subscriber.Status);
        Assert.NotNull(subscriber.Unsubscribed);

        // RFC 8058's own example body is multipart/form-data; and a second request changes nothing.
        var multipart = new MultipartFormDataContent { { new StringContent("One-Click"), "List-Unsubscribe" } };
        using var again = await Http.PostAsync(unsubscribe, multipart, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("You are unsubscribed", await again.Content.ReadAsStringAsync(Ct));
        Assert.Equal(subscriber.Unsubscribed, (await _service.Subscriber("grace@example.org"))!.Unsubscribed);
    }

    [Fact]
    public async Task The_unsubscribe_link_followed_with_GET_shows_a_button_and_unsubscribes_nobody()
    {
        var unsubscribe = await Confirmed("scanned@example.org");
        for (var i = 0; i < 3; i++)
        {
            using var response = await Http.GetAsync(unsubscribe, Ct);
            var html = await response.Content.ReadAsStringAsync(Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains($"<form method=\"post\" action=\"{unsubscribe.AbsoluteUri}\">", html);
            Assert.Contains("<button type=\"submit\">Unsubscribe</button>", html);
            Assert.Contains("scanned@example.org", html);
        }
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, unsubscribe), Ct);
        Assert.Equal(SubscriberStatus.Confirmed, (await _service.Subscriber("scanned@example.org"))!.Status);
    }

    [Fact]
    public async Task Token_pages_are_not_cached_framed_or_leaked_through_the_referrer()
    {
        var unsubscribe = await Confirmed("private@example.org");
        using var response = await Http.GetAsync(unsubscribe, Ct);
        Assert.True(response.Headers.CacheControl!.NoStore);
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Tampered_wrong_purpose_expired_and_unknown_tokens_all_get_the_same_page()
    {
        var unsubscribe = await Confirmed("tokens@example.org");
        var subscriber = (await _service.Subscriber("tokens@example.org"))!;
        var token = unsubscribe.Segments[^1];
        var flipped = token[..5] + (token[5] == 'A' ? 'B' : 'A') + token[6..];
        var eightDaysAgo = new SubscriberTokens(Encoding.UTF8.GetBytes(ServiceHost.Secret), new ManualClock(DateTimeOffset.UtcNow.AddDays(-8)), TimeSpan.FromDays(7));
        var otherSecret = new SubscriberTokens(Encoding.UTF8.GetBytes(new string('k', 40)), TimeProvider.System, TimeSpan.FromDays(7));

        var reference = await Page(HttpMethod.Get, "unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        Assert.Equal(HttpStatusCode.NotFound, reference.Status);
        var cases = new (HttpMethod, string)[]
        {
            (HttpMethod.Get, "unsubscribe/" + flipped),
            (HttpMethod.Post, "unsubscribe/" + flipped),
            (HttpMethod.Get, "unsubscribe/" + token[..^2]),
            (HttpMethod.Get, "confirm/" + token),
            (HttpMethod.Get, "unsubscribe/" + _service.Subscriptions.Tokens.Confirm(subscriber.Id)),
            (HttpMethod.Post, "unsubscribe/" + _service.Subscriptions.Tokens.Confirm(subscriber.Id)),
            (HttpMethod.Get, "confirm/" + eightDaysAgo.Confirm(subscriber.Id)),
            (HttpMethod.Get, "unsubscribe/" + otherSecret.Unsubscribe(subscriber.Id)),
            (HttpMethod.Get, "confirm/not-a-token!"),
        };
        foreach (var (method, path) in cases)
            Assert.Equal(reference, await Page(method, path));
        Assert.Equal(SubscriberStatus.Confirmed, (await _service.Subscriber("tokens@example.org"))!.Status);
    }

    private async Task<(HttpStatusCode Status, string Body)> Page(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
            request.Content = new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded");
        using var response = await Http.SendAsync(request, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task The_answer_is_identical_for_new_pending_confirmed_and_unsubscribed_addresses()
    {
        var unsubscribe = await Confirmed("left@example.org");
        using (await Http.PostAsync(unsubscribe, new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"), Ct))
        {
        }
        await Confirmed("member@example.org", messages: 2);
        using (await _service.Subscribe("waiting@example.org"))
        {
        }

        var answers = new List<string>();
        foreach (var email in new[] { "fresh@example.org", "waiting@example.org", "member@example.org", "left@example.org" })
        {
            using var form = await _service.Subscribe(email);
            answers.Add($"{(int)form.StatusCode} {Headers(form)}\n{await form.Content.ReadAsStringAsync(Ct)}");
            using var json = await Http.PostAsync("subscribe", new StringContent(JsonSerializer.Serialize(new { email }), Encoding.UTF8, "application/json"), Ct);
            answers.Add($"{(int)json.StatusCode} {Headers(json)}\n{await json.Content.ReadAsStringAsync(Ct)}");
        }
        Assert.Single(answers.Where((_, i) => i % 2 == 0).Distinct());
        Assert.Single(answers.Where((_, i) => i % 2 == 1).Distinct());
        Assert.StartsWith("202 ", answers[1]);
        // The confirmed member was left alone; the one who left is asked to confirm again.
        Assert.Equal(SubscriberStatus.Confirmed, (await _service.Subscriber("member@example.org"))!.Status);
        Assert.Equal(SubscriberStatus.Pending, (await _service.Subscriber("left@example.org"))!.Status);
        var reconfirm = await _service.Mailbox.Wait(5);
        Assert.Equal("left@example.org", reconfirm.Header("To"));
    }

    private static string Headers(HttpResponseMessage response) => string.Join("; ",
        response.Headers.Concat(response.Content.Headers).Where(h => h.Key != "Date").OrderBy(h => h.Key, StringComparer.Ordinal)
            .Select(h => h.Key + ": " + string.Join(",", h.Value)));

    [Fact]
    public async Task Repeated_requests_for_a_pending_address_send_one_confirmation_not_one_each()
    {
        for (var i = 0; i < 5; i++)
        {
            using var response = await _service.Subscribe("victim@example.org");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await _service.Mailbox.Wait(1);
        await Task.Delay(300, Ct);
        Assert.Single(_service.Mailbox.Files);
    }

    [Fact]
    public async Task A_filled_honeypot_gets_the_usual_answer_and_stores_nothing()
    {
        using var response = await _service.Subscribe("bot@example.org", extra: [new("website", "http://spam.example/")]);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Check your inbox", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(0, await _service.Count());
        await Task.Delay(200, Ct);
        Assert.Empty(_service.Mailbox.Files);
    }

    public static TheoryData<string, string> BadAddresses => new()
    {
        { "Ada Lovelace <ada@example.org>", "without a name" },
        { "\"ada\"@example.org", "without a name, quotes" },
        { "ada@example.org\r\nBcc: everyone@example.org", "line breaks" },
        { new string('a', 64) + "@" + string.Join(".", Enumerable.Repeat(new string('b', 60), 4)) + ".org", "longer than 254" },
        { "ada", "with a domain" },
        { "ada@", "with a domain" },
        { "ada@localhost", "must have a domain such as example.org" },
        { "ada@@example.org", "is not a valid email address" },
        { "ada@exa mple.org", "without a name, quotes, spaces" },
        { "", "is empty" },
    };

    [Theory]
    [MemberData(nameof(BadAddresses))]
    public async Task A_bad_address_is_refused_naming_the_field_and_nothing_is_stored_or_sent(string email, string reason)
    {
        using var form = await _service.Subscribe(email);
        var html = await form.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);
        Assert.Contains("<p class=\"error\" role=\"alert\">The email address ", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(reason).Replace("&#39;", "&#x27;", StringComparison.Ordinal), html);

        using var json = await Http.PostAsync("subscribe", new StringContent(JsonSerializer.Serialize(new { email }), Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        var body = JsonDocument.Parse(await json.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("email", body.GetProperty("field").GetString());
        Assert.Contains(reason, body.GetProperty("error").GetString());

        Assert.Equal(0, await _service.Count());
        await Task.Delay(100, Ct);
        Assert.Empty(_service.Mailbox.Files);
    }

    [Fact]
    public async Task Markup_typed_into_the_form_comes_back_escaped()
    {
        using var response = await _service.Subscribe("<script>alert(1)</script>", "<img src=x onerror=alert(2)>");
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("<img src=x", html);
        Assert.Contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"", html);
    }

    [Fact]
    public async Task A_name_with_a_line_break_is_refused_naming_the_field()
    {
        using var json = await Http.PostAsync("subscribe", new StringContent(JsonSerializer.Serialize(new { email = "ok@example.org", name = "Ada\r\nBcc: x@example.org" }), Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Equal("name", JsonDocument.Parse(await json.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("field").GetString());
        Assert.Equal(0, await _service.Count());
    }

    [Fact]
    public async Task Oversized_and_unknown_bodies_are_refused_unread()
    {
        using var large = await Http.PostAsync("subscribe", new FormUrlEncodedContent([new("email", "big@example.org"), new("name", new string('x', 20_000))]), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        using var xml = await Http.PostAsync("subscribe", new StringContent("<email>x@example.org</email>", Encoding.UTF8, "application/xml"), Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, xml.StatusCode);
        using var notJson = await Http.PostAsync("subscribe", new StringContent("[\"x@example.org\"]", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal(0, await _service.Count());
    }
}

/// <summary>The form's rate limits, per client and in total, with their own small limits.</summary>
public sealed class SubscribeRateLimitTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private ServiceHost _service = null!;

    public async ValueTask InitializeAsync() => _service = await ServiceHost.Start(_folder, new Dictionary<string, string?>
    {
        ["Subscribers:PerClientPerMinute"] = "3",
        ["Subscribers:TotalPerMinute"] = "5",
    });

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_client_past_its_limit_gets_429_with_Retry_After_then_all_clients_past_the_total()
    {
        for (var i = 0; i < 3; i++)
        {
            using var ok = await _service.Subscribe($"a{i}@example.org", client: "203.0.113.7");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var limited = await _service.Subscribe("a3@example.org", client: "203.0.113.7"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
            Assert.Contains("Too many subscription requests", await limited.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        // Another client still gets through, until the total (5) is spent.
        for (var i = 0; i < 2; i++)
        {
            using var other = await _service.Subscribe($"b{i}@example.org", client: "2001:db8:1:2::" + (i + 1));
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        using (var total = await _service.Subscribe("c@example.org", client: "198.51.100.1"))
            Assert.Equal(HttpStatusCode.TooManyRequests, total.StatusCode);
        Assert.Null(await _service.Subscriber("a3@example.org"));
        Assert.Null(await _service.Subscriber("c@example.org"));
        Assert.Equal(5, await _service.Count());
    }

    [Fact]
    public void Clients_are_IPv4_addresses_and_IPv6_64_prefixes()
    {
        Assert.Equal("203.0.113.7", SubscribeLimiter.Client(IPAddress.Parse("::ffff:203.0.113.7")));
        Assert.Equal(SubscribeLimiter.Client(IPAddress.Parse("2001:db8:1:2::1")), SubscribeLimiter.Client(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.NotEqual(SubscribeLimiter.Client(IPAddress.Parse("2001:db8:1:2::1")), SubscribeLimiter.Client(IPAddress.Parse("2001:db8:1:3::1")));
    }
}
