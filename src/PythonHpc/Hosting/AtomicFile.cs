namespace PythonHpc.Hosting;

/// <summary>What a write promises beyond "whole or not at all".</summary>
[Flags]
internal enum AtomicWrite
{
    None = 0,

    /// <summary>Flushed to disk before the rename: survives a power cut (what cannot be rebuilt).</summary>
    Durable = 1,

    /// <summary>Created readable and writable by its owner only (0600): personal data, secrets.</summary>
    OwnerOnly = 2,

    /// <summary>An existing file wins: the rename fails with an <see cref="IOException"/> instead of replacing it.</summary>
    KeepExisting = 4,
}

/// <summary>
/// Files a reader sees whole or not at all: written under a hidden temporary name in the same folder,
/// then renamed into place (atomic on POSIX). A failure leaves the previous file as it was, and no
/// temporary file behind.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<Stream> write, AtomicWrite options = AtomicWrite.None)
    {
        var temporary = Temporary(path);
        try
        {
            using (var stream = new FileStream(temporary, Open(options, async: false)))
            {
                write(stream);
                if (options.HasFlag(AtomicWrite.Durable))
                    stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: !options.HasFlag(AtomicWrite.KeepExisting));
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public static async Task WriteAsync(string path, Func<Stream, Task> write, AtomicWrite options, CancellationToken cancellationToken)
    {
        var temporary = Temporary(path);
        try
        {
            await using (var stream = new FileStream(temporary, Open(options, async: true)))
            {
                await write(stream);
                await stream.FlushAsync(cancellationToken);
                if (options.HasFlag(AtomicWrite.Durable))
                    stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: !options.HasFlag(AtomicWrite.KeepExisting));
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Beside <paramref name="path"/>, hidden, and unique to this write; the folder is created if need be.</summary>
    private static string Temporary(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
    }

    private static FileStreamOptions Open(AtomicWrite options, bool async)
    {
        var open = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 16 * 1024,
            Options = async ? FileOptions.Asynchronous : FileOptions.None,
        };
        if (options.HasFlag(AtomicWrite.OwnerOnly) && !OperatingSystem.IsWindows())
            open.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return open;
    }
}
