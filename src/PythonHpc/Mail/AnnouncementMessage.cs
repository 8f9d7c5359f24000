using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Fluid;
using MimeKit;
using MimeKit.Text;
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

    private static readonly FormatOptions Wire = FormatOptions.Default;

    private readonly SiteOptions _site;
    private readonly MailOptions _mail;
    private readonly MessageSigner? _signer;
    private readonly IFluidTemplate _html;
    private readonly IFluidTemplate _text;
    private readonly IFluidTemplate _subject;

    private AnnouncementMessage(AnnouncementMessage other, MessageSigner? signer)
    {
        (_site, _mail, _signer, _html, _text, _subject) = (other._site, other._mail, signer, other._html, other._text, other._subject);
    }

    public AnnouncementMessage(SiteOptions site, MailOptions mail, AnnouncementsOptions announcements, LiquidTemplates templates, MessageSigner? signer)
    {
        _site = site;
        _mail = mail;
        _signer = signer;
        _html = templates.Load("email/announcement.html.liquid");
        _text = templates.Load("email/announcement.txt.liquid");
        _subject = LiquidTemplates.Parse(announcements.Subject, "Announcements:Subject");
    }

    /// <summary>
    /// What every message of one announcement shares, worked out once: the model, the subject, the
    /// MIME boundary, and the parts pre-rendered for recipients with and without a name.
    /// </summary>
    internal sealed record Draft(string Key, EmailModel Model, string Subject, string Boundary)
    {
        public required SharedHeaders Shared { get; init; }
        public PersonalizedTemplate? Html { get; init; }
        public PersonalizedTemplate? HtmlNameless { get; init; }
        public PersonalizedTemplate? Text { get; init; }
        public PersonalizedTemplate? TextNameless { get; init; }
        public BodyLayout? Layout { get; init; }
    }

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
        // A boundary shared by the announcement's messages: random, so no content contains it (RFC 2046 §5.1.1).
        var boundary = "=-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('/', '_').Replace('+', '.');
        var draft = new Draft(post.Id, model, subject.Length > 0 ? subject : HeaderText(post.Title), boundary)
        {
            Shared = new SharedHeaders(SharedHeaders.Format, _mail.FromAddress.ToString(Wire, true), _mail.ReplyToAddress?.ToString(Wire, true),
                subject.Length > 0 ? subject : HeaderText(post.Title), $"{Quoted(_site.Title + " webinars")} <webinars.{_mail.Domain}>"),
            Html = PersonalizedTemplate.TryCreate(_html, model, LiquidTemplates.Html, withName: true),
            HtmlNameless = PersonalizedTemplate.TryCreate(_html, model, LiquidTemplates.Html, withName: false),
            Text = PersonalizedTemplate.TryCreate(_text, model, LiquidTemplates.Text, withName: true),
            TextNameless = PersonalizedTemplate.TryCreate(_text, model, LiquidTemplates.Text, withName: false),
        };
        return draft with { Layout = CheckedLayout(draft) };
    }

    /// <summary>
    /// The layout of the announcement's messages, if a sample message assembled from it is byte for
    /// byte what MimeKit writes for the same message; else none, and every message goes through MimeKit.
    /// </summary>
    private BodyLayout? CheckedLayout(Draft draft)
    {
        if (BodyLayout.Learn(draft) is not { } layout)
            return null;
        var sample = new Recipient("layout-check@example.org", "Layout Check \"Ω\"", new Uri(draft.Model.Site.Url + "unsubscribe/sample"));
        var unsigned = new AnnouncementMessage(this, signer: null);
        using var assembled = unsigned.Compose(draft with { Layout = layout }, sample, DateTimeOffset.UnixEpoch);
        using var reference = unsigned.Compose(draft with { Layout = null }, sample, DateTimeOffset.UnixEpoch);
        return assembled.Bytes.Span.SequenceEqual(reference.Bytes.Span) ? layout : null;
    }

    /// <summary>The HTML and text parts for one recipient.</summary>
    public (string Html, string Text) Render(Draft draft, Recipient recipient)
    {
        var named = !string.IsNullOrWhiteSpace(recipient.Name);
        var url = recipient.UnsubscribeUrl.AbsoluteUri;
        var html = (named ? draft.Html : draft.HtmlNameless)?.Fill(recipient.Email, recipient.Name, url);
        var text = (named ? draft.Text : draft.TextNameless)?.Fill(recipient.Email, recipient.Name, url);
        if (html is not null && text is not null)
            return (html, text);
        var model = draft.Model with { Recipient = new EmailRecipient(recipient.Email, recipient.Name ?? ""), UnsubscribeUrl = url };
        return (html ?? LiquidTemplates.Render(_html, model, LiquidTemplates.Html), text ?? LiquidTemplates.Render(_text, model, LiquidTemplates.Text));
    }

    /// <summary>The two parts for one recipient as quoted-printable UTF-8, ready for MIME (written where they go).</summary>
    private (Part Html, Part Text) Encoded(Draft draft, Recipient recipient)
    {
        var named = !string.IsNullOrWhiteSpace(recipient.Name);
        var url = recipient.UnsubscribeUrl.AbsoluteUri;
        var html = (named ? draft.Html : draft.HtmlNameless)?.FillQuotedPrintable(recipient.Email, recipient.Name, url);
        var text = (named ? draft.Text : draft.TextNameless)?.FillQuotedPrintable(recipient.Email, recipient.Name, url);
        if (html is not null && text is not null)
            return (new Part(html.Value), new Part(text.Value));
        var (fullHtml, fullText) = Render(draft, recipient);
        return (html is { } h ? new Part(h) : new Part(QuotedPrintable.Encode(fullHtml)), text is { } t ? new Part(t) : new Part(QuotedPrintable.Encode(fullText)));
    }

    /// <summary>A part's quoted-printable bytes: filled in from a personalized template, or rendered in full.</summary>
    private readonly struct Part
    {
        private readonly PersonalizedTemplate.QuotedPrintablePart _filled;
        private readonly byte[]? _bytes;

        public Part(PersonalizedTemplate.QuotedPrintablePart filled) => _filled = filled;

        public Part(byte[] bytes) => _bytes = bytes;

        public int Length => _bytes?.Length ?? _filled.Length;

        public bool EndsWithLineEnd => _bytes is null ? _filled.EndsWithLineEnd : _bytes.AsSpan().EndsWith("\r\n"u8);

        public void CopyTo(Span<byte> output)
        {
            if (_bytes is not null)
                _bytes.CopyTo(output);
            else
                _filled.CopyTo(output);
        }

        public byte[] ToArray() => _bytes ?? _filled.ToArray();
    }

    /// <summary>One recipient's message, ready for the wire (and signed, when DKIM is on).</summary>
    public WireMessage Compose(Draft draft, Recipient recipient, DateTimeOffset date)
    {
        var (html, text) = Encoded(draft, recipient);
        var messageId = MessageId(draft.Key, recipient.Email);
        var to = new Header(HeaderId.To, new MailboxAddress(HeaderText(recipient.Name ?? ""), recipient.Email).ToString(Wire, true)).RawValue;
        var unsubscribe = $"<{recipient.UnsubscribeUrl.AbsoluteUri}>, <mailto:{_mail.FromAddress.Address}?subject=unsubscribe>";
        if (draft.Layout is { } layout && Ascii.IsValid(unsubscribe) && unsubscribe.Length < 900)
            return Assemble(draft, layout, recipient.Email, to, date, messageId, unsubscribe, text, html);
        var message = Build(draft, to, date, messageId, unsubscribe, text.ToArray(), html.ToArray());
        return WireMessage.From(message, _signer, date);
    }

    /// <summary>
    /// The message built by MimeKit: the reference <see cref="Assemble"/> is checked against once per
    /// announcement, and the way every message goes when the check fails (or a value needs MimeKit's encoding).
    /// </summary>
    private static MimeMessage Build(Draft draft, byte[] to, DateTimeOffset date, string messageId, string unsubscribe, byte[] text, byte[] html)
    {
        // Built from a list of headers: MimeKit's default constructor makes (and we would replace) a
        // Message-ID from the host's name, and each property setter re-serialises its header.
        var shared = draft.Shared;
        var headers = new List<Header>(10) { Raw(HeaderId.From, shared.From) };
        if (shared.ReplyTo is not null)
            headers.Add(Raw(HeaderId.ReplyTo, shared.ReplyTo));
        headers.Add(Raw(HeaderId.To, to));
        headers.Add(Raw(HeaderId.Subject, shared.Subject));
        headers.Add(Raw(HeaderId.Date, shared.Date(date)));
        headers.Add(Raw(HeaderId.MessageId, Encoding.ASCII.GetBytes(" <" + messageId + ">\n")));
        // RFC 2919: a list's identifier is a label under a domain its owner controls.
        headers.Add(Raw(HeaderId.ListId, shared.ListId));
        // RFC 2369 and RFC 8058: the one-click https link first, then a mailto for clients that only do mail.
        headers.Add(Ascii.IsValid(unsubscribe) && unsubscribe.Length < 900
            ? Raw(HeaderId.ListUnsubscribe, ListUnsubscribe(unsubscribe))
            : new Header(HeaderId.ListUnsubscribe, unsubscribe));
        headers.Add(Raw("List-Unsubscribe-Post", shared.ListUnsubscribePost));
        headers.Add(Raw(HeaderId.MimeVersion, shared.MimeVersion));
        // Quoted-printable, always: 7-bit clean and lines under 998 octets whatever the text, so the
        // message survives any relay unchanged (which a DKIM body hash requires) and a pickup-folder
        // .eml is valid as written. Encoded here, once, rather than by MimeKit each time it is written.
        return new MimeMessage((IEnumerable<Header>)headers) { Body = Body(draft, text, html) };
    }

    private static byte[] ListUnsubscribe(string unsubscribe) =>
        Encoding.ASCII.GetBytes(" " + unsubscribe.Replace(", <mailto:", ",\n <mailto:", StringComparison.Ordinal) + "\n");

    /// <summary>
    /// The message's bytes put together from the announcement's layout and this recipient's values, in
    /// one pooled buffer: the same bytes MimeKit would write (checked once per announcement), without
    /// building and serialising a MIME tree for each of thousands of messages. With DKIM on, room is
    /// kept in front for the signature, which is written there once the rest is known.
    /// </summary>
    private WireMessage Assemble(Draft draft, BodyLayout layout, string email, byte[] to, DateTimeOffset date, string messageId, string unsubscribe, Part text, Part html)
    {
        var shared = draft.Shared;
        var dateLine = shared.Date(date);
        var reserve = _signer is null ? 0 : MessageSigner.MaxHeaderLength;
        var length = shared.Length + to.Length * 2 + dateLine.Length * 2 + messageId.Length + unsubscribe.Length * 2 + 128
                     + layout.Length + text.Length + html.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(reserve + length);
        var w = new Writer(buffer, reserve);
        w.Write(WireMessage.MimeVersionLine);
        w.Line("From:"u8, shared.From);
        if (shared.ReplyTo is not null)
            w.Line("Reply-To:"u8, shared.ReplyTo);
        w.Line("To:"u8, to);
        w.Line("Subject:"u8, shared.Subject);
        w.Line("Date:"u8, dateLine);
        w.Write("Message-Id: <"u8);
        w.Ascii(messageId);
        w.Write(">\r\n"u8);
        w.Line("List-Id:"u8, shared.ListId);
        w.Write("List-Unsubscribe: "u8);
        w.Ascii(unsubscribe.Replace(", <mailto:", ",\r\n <mailto:", StringComparison.Ordinal));
        w.Write("\r\n"u8);
        w.Line("List-Unsubscribe-Post:"u8, shared.ListUnsubscribePost);
        w.Write(layout.Prefix);
        w.Terminated(text);
        w.Write(layout.Middle);
        w.Terminated(html);
        w.Write(layout.Suffix);
        var start = reserve;
        if (_signer is not null)
        {
            var header = t_signature ??= new ArrayBufferWriter<byte>(1024);
            header.ResetWrittenCount();
            _signer.WriteHeader(buffer.AsSpan(reserve, w.At - reserve), date, header);
            // The signature goes after the MIME-Version line (WireMessage's first field), into the room kept
            // in front: the line moves down by the signature's length, and the signature fills the gap.
            var version = WireMessage.MimeVersionLine.Length;
            start = reserve - header.WrittenCount;
            buffer.AsSpan(reserve, version).CopyTo(buffer.AsSpan(start));
            header.WrittenSpan.CopyTo(buffer.AsSpan(start + version));
        }
        return new WireMessage(_mail.FromAddress.Address, email, messageId, buffer.AsMemory(start, w.At - start), pooled: buffer);
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_signature;

    /// <summary>Writes forward in a buffer known to be large enough.</summary>
    private ref struct Writer(byte[] buffer, int at)
    {
        public int At = at;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(buffer.AsSpan(At));
            At += bytes.Length;
        }

        /// <summary>A part's content, ending with a line end as <see cref="MimePart"/> makes it.</summary>
        public void Terminated(Part content)
        {
            content.CopyTo(buffer.AsSpan(At));
            At += content.Length;
            if (!content.EndsWithLineEnd)
                Write("\r\n"u8);
        }

        public void Ascii(string text) => At += System.Text.Encoding.ASCII.GetBytes(text, buffer.AsSpan(At));

        /// <summary>A header field from MimeKit's raw value, whose line ends are LF: CRLF on the wire.</summary>
        public void Line(ReadOnlySpan<byte> field, ReadOnlySpan<byte> raw)
        {
            Write(field);
            while (raw.IndexOf((byte)'\n') is var lf and >= 0)
            {
                Write(raw[..lf]);
                Write("\r\n"u8);
                raw = raw[(lf + 1)..];
            }
            Write(raw);
        }
    }

    private static Header Raw(HeaderId id, byte[] value)
    {
        var header = new Header(id, "");
        header.SetRawValue(value);
        return header;
    }

    private static Header Raw(string field, byte[] value)
    {
        var header = new Header(field, "");
        header.SetRawValue(value);
        return header;
    }

    /// <summary>The raw bytes (as MimeKit formats them) of the headers every message of an announcement shares.</summary>
    internal sealed class SharedHeaders(Func<HeaderId, string, byte[]> format, string from, string? replyTo, string subject, string listId)
    {
        public byte[] From { get; } = format(HeaderId.From, from);
        public byte[]? ReplyTo { get; } = replyTo is null ? null : format(HeaderId.ReplyTo, replyTo);
        public byte[] Subject { get; } = format(HeaderId.Subject, subject);
        public byte[] ListId { get; } = format(HeaderId.ListId, listId);
        public byte[] ListUnsubscribePost { get; } = format(HeaderId.Unknown, "List-Unsubscribe=One-Click");
        public byte[] MimeVersion { get; } = format(HeaderId.MimeVersion, "1.0");

        /// <summary>An upper bound of the shared headers' length on the wire (every LF may become CRLF).</summary>
        public int Length => 2 * (From.Length + (ReplyTo?.Length ?? 0) + Subject.Length + ListId.Length + ListUnsubscribePost.Length + MimeVersion.Length + 64);

        // Swapped as one reference: composers on several threads read it.
        private DateLine _date = new(long.MinValue, TimeSpan.Zero, []);

        private sealed record DateLine(long Second, TimeSpan Offset, byte[] Raw);

        /// <summary>
        /// The Date header's bytes. RFC 5322's date has whole seconds, and an announcement's messages
        /// mostly share theirs, so the last second's is kept (compared by second: callers pass the
        /// clock's time, which is never the same twice).
        /// </summary>
        public byte[] Date(DateTimeOffset date)
        {
            var last = _date;
            var second = date.ToUnixTimeSeconds();
            if (last.Second == second && last.Offset == date.Offset)
                return last.Raw;
            var raw = format(HeaderId.Date, MimeKit.Utils.DateUtils.FormatDate(date));
            _date = new DateLine(second, date.Offset, raw);
            return raw;
        }

        public static byte[] Format(HeaderId id, string value) =>
            (id == HeaderId.Unknown ? new Header("List-Unsubscribe-Post", value) : new Header(id, value)).RawValue;
    }

    private static Multipart Body(Draft draft, byte[] text, byte[] html)
    {
        var body = new Multipart("alternative") { Boundary = draft.Boundary };
        body.Add(MimePart(TextFormat.Plain, text));
        body.Add(MimePart(TextFormat.Html, html));
        return body;
    }

    /// <summary>
    /// The bytes MimeKit writes around the two parts' contents (the body's own headers, the
    /// boundaries, the parts' headers), learnt once per announcement: a message is its headers, then
    /// these joined with its two contents.
    /// </summary>
    internal sealed class BodyLayout(byte[] prefix, byte[] middle, byte[] suffix)
    {
        public byte[] Prefix => prefix;
        public byte[] Middle => middle;
        public byte[] Suffix => suffix;
        public int Length => prefix.Length + middle.Length + suffix.Length;

        public static BodyLayout? Learn(Draft draft)
        {
            byte[] one = "pythonhpc-layout-part-one\r\n"u8.ToArray(), two = "pythonhpc-layout-part-two\r\n"u8.ToArray();
            using var stream = new MemoryStream();
            Body(draft, one, two).WriteTo(MessageSigner.Wire, stream);
            var written = stream.ToArray().AsSpan();
            var first = written.IndexOf(one);
            var second = written.IndexOf(two);
            if (first < 0 || second < first + one.Length)
                return null;
            return new BodyLayout(written[..first].ToArray(), written[(first + one.Length)..second].ToArray(), written[(second + two.Length)..].ToArray());
        }
    }

    private static TextPart MimePart(TextFormat format, byte[] encoded)
    {
        // Every part ends with a line end, so that the bytes around the parts are the same for every
        // message (see BodyLayout).
        if (!encoded.AsSpan().EndsWith("\r\n"u8))
            encoded = [.. encoded, (byte)'\r', (byte)'\n'];
        var part = new TextPart(format)
        {
            ContentTransferEncoding = ContentEncoding.QuotedPrintable,
            Content = new MimeContent(new MemoryStream(encoded, writable: false), ContentEncoding.QuotedPrintable),
        };
        part.ContentType.Charset = "utf-8";
        return part;
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
