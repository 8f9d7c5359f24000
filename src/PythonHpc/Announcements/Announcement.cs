namespace PythonHpc.Announcements;

internal enum AnnouncementState { Scheduled, Sending, Done }

/// <summary>A webinar post's announcement: sent at the first firing after it was found, done when no delivery is left to try.</summary>
internal sealed record Announcement(
    long Id, string PostId, string PostKey, string Title, AnnouncementState State,
    DateTimeOffset Created, DateTimeOffset? Started, DateTimeOffset? Done);

internal enum DeliveryStatus { Pending, Sent, Deferred, Failed, Skipped }

/// <summary>A ledger row due to be sent, with the subscriber as they are now.</summary>
internal sealed record Delivery(
    long SubscriberId, string Email, string Name, bool Confirmed, int Attempts, DateTimeOffset? FirstAttempt, int PossibleDuplicates);

/// <summary>What became of one row: committed before its connection takes another.</summary>
internal sealed record DeliveryOutcome(
    long SubscriberId, DeliveryStatus Status, int Attempts, DateTimeOffset? FirstAttempt, DateTimeOffset? NextAttempt,
    string? Reply, string? MessageId, int PossibleDuplicates, int? BounceThreshold = null);

internal sealed record DeliveryCounts(int Pending, int Sent, int Deferred, int Failed, int Skipped, int PossibleDuplicates)
{
    public int Total => Pending + Sent + Deferred + Failed + Skipped;

    public bool Finished => Pending == 0 && Deferred == 0;

    public override string ToString() =>
        $"{Sent} sent, {Deferred} deferred, {Failed} failed, {Skipped} skipped, {Pending} pending of {Total}"
        + (PossibleDuplicates > 0 ? $"; {PossibleDuplicates} possibly twice" : "");
}
