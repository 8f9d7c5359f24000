using MimeKit;

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

    public override async Task<string> Send(MimeMessage message, CancellationToken cancellationToken)
    {
        var name = $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'.'fff'Z'}-{Guid.NewGuid():N}.eml";
        var file = Path.Combine(folder, name);
        var temporary = Path.Combine(folder, "." + name + ".tmp");
        try
        {
            Directory.CreateDirectory(folder);
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 16 * 1024, useAsync: true))
            {
                await message.WriteToAsync(MessageSigner.Wire, stream, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, file);
            return "written " + file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new MailSendException($"cannot write to the pickup folder {folder} (Mail:PickupDirectory): {e.Message}", permanent: false, e);
        }
    }
}
