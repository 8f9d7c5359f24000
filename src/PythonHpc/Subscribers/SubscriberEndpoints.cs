using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;

namespace PythonHpc.Subscribers;

/// <summary>
/// The landing page, the subscription form, and the confirm and unsubscribe links. Nothing here
/// tells one address from another: a subscription request gets the same answer whatever the address's
/// state, and the links act only on the subscriber their token names.
/// </summary>
internal static class SubscriberEndpoints
{
    /// <summary>A subscription request is an address and a name: anything larger is refused unread.</summary>
    public const int MaxRequestBytes = 8 * 1024;

    private const int MaxUserAgentLength = 512;

    /// <summary>The hidden field people leave empty and form-filling robots do not.</summary>
    public const string Honeypot = "website";

    public static IEndpointRouteBuilder MapSubscribers(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (WebPages pages, HttpContext context) => Html(context, pages.Page("landing", pages.Model)));
        app.MapPost("/subscribe", Subscribe);
        app.MapGet("/confirm/{token}", Confirm);
        app.MapGet("/unsubscribe/{token}", UnsubscribePage);
        // RFC 8058 §3.1: the one-click POST (List-Unsubscribe=One-Click) carries no cookie and no
        // CSRF token; the token in the URL is the authority. The page's own button posts here too.
        app.MapPost("/unsubscribe/{token}", Unsubscribe);
        return app;
    }

    private static async Task<IResult> Subscribe(HttpContext context, Subscriptions subscriptions, ConfirmationQueue queue,
        SubscribeLimiter limiter, WebPages pages, CancellationToken cancellationToken)
    {
        var json = context.Request.HasJsonContentType();
        using var lease = limiter.Acquire(context);
        if (!lease.IsAcquired)
        {
            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Refuse(context, pages, json, StatusCodes.Status429TooManyRequests, "Too many requests", "Too many subscription requests: please try again in a minute.", null);
        }
        if (!json && !context.Request.HasFormContentType)
            return Refuse(context, pages, json, StatusCodes.Status415UnsupportedMediaType, "Unsupported request", "Send the form (application/x-www-form-urlencoded) or JSON (application/json).", null);
        var body = await ReadBody(context.Request, cancellationToken);
        if (body is null)
            return Refuse(context, pages, json, StatusCodes.Status413PayloadTooLarge, "Request too large", $"A subscription request is at most {MaxRequestBytes} bytes.", null);
        if ((json ? FromJson(body) : FromForm(body)) is not { } form)
            return Refuse(context, pages, json, StatusCodes.Status400BadRequest, "Bad request", "The request body is not a JSON object with an \"email\" field.", null);

        if (!string.IsNullOrEmpty(form.Honeypot))
            return Accepted(context, pages, json);
        if (!EmailAddress.TryParse(form.Email, out var email, out var problem))
            return Invalid(context, pages, json, form, "email", $"The email address {problem}.");
        if (!SubscriberName.TryParse(form.Name, out var name, out var nameProblem))
            return Invalid(context, pages, json, form, "name", $"The name {nameProblem}.");

        var subscription = await subscriptions.Request(email, name, SubscriberSource.Web, Consent(context), cancellationToken);
        if (subscription.SendConfirmation)
            await queue.Enqueue(subscription.Subscriber);
        return Accepted(context, pages, json);
    }

    /// <summary>The one answer to every subscription request that was well-formed: it says nothing about the address.</summary>
    private static IResult Accepted(HttpContext context, WebPages pages, bool json) => json
        ? Json(context, StatusCodes.Status202Accepted, new { status = "accepted", message = "If this address can be subscribed, a confirmation email is on its way to it." })
        : Html(context, pages.Page("subscribed", pages.Model with { Title = "Check your inbox" }));

    private static IResult Invalid(HttpContext context, WebPages pages, bool json, SubscribeForm form, string field, string message) => json
        ? Json(context, StatusCodes.Status400BadRequest, new { status = "invalid", field, error = message })
        : Html(context, pages.Page("landing", pages.Model with { Error = message, Form = new PageForm(Clip(form.Email), Clip(form.Name)) }, StatusCodes.Status400BadRequest));

    private static IResult Refuse(HttpContext context, WebPages pages, bool json, int status, string title, string message, string? field) => json
        ? Json(context, status, new { status = "refused", field, error = message })
        : Html(context, pages.Page("error", pages.Model with { Title = title, Error = message }, status));

    private static async Task<IResult> Confirm(string token, HttpContext context, Subscriptions subscriptions, WebPages pages, CancellationToken cancellationToken)
    {
        if (subscriptions.Tokens.Read(token, TokenPurpose.Confirm) is not { } id)
            return InvalidLink(context, pages);
        var confirmedNow = await subscriptions.Store.ConfirmSubscriber(id, Consent(context), cancellationToken);
        var subscriber = await subscriptions.Store.SubscriberById(id, cancellationToken);
        // Only a pending subscriber is confirmed, and a second click finds them confirmed. An address
        // that has left since the link was mailed stays out: it must ask again.
        if (subscriber is null || (!confirmedNow && subscriber.Status != SubscriberStatus.Confirmed))
            return InvalidLink(context, pages);
        return Html(context, pages.Page("confirmed", pages.Model with { Title = "Subscribed", Subscriber = new PageSubscriber(subscriber.Email) }));
    }

    /// <summary>Shows the button and nothing else: mail scanners and link previews follow GET links (RFC 8058 §1).</summary>
    private static async Task<IResult> UnsubscribePage(string token, HttpContext context, Subscriptions subscriptions, WebPages pages, CancellationToken cancellationToken)
    {
        if (subscriptions.Tokens.Read(token, TokenPurpose.Unsubscribe) is not { } id)
            return InvalidLink(context, pages);
        var subscriber = await subscriptions.Store.SubscriberById(id, cancellationToken);
        return Html(context, pages.Page("unsubscribe", pages.Model with
        {
            Title = "Unsubscribe",
            Subscriber = new PageSubscriber(subscriber?.Email ?? ""),
            UnsubscribeUrl = subscriptions.UnsubscribeUrl(id).AbsoluteUri,
        }));
    }

    /// <summary>Idempotent: an address already out (or erased) gets the same page as one leaving now.</summary>
    private static async Task<IResult> Unsubscribe(string token, HttpContext context, Subscriptions subscriptions, WebPages pages, CancellationToken cancellationToken)
    {
        if (subscriptions.Tokens.Read(token, TokenPurpose.Unsubscribe) is not { } id)
            return InvalidLink(context, pages);
        // The body (List-Unsubscribe=One-Click, as a form or multipart) is not needed: the token is.
        await subscriptions.Store.Unsubscribe(id, cancellationToken);
        return Html(context, pages.Page("unsubscribed", pages.Model with { Title = "Unsubscribed" }));
    }

    /// <summary>Tampered, truncated, lapsed or wrong-purpose: one page for all, which says nothing about which.</summary>
    private static IResult InvalidLink(HttpContext context, WebPages pages) =>
        Html(context, pages.Page("invalid-link", pages.Model with { Title = "Link not valid" }, StatusCodes.Status404NotFound));

    /// <summary>
    /// Pages that carry tokens in their URL: never cached, never framed (the unsubscribe button), and
    /// never sent on as a Referer to the links they show.
    /// </summary>
    private static IResult Html(HttpContext context, IResult page)
    {
        Secure(context.Response.Headers);
        return page;
    }

    private static IResult Json(HttpContext context, int status, object body)
    {
        Secure(context.Response.Headers);
        return Results.Json(body, statusCode: status);
    }

    private static void Secure(IHeaderDictionary headers)
    {
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    }

    private static Consent Consent(HttpContext context)
    {
        var agent = context.Request.Headers.UserAgent.ToString();
        return new Consent(null, context.Connection.RemoteIpAddress?.ToString(), agent.Length <= MaxUserAgentLength ? agent : agent[..MaxUserAgentLength]);
    }

    /// <summary>The body, or null when it is larger than <see cref="MaxRequestBytes"/> (read no further than that).</summary>
    private static async Task<byte[]?> ReadBody(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxRequestBytes)
            return null;
        var buffer = new byte[MaxRequestBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        return length > MaxRequestBytes ? null : buffer[..length];
    }

    private sealed record SubscribeForm(string? Email, string? Name, string? Honeypot);

    private static SubscribeForm FromForm(byte[] body)
    {
        var fields = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        string? Field(string name) => fields.TryGetValue(name, out var value) ? value.ToString() : null;
        return new SubscribeForm(Field("email"), Field("name"), Field(Honeypot));
    }

    private static SubscribeForm? FromJson(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return null;
            string? Field(string name) => document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            return new SubscribeForm(Field("email"), Field("name"), Field(Honeypot));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Clip(string? value) => value is null ? "" : value.Length <= 300 ? value : value[..300];
}
