using System.Security.Cryptography;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;

namespace PythonHpc.Mail;

/// <summary>
/// DKIM signing (RFC 6376), relaxed/relaxed, over the headers a bulk sender must protect, after the
/// message is prepared for 7-bit transport so that no relay re-encodes the body and breaks its hash.
/// RSA signatures are made by the platform's RSA (OpenSSL on Linux), not MimeKit's default
/// BouncyCastle path: the same signature, about twenty times faster (see docs/BENCHMARKS.md).
/// Ed25519 keys (RFC 8463) use MimeKit's own signer.
/// </summary>
internal sealed class MessageSigner : IDisposable
{
    /// <summary>What is signed: the identity, the list headers Gmail and Yahoo check, and the structure.</summary>
    public static readonly string[] Headers =
        ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type"];

    private readonly DkimSigner _signer;

    private MessageSigner(DkimSigner signer)
    {
        signer.HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        signer.BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        _signer = signer;
    }

    public DkimSignatureAlgorithm Algorithm => _signer.SignatureAlgorithm;

    /// <summary>Null when signing is off; a <see cref="Hosting.ConfigurationException"/> when the key cannot be used.</summary>
    public static MessageSigner? Create(DkimOptions options)
    {
        if (!options.Enabled)
            return null;
        var pem = File.ReadAllText(options.PrivateKeyPath);
        AsymmetricKeyParameter? key;
        try
        {
            key = new Org.BouncyCastle.OpenSsl.PemReader(new StringReader(pem)).ReadObject() switch
            {
                AsymmetricCipherKeyPair pair => pair.Private,
                AsymmetricKeyParameter parameter => parameter,
                _ => null,
            };
        }
        catch (Exception e) when (e is IOException or InvalidCastException or ArgumentException)
        {
            key = null;
        }
        return key switch
        {
            RsaPrivateCrtKeyParameters rsa when rsa.Modulus.BitLength >= 1024 =>
                new MessageSigner(new PlatformRsaDkimSigner(rsa, pem, options.Domain, options.Selector)),
            Ed25519PrivateKeyParameters ed25519 =>
                new MessageSigner(new DkimSigner(ed25519, options.Domain, options.Selector, DkimSignatureAlgorithm.Ed25519Sha256)),
            _ => throw new Hosting.ConfigurationException(
                [$"Mail:Dkim:PrivateKeyPath '{options.PrivateKeyPath}' is not a PEM private key of RSA (1024 bits or more) or Ed25519"]),
        };
    }

    public void Dispose() => (_signer as IDisposable)?.Dispose();

    /// <summary>Adds the DKIM-Signature; <paramref name="message"/> must already be prepared for 7-bit transport.</summary>
    public void Sign(MimeMessage message) => _signer.Sign(message, Headers);

    /// <summary>MimeKit's DKIM signer, with the signature itself made by <see cref="RSA"/>.</summary>
    private sealed class PlatformRsaDkimSigner : DkimSigner, IDisposable
    {
        // One RSA object per thread: the platform's RSA is not documented as safe to share.
        private readonly ThreadLocal<RSA> _rsa;

        public PlatformRsaDkimSigner(AsymmetricKeyParameter key, string pem, string domain, string selector)
            : base(key, domain, selector, DkimSignatureAlgorithm.RsaSha256)
        {
            _rsa = new ThreadLocal<RSA>(() =>
            {
                var rsa = RSA.Create();
                rsa.ImportFromPem(pem);
                return rsa;
            }, trackAllValues: true);
        }

        public void Dispose()
        {
            foreach (var rsa in _rsa.Values)
                rsa.Dispose();
            _rsa.Dispose();
        }

        protected override ISigner CreateSigningContext() => new RsaSha256Signer(_rsa.Value!);
    }

    /// <summary>BouncyCastle's signer interface, which MimeKit feeds, over SHA-256 and the platform's RSA (PKCS#1 v1.5, as DKIM's rsa-sha256 is).</summary>
    private sealed class RsaSha256Signer(RSA rsa) : ISigner
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string AlgorithmName => "SHA-256withRSA";

        public void Init(bool forSigning, ICipherParameters parameters)
        {
        }

        public void Update(byte input) => _hash.AppendData([input]);

        public void BlockUpdate(byte[] input, int inOff, int inLen) => _hash.AppendData(input, inOff, inLen);

        public void BlockUpdate(ReadOnlySpan<byte> input) => _hash.AppendData(input);

        public int GetMaxSignatureSize() => rsa.KeySize / 8;

        public byte[] GenerateSignature() => rsa.SignHash(_hash.GetHashAndReset(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        public bool VerifySignature(byte[] signature) => throw new NotSupportedException("signing only");

        public void Reset() => _hash.GetHashAndReset();
    }
}
