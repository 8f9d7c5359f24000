using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;

namespace PythonHpc.Subscribers;

/// <summary>
/// The subscription form's rate limits: <c>Subscribers:PerClientPerMinute</c> per client and
/// <c>Subscribers:TotalPerMinute</c> for all together, both fixed one-minute windows, no queueing.
/// A client is an IPv4 address or an IPv6 /64 (one household or server gets a whole /64, RFC 6177).
/// Behind a reverse proxy on this machine the client is the one X-Forwarded-For names (see Program.cs).
/// </summary>
internal sealed class SubscribeLimiter(SubscribersOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext> _limiter = PartitionedRateLimiter.CreateChained(
        PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetFixedWindowLimiter(
            Client(context.Connection.RemoteIpAddress), _ => Window(options.PerClientPerMinute))),
        PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetFixedWindowLimiter(
            "all", _ => Window(options.TotalPerMinute))));

    public RateLimitLease Acquire(HttpContext context) => _limiter.AttemptAcquire(context);

    private static FixedWindowRateLimiterOptions Window(int permits) => new()
    {
        PermitLimit = permits,
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

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
