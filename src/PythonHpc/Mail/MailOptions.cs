using MimeKit;

namespace PythonHpc.Mail;

/// <summary>The <c>Mail</c> section: who the mail comes from and how it is signed.</summary>
internal sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>The sender, as <c>Name &lt;address&gt;</c>. Its domain names the Message-IDs and the List-Id.</summary>
    public string From { get; set; } = "PythonHpc sample blog <webinars@example.org>";

    /// <summary>Where replies go; empty means to <see cref="From"/>.</summary>
    public string ReplyTo { get; set; } = "";

    /// <summary>Printed in every message's footer: bulk mail must carry the sender's postal address (CAN-SPAM).</summary>
    public string PostalAddress { get; set; } = "PythonHpc sample blog, 1 Example Street, Example City 00000";

    public DkimOptions Dkim { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>Where messages are written as <c>.eml</c> files when no <c>Mail:Smtp:Host</c> is set.</summary>
    public string PickupDirectory { get; set; } = "out/mail";

    /// <summary>At most this many messages in any one second (0: no cap). Never exceeded.</summary>
    public int MaxPerSecond { get; set; }

    /// <summary>At most this many messages in any one hour, counted across restarts (0: no cap). Never exceeded.</summary>
    public int MaxPerHour { get; set; }

    /// <summary>A message deferred (4xx, time-outs, dropped connections) is tried again, with growing pauses, for this long; then it has failed.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromDays(3);

    /// <summary>
    /// Hard failures (5xx) after which a subscriber is <c>bounced</c> and gets no more mail. An
    /// unknown mailbox (<c>550 5.1.1</c>) bounces at the first.
    /// </summary>
    public int BounceAfter { get; set; } = 3;

    public MailboxAddress FromAddress { get; private set; } = new("", "webinars@example.org");

    public MailboxAddress? ReplyToAddress { get; private set; }

    /// <summary>The domain of <see cref="From"/>.</summary>
    public string Domain => FromAddress.Domain;

    public IEnumerable<string> Validate()
    {
        if (!MailboxAddress.TryParse(From, out var from) || string.IsNullOrEmpty(from.Domain) || from.Address.Contains('\n'))
            yield return $"Mail:From must be an address such as Blog <webinars@example.org>, not '{From}'";
        else
            FromAddress = from;
        if (!string.IsNullOrWhiteSpace(ReplyTo))
        {
            if (!MailboxAddress.TryParse(ReplyTo, out var replyTo) || string.IsNullOrEmpty(replyTo.Domain))
                yield return $"Mail:ReplyTo must be an address, not '{ReplyTo}'";
            else
                ReplyToAddress = replyTo;
        }
        if (string.IsNullOrWhiteSpace(PostalAddress))
            yield return "Mail:PostalAddress must not be empty: bulk mail must carry the sender's postal address";
        foreach (var error in Dkim.Validate().Concat(Smtp.Validate()))
            yield return error;
        if (MaxPerSecond < 0 || MaxPerHour < 0)
            yield return "Mail:MaxPerSecond and Mail:MaxPerHour must be 0 (no cap) or more";
        if (RetryFor < TimeSpan.Zero || RetryFor > TimeSpan.FromDays(30))
            yield return $"Mail:RetryFor must be between 00:00:00 and 30.00:00:00, not {RetryFor}";
        if (BounceAfter < 1)
            yield return $"Mail:BounceAfter must be at least 1, not {BounceAfter}";
        if (!Smtp.Enabled && string.IsNullOrWhiteSpace(PickupDirectory))
            yield return "Mail:PickupDirectory must name a folder when no Mail:Smtp:Host is set";
    }
}

/// <summary><c>Mail:Dkim</c>: all three keys, or none (no signing).</summary>
internal sealed class DkimOptions
{
    public string Domain { get; set; } = "";
    public string Selector { get; set; } = "";

    /// <summary>A PEM file: an RSA key (PKCS#1 or PKCS#8) or an Ed25519 key (PKCS#8).</summary>
    public string PrivateKeyPath { get; set; } = "";

    public bool Enabled => !string.IsNullOrWhiteSpace(Domain) || !string.IsNullOrWhiteSpace(Selector) || !string.IsNullOrWhiteSpace(PrivateKeyPath);

    public IEnumerable<string> Validate()
    {
        if (!Enabled)
            yield break;
        if (string.IsNullOrWhiteSpace(Domain) || string.IsNullOrWhiteSpace(Selector) || string.IsNullOrWhiteSpace(PrivateKeyPath))
            yield return "Mail:Dkim needs Domain, Selector and PrivateKeyPath together (or none of them, for unsigned mail)";
        else if (!File.Exists(PrivateKeyPath))
            yield return $"Mail:Dkim:PrivateKeyPath '{PrivateKeyPath}' is not a file";
    }
}
