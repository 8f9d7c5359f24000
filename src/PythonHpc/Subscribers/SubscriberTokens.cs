using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using PythonHpc.Hosting;
using PythonHpc.Store;

namespace PythonHpc.Subscribers;

internal enum TokenPurpose : byte { Confirm = 1, Unsubscribe = 2 }

/// <summary>
/// The tokens in confirm and unsubscribe links: <c>version · purpose · subscriber id [· expiry]</c>
/// followed by an HMAC-SHA256 of those bytes under the server's secret, truncated to 128 bits
/// (RFC 2104 §5 allows truncation to half the output and no less than 80 bits), base64url. A token
/// names one subscriber and one purpose; nothing else (a changed byte, another purpose, a lapsed
/// confirm token) reads as anything but "no token". Unsubscribe tokens carry no expiry: RFC 8058
/// links in old mail must keep working.
/// </summary>
internal sealed class SubscriberTokens(byte[] key, TimeProvider clock, TimeSpan confirmWithin)
{
    private const byte Version = 1;
    private const int MacLength = 16;
    public const string SecretFile = "token-secret";

    public string Confirm(long id) => Create(TokenPurpose.Confirm, id, clock.GetUtcNow().Add(confirmWithin).ToUnixTimeSeconds());

    public string Unsubscribe(long id) => Create(TokenPurpose.Unsubscribe, id, expires: null);

    /// <summary>The subscriber id the token names for <paramref name="purpose"/>, or null for any other token.</summary>
    public long? Read(string? token, TokenPurpose purpose)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 64)
            return null;
        Span<byte> bytes = stackalloc byte[48];
        if (Base64Url.DecodeFromChars(token, bytes, out var consumed, out var length) != System.Buffers.OperationStatus.Done || consumed != token.Length)
            return null;
        var payloadLength = purpose == TokenPurpose.Confirm ? 18 : 10;
        if (length != payloadLength + MacLength)
            return null;
        var payload = bytes[..payloadLength];
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, payload, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacLength], bytes.Slice(payloadLength, MacLength)))
            return null;
        if (payload[0] != Version || payload[1] != (byte)purpose)
            return null;
        if (purpose == TokenPurpose.Confirm && BinaryPrimitives.ReadInt64BigEndian(payload[10..]) < clock.GetUtcNow().ToUnixTimeSeconds())
            return null;
        return BinaryPrimitives.ReadInt64BigEndian(payload[2..]);
    }

    private string Create(TokenPurpose purpose, long id, long? expires)
    {
        var payloadLength = expires is null ? 10 : 18;
        Span<byte> bytes = stackalloc byte[payloadLength + 32];
        bytes[0] = Version;
        bytes[1] = (byte)purpose;
        BinaryPrimitives.WriteInt64BigEndian(bytes[2..], id);
        if (expires is { } at)
            BinaryPrimitives.WriteInt64BigEndian(bytes[10..], at);
        HMACSHA256.HashData(key, bytes[..payloadLength], bytes[payloadLength..]);
        return Base64Url.EncodeToString(bytes[..(payloadLength + MacLength)]);
    }

    /// <summary>
    /// <c>Security:TokenSecret</c>, else the secret kept in the data folder, generated there at first
    /// start: created owner-only (0600) under a temporary name and renamed into place, so a crash never
    /// leaves a half-written secret, and two processes starting at once end up sharing one.
    /// </summary>
    public static byte[] Secret(SecurityOptions security, StoreOptions store)
    {
        if (security.TokenSecret.Trim().Length > 0)
            return Encoding.UTF8.GetBytes(security.TokenSecret.Trim());
        var file = Path.Combine(store.DataPath, SecretFile);
        try
        {
            if (!File.Exists(file))
                Generate(file);
            var secret = File.ReadAllText(file).Trim();
            if (secret.Length < SecurityOptions.MinimumSecretLength)
                throw new ConfigurationException([$"{file}: error: the token secret is shorter than {SecurityOptions.MinimumSecretLength} characters; restore it from a backup (every mailed link depends on it)"]);
            return Encoding.UTF8.GetBytes(secret);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException([$"{file}: error: cannot read or create the token secret: {e.Message} (Store:DataPath, or set Security:TokenSecret)"]);
        }
    }

    private static void Generate(string file)
    {
        try
        {
            var secret = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)) + "\n");
            AtomicFile.Write(file, stream => stream.Write(secret), AtomicWrite.Durable | AtomicWrite.OwnerOnly | AtomicWrite.KeepExisting);
        }
        catch (IOException) when (File.Exists(file))
        {
            // Another process made one first: theirs is the secret.
        }
    }
}
