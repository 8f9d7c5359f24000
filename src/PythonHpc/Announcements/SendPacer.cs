namespace PythonHpc.Announcements;

/// <summary>
/// <c>Mail:MaxPerSecond</c> and <c>Mail:MaxPerHour</c> as sliding windows: before each message, wait
/// until fewer than the cap went in the window that ends now. A sliding window (not a token bucket,
/// which allows twice its rate across a refill) is what makes "never exceeded" true for any second
/// and any hour. The hour is seeded from the ledger, so a restart does not reset it.
/// </summary>
internal sealed class SendPacer(int perSecond, int perHour, TimeProvider clock) : IDisposable
{
    private readonly Window _second = new(perSecond, TimeSpan.FromSeconds(1));
    private readonly Window _hour = new(perHour, TimeSpan.FromHours(1));
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _seeded;

    public bool Enabled => perSecond > 0 || perHour > 0;

    /// <summary>Whether the hour has still to be <see cref="Seed">seeded</see> (only once, and only with an hourly cap).</summary>
    public bool NeedsSeed => perHour > 0 && !_seeded;

    /// <summary>The times of the messages sent in the last hour, oldest first, from the ledger; once (later calls do nothing).</summary>
    public void Seed(IEnumerable<DateTimeOffset> sentInTheLastHour)
    {
        _gate.Wait();
        try
        {
            if (_seeded)
                return;
            foreach (var time in sentInTheLastHour)
                _hour.Add(time);
            _seeded = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Waits for a slot and takes it.</summary>
    public async Task Wait(CancellationToken cancellationToken)
    {
        if (!Enabled)
            return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var now = clock.GetUtcNow();
                var wait = Max(_second.WaitAt(now), _hour.WaitAt(now));
                if (wait <= TimeSpan.Zero)
                {
                    _second.Add(now);
                    _hour.Add(now);
                    return;
                }
                await Task.Delay(wait, clock, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class Window(int cap, TimeSpan length)
    {
        private readonly Queue<DateTimeOffset> _times = new();

        public void Add(DateTimeOffset time)
        {
            if (cap > 0)
                _times.Enqueue(time);
        }

        /// <summary>How long until one more fits: zero when it does now.</summary>
        public TimeSpan WaitAt(DateTimeOffset now)
        {
            if (cap <= 0)
                return TimeSpan.Zero;
            while (_times.Count > 0 && _times.Peek() <= now - length)
                _times.Dequeue();
            return _times.Count < cap ? TimeSpan.Zero : _times.Peek() + length - now + TimeSpan.FromTicks(1);
        }
    }
}
