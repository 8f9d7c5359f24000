using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;

namespace PythonHpc.Subscribers;

/// <summary>
/// The subscription form's rate limits: <c>Subscribers:PerClientPerMinute</c> per client and
/// <c>Subscribers:TotalPerMinute</c> for all together, as token buckets that hold a minute's
/// requests and refill steadily, no queueing. (Fixed one-minute windows let twice the rate through
/// across a window's edge, and a whole minute's budget in one burst: measured by bench/run.)
/// A client is an IPv4 address or an IPv6 /64 (one household or server gets a whole /64, RFC 6177).
/// Behind a reverse proxy on this machine the client is the one X-Forwarded-For names (see Program.cs).
/// </summary>
internal sealed class SubscribeLimiter(SubscribersOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext> _limiter = PartitionedRateLimiter.CreateChained(
        PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetTokenBucketLimiter(
            Client(context.Connection.RemoteIpAddress), _ => Bucket(options.PerClientPerMinute))),
        PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetTokenBucketLimiter(
            "all", _ => Bucket(options.TotalPerMinute))));

    public RateLimitLease Acquire(HttpContext context) => _limiter.AttemptAcquire(context);

    /// <summary>
    /// A minute's requests at most, refilled in steps of at least 100 ms (a refill timer per token
    /// would tick a million times a second at a raised limit).
    /// </summary>
    internal static TokenBucketRateLimiterOptions Bucket(int perMinute)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromMinutes(1).Ticks / perMinute));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            ReplenishmentPeriod = period,
            TokensPerPeriod = (int)Math.Max(1, Math.Round(perMinute * period.TotalMinutes)),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    internal static string Client(IPAddress? address)
    {
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose() => _limiter.Dispose();
}
