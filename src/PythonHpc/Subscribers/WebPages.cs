using System.Text;
using Fluid;
using PythonHpc.Hosting;

namespace PythonHpc.Subscribers;

/// <summary>
/// The subscription pages, from <c>templates/web/</c>: each page's template renders its content,
/// which <c>layout.html.liquid</c> wraps. Parsed once at start, like the email templates.
/// </summary>
internal sealed class WebPages
{
    private static readonly string[] Names = ["landing", "subscribe-form", "subscribed", "confirmed", "unsubscribe", "unsubscribed", "invalid-link", "error"];

    private readonly IFluidTemplate _layout;
    private readonly Dictionary<string, IFluidTemplate> _pages;
    private readonly PageModel _base;

    public WebPages(SiteOptions site, HttpOptions http, LiquidTemplates templates)
    {
        _layout = templates.Load("web/layout.html.liquid");
        _pages = Names.ToDictionary(n => n, n => templates.Load($"web/{n}.html.liquid"));
        _base = new PageModel(
            new PageSite(site.Title, site.Description, site.BaseUri.AbsoluteUri, site.Language),
            new PageFeeds(new Uri(site.BaseUri, "feed.xml").AbsoluteUri, new Uri(site.BaseUri, "atom.xml").AbsoluteUri, new Uri(site.BaseUri, "feed.json").AbsoluteUri),
            Title: site.Title,
            HomeUrl: http.PublicUri.AbsoluteUri,
            SubscribeUrl: new Uri(http.PublicUri, "subscribe").AbsoluteUri,
            Error: "",
            Form: new PageForm("", ""),
            Subscriber: new PageSubscriber(""),
            UnsubscribeUrl: "");
    }

    public PageModel Model => _base;

    /// <summary>The page <paramref name="name"/> as an HTML response with <paramref name="status"/>.</summary>
    public IResult Page(string name, PageModel model, int status = StatusCodes.Status200OK)
    {
        var content = name == "landing"
            ? LiquidTemplates.Render(_pages[name], model, [new("form_html", LiquidTemplates.Render(_pages["subscribe-form"], model, LiquidTemplates.Html))])
            : LiquidTemplates.Render(_pages[name], model, LiquidTemplates.Html);
        var html = LiquidTemplates.Render(_layout, model, [new("content", content)]);
        return Results.Text(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}

internal sealed record PageModel(PageSite Site, PageFeeds Feeds, string Title, string HomeUrl, string SubscribeUrl, string Error,
    PageForm Form, PageSubscriber Subscriber, string UnsubscribeUrl);

internal sealed record PageSite(string Title, string Description, string Url, string Language);

internal sealed record PageFeeds(string Rss, string Atom, string Json);

internal sealed record PageForm(string Email, string Name);

internal sealed record PageSubscriber(string Email);
