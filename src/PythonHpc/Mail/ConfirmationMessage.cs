using System.Globalization;
using Fluid;
using MimeKit;
using MimeKit.Text;
using MimeKit.Utils;
using PythonHpc.Hosting;

namespace PythonHpc.Mail;

/// <summary>
/// The double opt-in email: one link that confirms, rendered from <c>templates/email/confirmation.*</c>.
/// It is a reply to a request, not list mail, so it carries <c>Auto-Submitted: auto-replied</c>
/// (RFC 3834 §5) rather than list headers; its footer still has a link that stops all mail to the
/// address, for whoever was subscribed by someone else.
/// </summary>
internal sealed class ConfirmationMessage
{
    private readonly SiteOptions _site;
    private readonly MailOptions _mail;
    private readonly MessageSigner? _signer;
    private readonly IFluidTemplate _html;
    private readonly IFluidTemplate _text;
    private readonly IFluidTemplate _subject;

    public ConfirmationMessage(SiteOptions site, MailOptions mail, string subject, LiquidTemplates templates, MessageSigner? signer)
    {
        (_site, _mail, _signer) = (site, mail, signer);
        _html = templates.Load("email/confirmation.html.liquid");
        _text = templates.Load("email/confirmation.txt.liquid");
        _subject = LiquidTemplates.Parse(subject, "Subscribers:ConfirmationSubject");
    }

    public WireMessage Compose(Recipient recipient, Uri confirmUrl, DateTimeOffset expires, DateTimeOffset date)
    {
        var model = new ConfirmationModel(
            new EmailSite(_site.Title, _site.BaseUri.AbsoluteUri, _site.Language),
            new EmailRecipient(recipient.Email, recipient.Name ?? ""),
            confirmUrl.AbsoluteUri,
            recipient.UnsubscribeUrl.AbsoluteUri,
            expires.ToOffset(TimeSpan.Zero).ToString("d MMMM yyyy, HH:mm 'UTC'", CultureInfo.InvariantCulture),
            _mail.PostalAddress);
        var message = new MimeMessage { Date = date, MessageId = MimeUtils.GenerateMessageId(_mail.Domain) };
        message.From.Add(_mail.FromAddress);
        if (_mail.ReplyToAddress is { } replyTo)
            message.ReplyTo.Add(replyTo);
        message.To.Add(new MailboxAddress(AnnouncementMessage.HeaderText(recipient.Name ?? ""), recipient.Email));
        var subject = AnnouncementMessage.HeaderText(LiquidTemplates.Render(_subject, model, LiquidTemplates.Text));
        message.Subject = subject.Length > 0 ? subject : "Confirm your subscription";
        message.Headers.Add(HeaderId.AutoSubmitted, "auto-replied");
        message.Body = new MultipartAlternative
        {
            Part(TextFormat.Plain, LiquidTemplates.Render(_text, model, LiquidTemplates.Text)),
            Part(TextFormat.Html, LiquidTemplates.Render(_html, model, LiquidTemplates.Html)),
        };
        return WireMessage.From(message, _signer, date);
    }

    /// <summary>Quoted-printable UTF-8: 7-bit and short lines, so relays pass it unchanged and a DKIM body hash holds.</summary>
    private static TextPart Part(TextFormat format, string text) => new(format)
    {
        Content = new MimeContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text))),
        ContentTransferEncoding = ContentEncoding.QuotedPrintable,
        ContentType = { Charset = "utf-8" },
    };
}

internal sealed record ConfirmationModel(EmailSite Site, EmailRecipient Recipient, string ConfirmUrl, string UnsubscribeUrl, string Expires, string PostalAddress);
