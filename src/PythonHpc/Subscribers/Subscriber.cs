namespace PythonHpc.Subscribers;

internal enum SubscriberStatus { Pending, Confirmed, Unsubscribed, Bounced, Complained }

/// <summary>How a subscriber came: the form, an imported list, or the owner's command line.</summary>
internal enum SubscriberSource { Web, Import, Cli }

/// <summary>The request a consent was given or confirmed with, kept as proof of consent.</summary>
internal sealed record Consent(DateTimeOffset? Time, string? Ip, string? UserAgent);

internal sealed record Subscriber(
    long Id,
    string Email,
    string Name,
    SubscriberStatus Status,
    SubscriberSource Source,
    DateTimeOffset Created,
    DateTimeOffset? Confirmed,
    DateTimeOffset? Unsubscribed,
    Consent Requested,
    Consent Confirmation);
