using PythonHpc.Announcements;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// A run's own view of its claims (<see cref="ClaimLease"/>): they hold until Cluster:FailoverAfter
/// after the last renewal that came in time, less a tenth; once lost, lost for the run. And a run
/// whose claims lapse while a message waits to go does not send it. ClusterTests pauses a whole node
/// with SIGSTOP.
/// </summary>
public sealed class ClaimLeaseTests : IDisposable
{
    private static readonly TimeSpan Length = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Claims_hold_until_a_tenth_before_they_lapse_and_a_renewal_in_time_extends_them_from_its_start()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var lease = new ClaimLease(clock, Length);
        clock.Advance(TimeSpan.FromSeconds(26.9));
        Assert.True(lease.Held);

        var renewing = lease.Renewing();
        clock.Advance(TimeSpan.FromSeconds(0.05));
        lease.Renewed(renewing);
        // 30 s from the renewal's start (26.9 s), less 3 s: held until 53.9 s.
        clock.Advance(TimeSpan.FromSeconds(53.8 - 26.95));
        Assert.True(lease.Held);
        clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.False(lease.Held);
        Assert.True(lease.Lost);
    }

    [Fact]
    public void A_renewal_that_comes_back_after_the_claims_lapsed_does_not_bring_them_back()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var lease = new ClaimLease(clock, Length);
        var renewing = lease.Renewing();
        // Paused in the middle of the statement, past the claims' end: another node may have taken rows.
        clock.Advance(TimeSpan.FromSeconds(40));
        lease.Renewed(renewing);
        Assert.False(lease.Held);

        // Nor does one that comes in time afterwards: lost stays lost.
        renewing = lease.Renewing();
        lease.Renewed(renewing);
        Assert.False(lease.Held);
    }

    [Fact]
    public void Lost_claims_stay_lost_though_a_renewal_that_started_before_comes_back_and_a_restart_is_a_fresh_lease()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var lease = new ClaimLease(clock, Length);
        clock.Advance(TimeSpan.FromSeconds(10));
        var before = lease.Renewing();
        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.False(lease.Held);
        lease.Restart();
        Assert.True(lease.Held);

        // The renewal of the lost lease comes back late: it neither extends nor loses the new one.
        lease.Renewed(before);
        clock.Advance(TimeSpan.FromSeconds(26.9));
        Assert.True(lease.Held);
        clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.False(lease.Held);
    }

    [Fact]
    public void Claims_found_lost_cancel_the_waits_of_the_pass_and_a_restart_gives_a_token_not_cancelled()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        using var lease = new ClaimLease(clock, Length);
        var first = lease.LostToken;
        clock.Advance(TimeSpan.FromSeconds(26.9));
        Assert.True(lease.Held);
        Assert.False(first.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.False(lease.Held);
        Assert.True(first.IsCancellationRequested);

        lease.Restart();
        Assert.True(lease.Held);
        Assert.False(lease.LostToken.IsCancellationRequested);
    }

    /// <summary>
    /// The second message (grace) waits a second for Mail:MaxPerSecond; meanwhile the clock moves past
    /// the claims' end (as it does for a process paused that long) and another owner takes grace's
    /// lapsed row. Grace's message is not sent; the run gives back what it still holds, takes again
    /// the row nobody took (alan) under fresh claims and sends it.
    /// </summary>
    [Fact]
    public async Task A_run_whose_claims_lapse_while_a_message_waits_to_go_does_not_send_it_and_sends_the_rows_nobody_took()
    {
        // The clock moves by itself too: the pacer lets alan's message go a second after grace's slot.
        await using var rig = AnnouncementRig.Create(_folder, smtpPort: null, extra: new Dictionary<string, string?> { ["Mail:MaxPerSecond"] = "1" }, realTime: true);
        await rig.Subscribe(["ada@example.org", "grace@example.org", "alan@example.org"]);
        var announcement = await rig.Store.AnnouncementFor(rig.Post, Ct);
        var mailbox = new Mailbox(rig.Folder["mail"]);

        await SendTakingOverAfterTheFirst(rig, announcement, taking: 1, ["grace@example.org"]);

        Assert.Equal(["ada@example.org", "alan@example.org"], mailbox.Files.Select(f => Mailbox.Read(f).Header("To")).Order(StringComparer.Ordinal));
        var counts = await rig.Counts();
        Assert.Equal((2, 1, 0, 0), (counts.Sent, counts.Pending, counts.Deferred, counts.Failed));
        Assert.Equal(["other"], await rig.Store.ClaimOwners(announcement.Id, Ct));
    }

    /// <summary>
    /// A refusal that comes after the claims were lost is not recorded: the row may be another node's by
    /// then, sent, and a "deferred" over it would have it mailed again. Here the relay answers 450 to the
    /// second reader once the clock has moved past the claims' end and another owner has taken the row.
    /// </summary>
    [Fact]
    public async Task A_refusal_after_the_claims_were_lost_leaves_the_row_to_its_new_owner()
    {
        using var server = SmtpRecorder.Start(_folder["received"]);
        await using var rig = AnnouncementRig.Create(_folder, server.Port, connections: 1, extra: new Dictionary<string, string?> { ["Mail:MaxPerSecond"] = "1" });
        await rig.Subscribe(["ada@example.org", "busy-450@example.org"]);
        var announcement = await rig.Store.AnnouncementFor(rig.Post, Ct);

        await SendTakingOverAfterTheFirst(rig, announcement, taking: 10, ["busy-450@example.org"]);

        // The relay refused it (it was asked), and the row is as the other owner took it: pending, no attempt.
        Assert.Equal(["ada@example.org"], server.Recipients);
        var counts = await rig.Counts();
        Assert.Equal((1, 1, 0), (counts.Sent, counts.Pending, counts.Deferred));
        Assert.Equal(["other"], await rig.Store.ClaimOwners(announcement.Id, Ct));
        rig.Clock.Advance(TimeSpan.FromMinutes(2));
        var row = Assert.Single(await rig.Store.ClaimDeliveries(announcement.Id, "third", rig.Clock.Now + TimeSpan.FromMinutes(1), 0, 10, Ct));
        Assert.Equal(("busy-450@example.org", 0), (row.Email, row.Attempts));
    }

    /// <summary>
    /// Sends <paramref name="announcement"/>; once the first message is sent and its outcome committed
    /// (before the sender waits for the pacer), moves the clock past the claims' end and has another
    /// owner take up to <paramref name="taking"/> lapsed rows, which must be <paramref name="taken"/>.
    /// </summary>
    private static async Task SendTakingOverAfterTheFirst(AnnouncementRig rig, PythonHpc.Announcements.Announcement announcement, int taking, string[] taken)
    {
        var sending = rig.Announcer.Send(announcement, rig.Post, report: null, Ct);
        while ((await rig.Counts()).Sent == 0 && !sending.IsCompleted)
            await Task.Delay(5, Ct);
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        var rows = await rig.Store.ClaimDeliveries(announcement.Id, "other", rig.Clock.Now + TimeSpan.FromMinutes(1), 0, taking, Ct);
        Assert.Equal(taken, rows.Select(t => t.Email));
        await sending.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }
}
