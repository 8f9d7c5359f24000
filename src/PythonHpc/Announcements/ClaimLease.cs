namespace PythonHpc.Announcements;

/// <summary>
/// What this process can know of its own claims during a run: they last <see
/// cref="ClusterOptions.FailoverAfter"/> from the start of the last renewal that succeeded (or from
/// the run's start), after which another node may take the rows. A process paused past that (a VM
/// frozen, SIGSTOP, a laptop asleep, a long GC) finds on waking that its claims are no longer held
/// and must not send the rows it still had queued: another node may have sent them meanwhile. Its
/// senders look here before each message and again just before its final dot; once the claims are
/// lost they stay lost for the run, even if a later renewal succeeds, since it renews only the rows
/// nobody took and says nothing of those that were.
/// <para>
/// Judged on the wall clock, as other nodes judge the claims (<c>claimed_until</c> against their
/// own): a monotonic clock would not count the time a machine is suspended. A margin of a tenth of
/// the length is kept for the nodes' clocks to differ and for a message to reach its final dot.
/// Claims are taken and renewed one at a time (<see cref="Gate"/>): a renewal that overtook a claim
/// under way would say the lease runs from its own start while that claim's rows run from earlier.
/// </para>
/// </summary>
internal sealed class ClaimLease(TimeProvider clock, TimeSpan length) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeSpan _margin = length / 10;
    private DateTimeOffset _until = clock.GetUtcNow() + length;
    private bool _lost;
    private int _generation;
    private CancellationTokenSource _lostSource = new();

    /// <summary>Held while claims are taken or renewed, so that one never overtakes the other.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>How long a claim lasts (Cluster:FailoverAfter).</summary>
    public TimeSpan Length => length;

    /// <summary>
    /// How often the claims are renewed: a third of their length. A renewal that fails is tried again a
    /// second later; claims not renewed for nine tenths of their length are lost.
    /// </summary>
    public TimeSpan RenewEvery => length / 3;

    /// <summary>Whether the claims still hold, with the margin; false from the first time they do not, until <see cref="Restart"/>.</summary>
    public bool Held => Check(renewing: null);

    /// <summary>Lost, and <see cref="Held"/> said so: for the run's log and its report.</summary>
    public bool Lost
    {
        get
        {
            lock (_lock)
                return _lost;
        }
    }

    /// <summary>Cancelled when the claims are found lost: ends the waits of the pass that holds them (for the pacer, for a claim).</summary>
    public CancellationToken LostToken
    {
        get
        {
            lock (_lock)
                return _lostSource.Token;
        }
    }

    /// <summary>Before a renewal's statement: when it starts (its claims run from then) and for which lease.</summary>
    public (DateTimeOffset Started, int Generation) Renewing()
    {
        lock (_lock)
            return (clock.GetUtcNow(), _generation);
    }

    /// <summary>
    /// A renewal that started at <paramref name="renewing"/> has been committed. It extends the claims
    /// only if they still held when it finished: one committed later renewed what was left of them,
    /// and the rest may be another node's by then.
    /// </summary>
    public void Renewed((DateTimeOffset Started, int Generation) renewing) => Check(renewing);

    /// <summary>A fresh lease for a new pass, once the lost one's claims are given back; taken before any new claim.</summary>
    public void Restart()
    {
        lock (_lock)
        {
            (_until, _lost) = (clock.GetUtcNow() + length, false);
            _generation++;
            // The old source is left to the collector, not disposed: a check that found the old claims
            // lost may be about to cancel it (it holds no timer or handle to free).
            _lostSource = new CancellationTokenSource();
        }
    }

    public void Dispose()
    {
        _lostSource.Dispose();
        Gate.Dispose();
    }

    /// <summary>
    /// Finds the claims lost when the margin is reached; extends them by a renewal that came in time
    /// (one of an earlier lease changes nothing). Returns whether they hold.
    /// </summary>
    private bool Check((DateTimeOffset Started, int Generation)? renewing)
    {
        CancellationTokenSource? lost = null;
        bool held;
        lock (_lock)
        {
            if (!_lost && clock.GetUtcNow() + _margin >= _until)
                (_lost, lost) = (true, _lostSource);
            if (!_lost && renewing is { } renewal && renewal.Generation == _generation)
                _until = renewal.Started + length;
            held = !_lost;
        }
        // Outside the lock: cancelling runs the waits' continuations, which may look here again.
        lost?.Cancel();
        return held;
    }
}

/// <summary>Thrown just before a message's final dot when the run's claims are lost: the message is not sent.</summary>
internal sealed class ClaimsLostException() : Exception("this process's claims lapsed before the message's end was sent; it was not sent");
