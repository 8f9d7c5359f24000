using PythonHpc.Hosting;

namespace PythonHpc.Mail;

/// <summary>
/// Writes each message as one <c>.eml</c> file, with CRLF line ends as on the wire (RFC 5322 §2.1),
/// so that a mail server's pickup service or any mail client reads it as sent. Written under a
/// hidden temporary name, flushed to disk and renamed: a reader of the folder never sees half a
/// message, and a crash leaves none.
/// </summary>
internal sealed class PickupDirectory(string folder) : MailTransport
{
    public override string Destination => Path.GetFullPath(folder);

    public override async Task<string> Send(WireMessage message, CancellationToken cancellationToken)
    {
        var file = Path.Combine(folder, $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'.'fff'Z'}-{Guid.NewGuid():N}.eml");
        try
        {
            await AtomicFile.WriteAsync(file, stream => stream.WriteAsync(message.Bytes, cancellationToken).AsTask(),
                AtomicWrite.Durable | AtomicWrite.KeepExisting, cancellationToken);
            return "written " + file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MailSendException($"cannot write to the pickup folder {folder} (Mail:PickupDirectory): {e.Message}", permanent: false, e);
        }
    }
}
