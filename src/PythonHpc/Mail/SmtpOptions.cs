using System.Net;
using MailKit.Security;

namespace PythonHpc.Mail;

/// <summary>
/// <c>Mail:Smtp</c>: the relay mail goes through. No <see cref="Host"/> means no relay: messages are
/// written to <c>Mail:PickupDirectory</c> instead. <see cref="Password"/> is best given as the
/// environment variable <c>PYTHONHPC_Mail__Smtp__Password</c>; it is never logged or printed.
/// </summary>
internal sealed class SmtpOptions
{
    public string Host { get; set; } = "";

    /// <summary>0 picks the port of <see cref="Security"/>: 587 for StartTls, 465 for SslOnConnect, 25 for None.</summary>
    public int Port { get; set; }

    /// <summary><c>StartTls</c> (required, the default), <c>SslOnConnect</c> (port 465) or <c>None</c>.</summary>
    public string Security { get; set; } = "StartTls";

    /// <summary><c>None</c> sends passwords and addresses in clear: refused for hosts off this machine unless this is set.</summary>
    public bool AllowInsecure { get; set; }

    public string User { get; set; } = "";
    public string Password { get; set; } = "";

    /// <summary>Connections kept open to the relay at most (one message at a time on each).</summary>
    public int MaxConnections { get; set; } = 4;

    /// <summary>How long the relay may take over one read or write (the greeting, a reply, a send) before the connection is given up and the message deferred.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    public SecureSocketOptions SocketOptions { get; private set; } = SecureSocketOptions.StartTls;

    public int EffectivePort => Port != 0 ? Port : SocketOptions switch
    {
        SecureSocketOptions.SslOnConnect => 465,
        SecureSocketOptions.None => 25,
        _ => 587,
    };

    public IEnumerable<string> Validate()
    {
        if (!Enabled)
            yield break;
        switch (Security?.Trim().ToLowerInvariant())
        {
            case "starttls":
                SocketOptions = SecureSocketOptions.StartTls;
                break;
            case "sslonconnect":
                SocketOptions = SecureSocketOptions.SslOnConnect;
                break;
            case "none":
                SocketOptions = SecureSocketOptions.None;
                if (!AllowInsecure && !IsLoopback(Host.Trim()))
                    yield return $"Mail:Smtp:Security None sends mail and passwords in clear to '{Host}': allowed for loopback hosts only, unless Mail:Smtp:AllowInsecure is true";
                break;
            default:
                yield return $"Mail:Smtp:Security must be StartTls, SslOnConnect or None, not '{Security}'";
                break;
        }
        if (Port is < 0 or > 65535)
            yield return $"Mail:Smtp:Port must be between 1 and 65535 (or 0 for the usual port), not {Port}";
        if (MaxConnections is < 1 or > 64)
            yield return $"Mail:Smtp:MaxConnections must be between 1 and 64, not {MaxConnections}";
        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromMinutes(10))
            yield return $"Mail:Smtp:Timeout must be between 00:00:01 and 00:10:00, not {Timeout}";
        if (Password.Length > 0 && User.Trim().Length == 0)
            yield return "Mail:Smtp:Password is set but Mail:Smtp:User is not";
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
