using PythonHpc.Hosting;
namespace PythonHpc.Feeds;

/// <summary>
/// Writes built feeds into a folder for static hosting. A file is replaced only when its bytes
/// change, and then atomically (written beside it, flushed, renamed over it), so a web server never
/// serves half a feed and an unchanged feed keeps its modification time. A manifest of the files
/// written lets the next run remove the feeds of categories that no longer exist, and nothing else.
/// </summary>
internal static class FeedOutput
{
    private const string Manifest = ".pythonhpc-feeds";

    internal sealed record Outcome(int Written, int Unchanged, int Removed, IReadOnlyDictionary<string, DateTimeOffset> LastModified);

    public static Outcome Write(string folder, IReadOnlyList<FeedDocument> documents)
    {
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        var lastModified = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var written = 0;
        foreach (var document in documents)
        {
            var path = Path.Combine(folder, document.Path);
            if (!SameBytes(path, document.Bytes))
            {
                Replace(path, document.Bytes);
                written++;
            }
            lastModified[document.Path] = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        }
        var removed = RemoveStale(folder, documents);
        WriteManifest(folder, documents.Select(d => d.Path));
        return new Outcome(written, documents.Count - written, removed, lastModified);
    }

    /// <summary>
    /// After a rebuild of some feeds: writes <paramref name="changed"/>, removes <paramref name="removed"/>, and
    /// records <paramref name="paths"/> (every file now served) in the manifest. Touches no other file.
    /// </summary>
    public static void Apply(string folder, IReadOnlyList<FeedDocument> changed, IReadOnlyList<string> removed, IEnumerable<string> paths)
    {
        folder = Path.GetFullPath(folder);
        foreach (var document in changed)
            Replace(Path.Combine(folder, document.Path), document.Bytes);
        foreach (var path in removed)
            Remove(folder, path);
        WriteManifest(folder, paths.Order(StringComparer.Ordinal));
    }

    private static void WriteManifest(string folder, IEnumerable<string> paths)
    {
        var manifest = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', paths) + "\n");
        if (!SameBytes(Path.Combine(folder, Manifest), manifest))
            Replace(Path.Combine(folder, Manifest), manifest);
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> over <paramref name="path"/>: a reader sees the old file or the new one. No fsync:
    /// feeds are rebuilt from the posts at every start, so a power cut costs nothing that the next
    /// start does not rewrite, and fsyncing hundreds of files would triple the build's time.
    /// </summary>
    public static void Replace(string path, byte[] bytes) => AtomicFile.Write(path, stream => stream.Write(bytes));

    private static bool SameBytes(string path, byte[] bytes)
    {
        var file = new FileInfo(path);
        return file.Exists && file.Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes);
    }

    private static int RemoveStale(string folder, IReadOnlyList<FeedDocument> documents)
    {
        var manifest = Path.Combine(folder, Manifest);
        if (!File.Exists(manifest))
            return 0;
        var current = documents.Select(d => d.Path).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        foreach (var line in File.ReadAllLines(manifest))
        {
            // Only relative paths below the folder, as this class wrote them; a tampered manifest deletes nothing outside.
            if (line.Length == 0 || current.Contains(line) || Path.IsPathRooted(line) || line.Split('/').Contains(".."))
                continue;
            if (Remove(folder, line))
                removed++;
        }
        return removed;
    }

    /// <summary>Deletes <paramref name="relative"/> below <paramref name="folder"/>, and the folders it leaves empty.</summary>
    private static bool Remove(string folder, string relative)
    {
        var path = Path.Combine(folder, relative);
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        var directory = Path.GetDirectoryName(path);
        while (directory is not null && directory.Length > folder.Length && Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
        {
            Directory.Delete(directory);
            directory = Path.GetDirectoryName(directory);
        }
        return true;
    }
}
