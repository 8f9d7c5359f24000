namespace PythonHpc.Mail;

/// <summary>
/// A message the transport did not deliver. <see cref="Permanent"/>: a 5xx answer, not worth trying
/// again. <see cref="MaybeDelivered"/>: the connection dropped after the whole message had gone, so
/// the server may have taken it (RFC 5321 §4.1.1.4 prefers a duplicate to a loss: it is sent again).
/// </summary>
internal sealed class MailSendException(string message, bool permanent, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;

    /// <summary>The SMTP reply code, when the server answered.</summary>
    public int? Code { get; init; }

    public bool MaybeDelivered { get; init; }

    /// <summary>RFC 3463 X.1.1 / X.1.10: no such mailbox. Nothing sent there will ever arrive.</summary>
    public bool UnknownMailbox => Permanent && (Message.Contains("5.1.1", StringComparison.Ordinal) || Message.Contains("5.1.10", StringComparison.Ordinal));
}

/// <summary>
/// Where mail goes: an SMTP relay (<see cref="SmtpTransport"/>), or, with none configured, a pickup
/// folder of <c>.eml</c> files (<see cref="PickupDirectory"/>), the embedded default that lets a fresh
/// <c>dotnet run</c> work end to end. Both write a message's ready bytes (<see cref="WireMessage"/>).
/// </summary>
internal abstract class MailTransport : IAsyncDisposable
{
    /// <summary>Where messages go, for logs and the command line (never with a password).</summary>
    public abstract string Destination { get; }

    /// <summary>Sends one message; returns the receiver's answer (the SMTP reply, or the file written).</summary>
    /// <exception cref="MailSendException">The message was refused or could not be handed over.</exception>
    public abstract Task<string> Send(WireMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="Send"/> on the calling thread, for a thread that does nothing else (announcement
    /// senders). <paramref name="beforeEnd"/> runs once the message is written but before its end is
    /// (SMTP's final dot, from which the server has it): what must be done before the message can be
    /// delivered, such as committing the previous message's outcome. What it throws stops the message.
    /// </summary>
    /// <exception cref="MailSendException">The message was refused or could not be handed over.</exception>
    public virtual string SendBlocking(WireMessage message, Action? beforeEnd = null)
    {
        beforeEnd?.Invoke();
        return Send(message, CancellationToken.None).GetAwaiter().GetResult();
    }

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public static MailTransport Create(MailOptions options) =>
        options.Smtp.Enabled ? new SmtpTransport(options.Smtp) : new PickupDirectory(options.PickupDirectory);
}
