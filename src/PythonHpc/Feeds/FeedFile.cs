using System.IO.Compression;
using System.Security.Cryptography;

namespace PythonHpc.Feeds;

/// <summary>
/// A feed as served: its bytes, validators, and its gzip and Brotli forms, each compressed once on
/// first request and kept as long as the bytes do not change.
/// </summary>
internal sealed class FeedFile
{
    private readonly Lazy<byte[]?> _gzip;
    private readonly Lazy<byte[]?> _brotli;

    public FeedFile(FeedDocument document, DateTimeOffset lastModified)
    {
        Document = document;
        // One weak validator for every encoding of the same bytes (RFC 9110 §8.8.1: the encodings are
        // equivalent, not byte-identical). From the content alone, so every node of a cluster agrees.
        ETag = "W/\"" + Convert.ToHexStringLower(SHA256.HashData(document.Bytes).AsSpan(0, 16)) + "\"";
        LastModified = new DateTimeOffset(lastModified.UtcTicks - lastModified.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        _gzip = new(() => Smaller(Compress(s => new GZipStream(s, CompressionLevel.SmallestSize))));
        _brotli = new(() => Smaller(Compress(s => new BrotliStream(s, CompressionLevel.SmallestSize))));
    }

    public FeedDocument Document { get; }
    public string ETag { get; }
    public DateTimeOffset LastModified { get; }

    /// <summary>Null when compressing would not make it smaller.</summary>
    public byte[]? Gzip => _gzip.Value;

    public byte[]? Brotli => _brotli.Value;

    private byte[] Compress(Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream(Document.Bytes.Length / 4 + 64);
        using (var stream = compressor(output))
            stream.Write(Document.Bytes);
        return output.ToArray();
    }

    private byte[]? Smaller(byte[] compressed) => compressed.Length < Document.Bytes.Length ? compressed : null;
}
