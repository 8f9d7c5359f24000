using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Fluid;
using MimeKit;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Hosting;
using PythonHpc.Webinars;

namespace PythonHpc.Mail;

/// <summary>
/// A webinar's announcement as one MIME message per recipient: <c>multipart/alternative</c> (text
/// first, as RFC 2046 §5.1.4 orders the alternatives), rendered from <c>templates/email/</c>, with the
/// headers Gmail's and Yahoo's 2024 bulk-sender rules ask for (RFC 2369 List-Unsubscribe with an
/// https one-click URL and a mailto, RFC 8058 List-Unsubscribe-Post, RFC 2919 List-Id) and a
/// Message-ID that is the same every time the same announcement goes to the same address.
/// </summary>
internal sealed class AnnouncementMessage
{
    /// <summary>Gmail clips messages whose HTML is larger than about 102 KB.</summary>
    public const int HtmlLimit = 102 * 1024;

    private readonly SiteOptions _site;
    private readonly MailOptions _mail;
    private readonly MessageSigner? _signer;
    private readonly IFluidTemplate _html;
    private readonly IFluidTemplate _text;
    private readonly IFluidTemplate _subject;

    public AnnouncementMessage(SiteOptions site, MailOptions mail, AnnouncementsOptions announcements, LiquidTemplates templates, MessageSigner? signer)
    {
        _site = site;
        _mail = mail;
        _signer = signer;
        _html = templates.Load("email/announcement.html.liquid");
        _text = templates.Load("email/announcement.txt.liquid");
        _subject = LiquidTemplates.Parse(announcements.Subject, "Announcements:Subject");
    }

    /// <summary>What every message of one announcement shares, worked out once.</summary>
    internal sealed record Draft(string Key, EmailModel Model, string Subject);

    public Draft Prepare(Post post, Webinar webinar, RenderedPost content)
    {
        var chapters = webinar.Chapters.Select(c => new EmailChapter(c.Index, c.Title, c.StartText, c.Link.AbsoluteUri, c.Summary)).ToList();
        var model = new EmailModel(
            new EmailSite(_site.Title, _site.BaseUri.AbsoluteUri, _site.Language),
            new EmailPost(post.Title, post.Permalink.AbsoluteUri, content.Summary, post.Date.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)),
            new EmailVideo(webinar.Video.WatchUrl.AbsoluteUri, webinar.Thumbnail(post)?.AbsoluteUri),
            chapters,
            Preheader(content.Summary, chapters),
            _mail.PostalAddress,
            post.Title,
            new EmailRecipient("", ""),
            "");
        var subject = HeaderText(LiquidTemplates.Render(_subject, model, LiquidTemplates.Text));
        return new Draft(post.Id, model, subject.Length > 0 ? subject : HeaderText(post.Title));
    }

    /// <summary>The HTML and text parts for one recipient.</summary>
    public (string Html, string Text) Render(Draft draft, Recipient recipient)
    {
        var model = draft.Model with
        {
            Recipient = new EmailRecipient(recipient.Email, recipient.Name ?? ""),
            UnsubscribeUrl = recipient.UnsubscribeUrl.AbsoluteUri,
        };
        return (LiquidTemplates.Render(_html, model, LiquidTemplates.Html), LiquidTemplates.Render(_text, model, LiquidTemplates.Text));
    }

    public MimeMessage Compose(Draft draft, Recipient recipient, DateTimeOffset date)
    {
        var (html, text) = Render(draft, recipient);
        var message = new MimeMessage { Subject = draft.Subject, Date = date, MessageId = MessageId(draft.Key, recipient.Email) };
        message.From.Add(_mail.FromAddress);
        if (_mail.ReplyToAddress is { } replyTo)
            message.ReplyTo.Add(replyTo);
        message.To.Add(new MailboxAddress(HeaderText(recipient.Name ?? ""), recipient.Email));
        // RFC 2919: a list's identifier is a label under a domain its owner controls.
        message.Headers.Add(HeaderId.ListId, $"{Quoted(_site.Title + " webinars")} <webinars.{_mail.Domain}>");
        // RFC 2369 and RFC 8058: the one-click https link first, then a mailto for clients that only do mail.
        message.Headers.Add(HeaderId.ListUnsubscribe, $"<{recipient.UnsubscribeUrl.AbsoluteUri}>, <mailto:{_mail.FromAddress.Address}?subject=unsubscribe>");
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        // Quoted-printable where needed, lines under 998 octets: the message survives any relay unchanged,
        // which a DKIM body hash requires, and a pickup-folder .eml is valid as written.
        message.Prepare(EncodingConstraint.SevenBit);
        _signer?.Sign(message);
        return message;
    }

    /// <summary>
    /// <c>&lt;hash@domain&gt;</c> from the announcement and the address: a retry of the same message
    /// carries the same Message-ID, so a receiving server or a reader can tell it is not a new one.
    /// </summary>
    internal string MessageId(string announcement, string email)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(announcement + "\n" + email.Trim().ToLowerInvariant()));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16)) + "@" + _mail.Domain;
    }

    /// <summary>Text for a header: no CR, LF or other control character can start a header of its own.</summary>
    internal static string HeaderText(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
            clean.Append(char.IsControl(c) ? ' ' : c);
        var collapsed = MarkdownText.Collapse(clean.ToString());
        return collapsed.Length <= 200 ? collapsed : collapsed[..199] + "…";
    }

    private static string Quoted(string text) => "\"" + HeaderText(text).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>The line mail clients show after the subject: the chapters when there are some, else the summary.</summary>
    private static string Preheader(string summary, List<EmailChapter> chapters)
    {
        var text = chapters.Count > 0
            ? $"{chapters.Count} chapter{(chapters.Count == 1 ? "" : "s")}: {string.Join(", ", chapters.Select(c => c.Title))}"
            : summary;
        return text.Length <= 140 ? text : text[..139].TrimEnd() + "…";
    }
}

// The template model: snake_case in Liquid (post.title, unsubscribe_url, chapter.start).
internal sealed record EmailModel(
    EmailSite Site, EmailPost Post, EmailVideo Video, IReadOnlyList<EmailChapter> Chapters,
    string Preheader, string PostalAddress, string Title, EmailRecipient Recipient, string UnsubscribeUrl);

internal sealed record EmailSite(string Title, string Url, string Language);

internal sealed record EmailPost(string Title, string Url, string Summary, string Date);

internal sealed record EmailVideo(string Url, string? Thumbnail);

internal sealed record EmailChapter(int Index, string Title, string Start, string Link, string? Summary);

internal sealed record EmailRecipient(string Email, string Name);
