namespace PythonHpc.Subscribers;

/// <summary>The <c>Subscribers</c> section: the subscription form's policy.</summary>
internal sealed class SubscribersOptions
{
    public const string Section = "Subscribers";

    /// <summary>A confirmation link works this long; then the address must ask again.</summary>
    public TimeSpan ConfirmWithin { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Repeated requests for one pending address within this time send no second confirmation: the
    /// form must not be a way to flood someone's inbox.
    /// </summary>
    public TimeSpan ResendConfirmationAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Subscription requests one client (an IPv4 address, an IPv6 /64) may make a minute.</summary>
    public int PerClientPerMinute { get; set; } = 10;

    /// <summary>Subscription requests all clients together may make a minute.</summary>
    public int TotalPerMinute { get; set; } = 600;

    /// <summary>The subject of the confirmation email, a Liquid template (<c>site.title</c>, <c>recipient.email</c>).</summary>
    public string ConfirmationSubject { get; set; } = "Confirm your subscription to {{ site.title }}";

    public IEnumerable<string> Validate()
    {
        if (ConfirmWithin < TimeSpan.FromMinutes(5) || ConfirmWithin > TimeSpan.FromDays(365))
            yield return $"Subscribers:ConfirmWithin must be between 00:05:00 and 365.00:00:00 (days.hours:minutes:seconds), not {ConfirmWithin}";
        if (ResendConfirmationAfter < TimeSpan.Zero)
            yield return $"Subscribers:ResendConfirmationAfter must not be negative, not {ResendConfirmationAfter}";
        if (PerClientPerMinute < 1)
            yield return $"Subscribers:PerClientPerMinute must be at least 1, not {PerClientPerMinute}";
        if (TotalPerMinute < PerClientPerMinute)
            yield return $"Subscribers:TotalPerMinute ({TotalPerMinute}) must be at least Subscribers:PerClientPerMinute ({PerClientPerMinute})";
        if (string.IsNullOrWhiteSpace(ConfirmationSubject))
            yield return "Subscribers:ConfirmationSubject must not be empty";
    }
}
