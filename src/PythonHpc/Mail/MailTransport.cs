using MimeKit;

namespace PythonHpc.Mail;

/// <summary>A message the transport did not deliver. <see cref="Permanent"/>: a 5xx answer, not worth trying again.</summary>
internal sealed class MailSendException(string message, bool permanent, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// Where mail goes: an SMTP relay (<see cref="SmtpTransport"/>), or, with none configured, a pickup
/// folder of <c>.eml</c> files (<see cref="PickupDirectory"/>), the embedded default that lets a fresh
/// <c>dotnet run</c> work end to end. Confirmations use it now; announcements will.
/// </summary>
internal abstract class MailTransport : IAsyncDisposable
{
    /// <summary>Where messages go, for logs and the command line (never with a password).</summary>
    public abstract string Destination { get; }

    /// <summary>Sends one message; returns the receiver's answer (the SMTP reply, or the file written).</summary>
    /// <exception cref="MailSendException">The message was refused or could not be handed over.</exception>
    public abstract Task<string> Send(MimeMessage message, CancellationToken cancellationToken);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public static MailTransport Create(MailOptions options) =>
        options.Smtp.Enabled ? new SmtpTransport(options.Smtp) : new PickupDirectory(options.PickupDirectory);
}
