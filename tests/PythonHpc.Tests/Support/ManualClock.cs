namespace PythonHpc.Tests.Support;

/// <summary>
/// A clock a test moves by hand: for token expiry and resend windows. A running one also moves with
/// real time between the test's moves, for code that waits on it (the send pacer sleeps until its
/// window has room; on a stopped clock it never would).
/// </summary>
internal sealed class ManualClock(DateTimeOffset now, bool running = false) : TimeProvider
{
    private readonly long _started = TimeProvider.System.GetTimestamp();
    private DateTimeOffset _set = now;

    public DateTimeOffset Now
    {
        get => running ? _set + TimeProvider.System.GetElapsedTime(_started) : _set;
        set => _set = running ? value - TimeProvider.System.GetElapsedTime(_started) : value;
    }

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
