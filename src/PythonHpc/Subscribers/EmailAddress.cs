using System.Globalization;
using MimeKit;

namespace PythonHpc.Subscribers;

/// <summary>
/// A subscriber's address as it is stored: one bare address (no display name, no quotes, no
/// comments), trimmed, its domain lower-cased and IDN-encoded (RFC 5890 A-labels, which every SMTP
/// server accepts). <see cref="Key"/> is what makes <c>Alice@Example.org</c> and
/// <c>alice@example.org</c> one subscriber: the local part is case-sensitive by RFC 5321 §2.4, but no
/// mailbox provider treats it so, and a list that did would mail one person twice.
/// </summary>
internal readonly record struct EmailAddress(string Value)
{
    /// <summary>RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets.</summary>
    public const int MaxLength = 254;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    public string Key => Value.ToLowerInvariant();

    public override string ToString() => Value;

    /// <summary>The address, or why it is not one (a sentence fit to show after the field's name).</summary>
    public static bool TryParse(string? input, out EmailAddress address, out string error)
    {
        address = default;
        error = Check(input?.Trim(' ', '\t') ?? "", out var parsed);
        if (error.Length > 0)
            return false;
        address = parsed;
        return true;
    }

    private static string Check(string text, out EmailAddress address)
    {
        address = default;
        if (text.Length == 0)
            return "is empty";
        if (text.Any(char.IsControl))
            return "must not contain line breaks or control characters";
        if (text.Length > MaxLength)
            return $"is longer than {MaxLength} characters";
        if (text.IndexOfAny(['<', '>', '"', '(', ')', ',', ';', ' ', '\\']) >= 0)
            return "must be a bare address such as ada@example.org, without a name, quotes, spaces or a list";
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
            return "must be an address such as ada@example.org, with a domain";
        var local = text[..at];
        string domain;
        try
        {
            domain = Idn.GetAscii(text[(at + 1)..].TrimEnd('.')).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return $"has a domain that is not a valid host name: '{text[(at + 1)..]}'";
        }
        if (!domain.Contains('.') || local.Length > 64)
            return local.Length > 64 ? "has a part before the @ longer than 64 characters" : $"must have a domain such as example.org, not '{domain}'";
        var candidate = local + "@" + domain;
        // What MimeKit reads is what will be sent to: it must read the whole text as this one mailbox.
        if (!MailboxAddress.TryParse(ParserOptions.Default, candidate, out var mailbox) || mailbox is null || !string.IsNullOrEmpty(mailbox.Name)
            || !string.Equals(mailbox.LocalPart, local, StringComparison.Ordinal)
            || !string.Equals(Idn.GetAscii(mailbox.Domain).ToLowerInvariant(), domain, StringComparison.Ordinal) || candidate.Length > MaxLength)
            return "is not a valid email address";
        address = new EmailAddress(candidate);
        return "";
    }
}
