using System.Diagnostics;
using System.Threading.Channels;
using PythonHpc.Content;
using PythonHpc.Mail;
using PythonHpc.Subscribers;

namespace PythonHpc.Announcements;

/// <summary>Counts of one run, updated as outcomes are added to the ledger (a few ahead of its commits); read by progress reports.</summary>
internal sealed class RunProgress(int total)
{
    private int _sent, _deferred, _failed, _skipped, _duplicates;

    public int Total { get; set; } = total;
    public int Sent => _sent;
    public int Deferred => _deferred;
    public int Failed => _failed;
    public int Skipped => _skipped;
    public int PossibleDuplicates => _duplicates;
    public int Done => Sent + Deferred + Failed + Skipped;
    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public void Count(DeliveryOutcome outcome, bool newDuplicate)
    {
        switch (outcome.Status)
        {
            case DeliveryStatus.Sent: Interlocked.Increment(ref _sent); break;
            case DeliveryStatus.Deferred: Interlocked.Increment(ref _deferred); break;
            case DeliveryStatus.Failed: Interlocked.Increment(ref _failed); break;
            case DeliveryStatus.Skipped: Interlocked.Increment(ref _skipped); break;
        }
        if (newDuplicate)
            Interlocked.Increment(ref _duplicates);
    }

    public double PerSecond => Done / Math.Max(Clock.Elapsed.TotalSeconds, 0.001);

    public override string ToString()
    {
        var rate = PerSecond;
        var left = Math.Max(Total - Done, 0);
        var eta = rate > 0 ? TimeSpan.FromSeconds(Math.Round(left / rate)) : TimeSpan.Zero;
        return $"{Sent} sent, {Deferred} deferred, {Failed} failed, {Skipped} skipped of {Total}; {rate:0} messages/s; {left} left, about {eta:c}";
    }
}

