using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;

namespace PythonHpc.Feeds;

/// <summary>
/// A feed as served: its validators and header values, computed once, and its bytes. Once
/// <see cref="Compact"/> has run (in the background, after the file is swapped in) the gzip form is
/// what stays in memory: a 10,000-post blog's feeds are 27 MB as they are and about a fifth of
/// that gzipped, and nearly every reader asks for gzip. The rare request without it gets the bytes
/// decompressed again; the Brotli form is made on the first request that accepts it, then kept.
/// </summary>
internal sealed class FeedFile
{
    private readonly Lazy<byte[]?> _gzip;
    private readonly Lazy<byte[]?> _brotli;
    private volatile byte[]? _bytes;

    public FeedFile(FeedDocument document, DateTimeOffset lastModified)
    {
        (Path, ContentType, Length, _bytes) = (document.Path, document.ContentType, document.Bytes.Length, document.Bytes);
        Hash = SHA256.HashData(document.Bytes);
        // One weak validator for every encoding of the same bytes (RFC 9110 §8.8.1: the encodings are
        // equivalent, not byte-identical). From the content alone, so every node of a cluster agrees.
        ETag = "W/\"" + Convert.ToHexStringLower(Hash.AsSpan(0, 16)) + "\"";
        // HTTP dates have whole seconds (RFC 9110 §5.6.7); If-Modified-Since compares against this.
        LastModified = new DateTimeOffset(lastModified.UtcTicks - lastModified.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        LastModifiedText = LastModified.ToString("R", CultureInfo.InvariantCulture);
        // zlib level 6 (Optimal): within 2% of level 9 on feeds, in half the time, which an edit waits for when a reader asks first.
        _gzip = new(() => Smaller(Compress(s => new GZipStream(s, CompressionLevel.Optimal))));
        _brotli = new(() => Smaller(Compress(s => new BrotliStream(s, CompressionLevel.SmallestSize))));
    }

    public string Path { get; }
    public string ContentType { get; }
    public string ETag { get; }
    public DateTimeOffset LastModified { get; }
    public string LastModifiedText { get; }

    /// <summary>SHA-256 of the bytes: a rebuild that makes the same bytes keeps this file.</summary>
    public byte[] Hash { get; }

    /// <summary>Length of the bytes as they are (not compressed).</summary>
    public int Length { get; }

    /// <summary>The bytes as they are: held until <see cref="Compact"/>, decompressed from the gzip form after.</summary>
    public byte[] Bytes => _bytes ?? Gunzip(_gzip.Value!);

    /// <summary>Null when compressing would not make it smaller.</summary>
    public byte[]? Gzip => _gzip.Value;

    public byte[]? Brotli => _brotli.Value;

    public FeedDocument Document => new(Path, ContentType, Bytes);

    public bool Same(FeedDocument document) =>
        document.Bytes.Length == Length && document.ContentType == ContentType && SHA256.HashData(document.Bytes).AsSpan().SequenceEqual(Hash);

    /// <summary>Compresses now (not on the first request) and keeps only the gzip form, when it is the smaller.</summary>
    public void Compact()
    {
        if (_gzip.Value is not null)
            _bytes = null;
    }

    private byte[] Compress(Func<Stream, Stream> compressor)
    {
        var bytes = Bytes;
        using var output = new MemoryStream(bytes.Length / 4 + 64);
        using (var stream = compressor(output))
            stream.Write(bytes);
        return output.ToArray();
    }

    private byte[]? Smaller(byte[] compressed) => compressed.Length < Length ? compressed : null;

    private byte[] Gunzip(byte[] gzip)
    {
        var bytes = new byte[Length];
        using var stream = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        stream.ReadExactly(bytes);
        return bytes;
    }
}