/// <summary>
/// Sends one announcement's due ledger rows: a reader takes rows in subscriber order, one sender per
/// connection composes, paces, sends and records each outcome, committed before that connection's
/// next final dot (<see cref="Ledger"/>). Stopping (the token) ends the reading; messages already
/// handed over finish.
/// </summary>
internal sealed partial class DeliveryRun(
    AnnouncementStore store, AnnouncementMessage messages, PostContent content, Subscriptions subscriptions, MailTransport transport,
    MailOptions mail, SendPacer pacer, TimeProvider clock, ILogger<DeliveryRun> log)
{
    private const int Batch = 512;
    private const int Handful = 16;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    /// <summary>How many messages go at once: one per SMTP connection; two writers for the pickup folder.</summary>
    public int Senders => mail.Smtp.Enabled ? mail.Smtp.MaxConnections : 2;

    /// <summary>
    /// Sends the rows this process can claim, under <paramref name="lease"/> (renewed by the caller). A
    /// pass whose claims were lost (the process was paused past Cluster:FailoverAfter) gives back what
    /// it still holds and is followed by a new pass under a fresh lease, which takes only the rows no
    /// other node took meanwhile.
    /// </summary>
    public async Task<RunProgress> Send(Announcement announcement, Post? post, ClaimLease lease, Action<RunProgress>? report, CancellationToken stop)
    {
        // What every message shares (the post rendered, the parts before the reader's name) is made on
        // another core while the ledger's rows are taken: each takes a few tens of milliseconds.
        var drafting = post?.Webinar is { } webinar && post.IsPublishedAt(clock.GetUtcNow())
            ? Task.Run(() => messages.Prepare(post, webinar, content.Render(post)), stop)
            : null;
        await store.AddDeliveries(announcement.Id, stop);
        var counts = await store.Counts(announcement.Id, stop);
        var progress = new RunProgress(counts.Pending + counts.Deferred);
        if (drafting is null)
        {
            LogPostGone(log, announcement.Id, announcement.Title);
            await SkipAll(announcement, progress, "the post is no longer published", stop);
            return progress;
        }
        // The hourly cap counts what went in the last hour, also before this process started.
        if (pacer.NeedsSeed)
            pacer.Seed(await store.SentSince(clock.GetUtcNow() - TimeSpan.FromHours(1), stop));
        var draft = await drafting;
        using var ledger = await Ledger.Open(store.Database, announcement.Id, clock, stop);
        using var reporting = new CancellationTokenSource();
        var reporter = Report(announcement, progress, report, reporting.Token);
        try
        {
            await Pass(announcement, draft, ledger, lease, progress, stop);
            var doneAtLoss = -1;
            while (!stop.IsCancellationRequested)
            {
                if (lease.Lost)
                {
                    LogClaimsLost(log, announcement.Id);
                    // Every outcome of the pass is committed (its senders have ended): what this process
                    // still holds is unsent, and goes back at once, for whoever looks next.
                    await store.ReleaseClaims(announcement.Id, Announcer.Owner, CancellationToken.None);
                    // Lost again before a single message went (the database slow or away): a pause
                    // before trying again, as long as the run is not stopped, rather than go round at once.
                    if (progress.Done == doneAtLoss)
                    {
                        try
                        {
                            await Task.Delay(lease.RenewEvery, clock, stop);
                        }
                        catch (OperationCanceledException) when (stop.IsCancellationRequested)
                        {
                            break;
                        }
                    }
                    doneAtLoss = progress.Done;
                    // Before any new claim; a renewal of the old lease still under way changes nothing
                    // in the new one (see ClaimLease) nor in the database (claims are only extended).
                    lease.Restart();
                    await Pass(announcement, draft, ledger, lease, progress, stop);
                }
                // Those who confirmed during the run are added at its end, and sent in another pass.
                else if (await store.AddDeliveries(announcement.Id, stop) is var added and > 0)
                {
                    progress.Total += added;
                    await Pass(announcement, draft, ledger, lease, progress, stop);
                }
                else
                {
                    break;
                }
            }
        }
        finally
        {
            await reporting.CancelAsync();
            await reporter;
        }
        report?.Invoke(progress);
        LogProgress(log, announcement.Id, progress);
        return progress;
    }

    /// <summary>
    /// One pass over the due rows: a reader takes them in subscriber order into a small bounded queue,
    /// and one sender per connection composes, sends and records each. Composing in the sender (about
    /// 12 core-µs a message, bench/run) costs less than handing messages between threads did: with a
    /// stage of composers in front, a fifth of an announcement's CPU time went to threads waking and
    /// yielding (perf). Each sender has a thread of its own and blocks in the socket
    /// (<see cref="MailTransport.SendBlocking"/>): the kernel wakes it when its reply comes, where an
    /// awaiting sender went through the socket engine's thread and the thread pool at every reply.
    /// </summary>
    private async Task Pass(Announcement announcement, AnnouncementMessage.Draft draft, Ledger ledger, ClaimLease lease, RunProgress progress, CancellationToken stop)
    {
        // Rows go to the senders a handful at a time: handed over one by one, each taken row woke the
        // reader to put the next one in (two context switches a message).
        var rows = Channel.CreateBounded<Delivery[]>(new BoundedChannelOptions(Senders * 2) { SingleWriter = true });
        // A sender that fails (the ledger cannot be written) stops the reading too: with no one taking
        // rows, the reader would otherwise wait on a full queue for ever. Claims found lost stop it as
        // well, and end the senders' waits for the pacer.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stop, lease.LostToken);
        var senders = Enumerable.Range(0, Senders)
            .Select(i => OnThread($"pythonhpc sender {i + 1}", () => Sender(announcement, draft, rows.Reader, ledger, lease, progress, failed), failed.Cancel)).ToList();
        try
        {
            long after = 0;
            while (!failed.IsCancellationRequested && lease.Held)
            {
                IReadOnlyList<Delivery> batch;
                await lease.Gate.WaitAsync(failed.Token);
                try
                {
                    batch = await store.ClaimDeliveries(announcement.Id, after, Batch, failed.Token);
                }
                finally
                {
                    lease.Gate.Release();
                }
                if (batch.Count == 0)
                    break;
                foreach (var handful in batch.Chunk(Handful))
                    await rows.Writer.WriteAsync(handful, failed.Token);
                after = batch[^1].SubscriberId;
            }
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested)
        {
        }
        finally
        {
            rows.Writer.TryComplete();
            await Task.WhenAll(senders);
        }
    }

    /// <summary>Runs <paramref name="work"/> on a new thread; the task ends with it. <paramref name="failing"/> runs first if it throws.</summary>
    private static Task OnThread(string name, Action work, Action failing)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                work();
                done.SetResult();
            }
            catch (Exception e)
            {
                try
                {
                    failing();
                }
                finally
                {
                    done.SetException(e);
                }
            }
        }) { IsBackground = true, Name = name }.Start();
        return done.Task;
    }

    /// <summary>
    /// One connection's loop. Sends are not cancelled: a message on the wire is finished and recorded.
    /// Each outcome is committed before the next message's final dot (<see cref="Ledger"/>), and before
    /// the sender waits for rows or for the pacer. Once the pass is stopped (the run is, a sender
    /// failed, or the claims were lost), no further row is taken; a message still held back by the
    /// pacer is not sent, and its row stays as it was, for the next run (the wait may be most of an
    /// hour). Once the claims are lost (<see cref="ClaimLease"/>), not even the
    /// message being written is: its final dot is not sent, and the sender ends.
    /// </summary>
    private void Sender(Announcement announcement, AnnouncementMessage.Draft draft, ChannelReader<Delivery[]> rows, Ledger ledger, ClaimLease lease, RunProgress progress,
        CancellationTokenSource pass)
    {
        var (handful, taken, added) = (Array.Empty<Delivery>(), 0, 0L);
        var commit = () => ledger.Committed(added);
        // The last look before the server has the message, after the previous outcome is committed.
        var beforeEnd = () =>
        {
            commit();
            if (!lease.Held)
                throw new ClaimsLostException();
        };
        try
        {
            while (!pass.IsCancellationRequested && Next(rows, ref handful, ref taken, commit) is { } row && !pass.IsCancellationRequested)
            {
                if (!lease.Held)
                {
                    pass.Cancel();
                    break;
                }
                // Those who left, bounced or complained since the ledger was taken are skipped, not mailed.
                if (!row.Confirmed)
                {
                    added = Record(ledger, progress, row, new DeliveryOutcome(row.SubscriberId, DeliveryStatus.Skipped, row.Attempts, row.FirstAttempt, null, "no longer subscribed", null, row.PossibleDuplicates));
                    continue;
                }
                var now = clock.GetUtcNow();
                var recipient = new Recipient(row.Email, row.Name.Length > 0 ? row.Name : null, subscriptions.UnsubscribeUrl(row.SubscriberId));
                WireMessage message;
                try
                {
                    message = messages.Compose(draft, recipient, now);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A message that cannot be built (a bug, or a name MimeKit refuses) must neither stop the
                    // run silently nor be lost: it is deferred like a refusal, and said in the log.
                    LogComposeFailed(log, e, announcement.Id, row.SubscriberId);
                    added = Record(ledger, progress, row, Later(row, row.FirstAttempt ?? now, "not composed: " + e.Message, null, row.PossibleDuplicates));
                    continue;
                }
                // The message's pooled bytes go back once it is sent, or left for the next run.
                using (message)
                {
                    // A refusal after the claims were lost is not recorded: the row may be another node's
                    // by now, sent, and must not be marked for sending again. What may have gone (sent,
                    // or the connection lost after its end) is recorded, and counted when it may go twice.
                    if (Deliver(row, message, row.FirstAttempt ?? now, commit, beforeEnd, pass.Token) is { } outcome
                        && (outcome.Status == DeliveryStatus.Sent || outcome.PossibleDuplicates > row.PossibleDuplicates || lease.Held))
                        added = Record(ledger, progress, row, outcome);
                }
            }
        }
        finally
        {
            commit();
        }
    }

    /// <summary>
    /// The next row of the sender's handful, or of a new handful from the queue, waiting for the reader
    /// (with what the sender has added committed first) while the queue is empty; null once the queue
    /// is complete and empty.
    /// </summary>
    private static Delivery? Next(ChannelReader<Delivery[]> rows, ref Delivery[] handful, ref int taken, Action commit)
    {
        while (taken == handful.Length)
        {
            while (!rows.TryRead(out handful!))
            {
                commit();
                if (!rows.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                    return null;
            }
            taken = 0;
        }
        return handful[taken++];
    }

    /// <summary>Adds the outcome to the ledger's next commit and counts it; returns its number in the ledger.</summary>
    private static long Record(Ledger ledger, RunProgress progress, Delivery row, DeliveryOutcome outcome)
    {
        progress.Count(outcome, outcome.PossibleDuplicates > row.PossibleDuplicates);
        return ledger.Add(outcome);
    }

    /// <summary>
    /// The outcome of sending <paramref name="message"/>; null when it was not sent and its row stays as
    /// it was (the pass stopped while the pacer held it, or the claims were lost before its end).
    /// </summary>
    private DeliveryOutcome? Deliver(Delivery row, WireMessage message, DateTimeOffset first, Action commit, Action beforeEnd, CancellationToken pass)
    {
        // The Message-ID Compose wrote: the same for this announcement and address every time.
        var messageId = message.MessageId;
        var attempts = row.Attempts + 1;
        try
        {
            // The pacer may hold the sender for long: what it has sent is committed first.
            if (pacer.Enabled)
                commit();
            pacer.Wait(pass).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (pass.IsCancellationRequested)
        {
            return null;
        }
        try
        {
            var reply = transport.SendBlocking(message, beforeEnd);
            return new DeliveryOutcome(row.SubscriberId, DeliveryStatus.Sent, attempts, first, null, reply, messageId, row.PossibleDuplicates);
        }
        catch (ClaimsLostException)
        {
            return null;
        }
        catch (MailSendException e) when (e.Permanent)
        {
            return new DeliveryOutcome(row.SubscriberId, DeliveryStatus.Failed, attempts, first, null, e.Message, messageId, row.PossibleDuplicates,
                e.UnknownMailbox ? 1 : mail.BounceAfter);
        }
        catch (MailSendException e)
        {
            return Later(row, first, e.Message, messageId, row.PossibleDuplicates + (e.MaybeDelivered ? 1 : 0));
        }
    }

    /// <summary>Deferred to a time backed off from the attempts so far, or failed once Mail:RetryFor has passed since the first.</summary>
    private DeliveryOutcome Later(Delivery row, DateTimeOffset first, string reply, string? messageId, int duplicates)
    {
        var now = clock.GetUtcNow();
        var attempts = row.Attempts + 1;
        var failed = now - first >= mail.RetryFor;
        return new DeliveryOutcome(row.SubscriberId, failed ? DeliveryStatus.Failed : DeliveryStatus.Deferred, attempts, first,
            failed ? null : now + Backoff(attempts), reply, messageId, duplicates);
    }

    /// <summary>1, 2, 4 … minutes, at most an hour, each ±20 % so that deferred rows do not come back in one burst.</summary>
    internal static TimeSpan Backoff(int attempts)
    {
        var minutes = Math.Min(Math.Pow(2, Math.Min(attempts - 1, 10)), 60);
        return TimeSpan.FromMinutes(minutes * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    private async Task SkipAll(Announcement announcement, RunProgress progress, string reason, CancellationToken stop)
    {
        using var ledger = await Ledger.Open(store.Database, announcement.Id, clock, stop);
        long after = 0;
        while (await store.ClaimDeliveries(announcement.Id, after, Batch, stop) is { Count: > 0 } rows)
        {
            foreach (var row in rows)
            {
                var outcome = new DeliveryOutcome(row.SubscriberId, DeliveryStatus.Skipped, row.Attempts, row.FirstAttempt, null, reason, null, row.PossibleDuplicates);
                ledger.Record(outcome);
                progress.Count(outcome, newDuplicate: false);
            }
            after = rows[^1].SubscriberId;
        }
    }

    private async Task Report(Announcement announcement, RunProgress progress, Action<RunProgress>? report, CancellationToken done)
    {
        var nextLog = ProgressEvery;
        try
        {
            while (true)
            {
                await Task.Delay(report is null ? ProgressEvery : TimeSpan.FromMilliseconds(200), clock, done);
                report?.Invoke(progress);
                if (progress.Clock.Elapsed < nextLog)
                    continue;
                LogProgress(log, announcement.Id, progress);
                nextLog = progress.Clock.Elapsed + ProgressEvery;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Announcement {Id}: the message to subscriber {Subscriber} could not be composed; deferred (failed after Mail:RetryFor)")]
    private static partial void LogComposeFailed(ILogger logger, Exception exception, long id, long subscriber);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Announcement {Id}: this process's claims lapsed before it could renew them (it was paused, or the database was out of reach, for about Cluster:FailoverAfter); its queued messages were not sent, and it takes again only the rows no other node took")]
    private static partial void LogClaimsLost(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Announcement {Id}: {Progress}")]
    private static partial void LogProgress(ILogger logger, long id, RunProgress progress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Announcement {Id} ({Title}): its post is gone or no longer published; its deliveries are skipped")]
    private static partial void LogPostGone(ILogger logger, long id, string title);
}
