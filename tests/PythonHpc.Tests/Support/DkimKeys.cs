using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace PythonHpc.Tests.Support;

/// <summary>DKIM keys for tests, and dkimpy (Debian's python3-dkim) to verify what they signed, given the public key directly instead of through DNS.</summary>
internal static class DkimKeys
{
    /// <summary>
    /// Writes a private key to <paramref name="file"/>: <c>rsa-pkcs1</c>, <c>rsa-pkcs8</c> (2048 bits)
    /// or <c>ed25519</c>. Returns the DNS TXT record that publishes its public half.
    /// </summary>
    public static string Write(string kind, string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        if (kind == "ed25519")
        {
            var generator = new Ed25519KeyPairGenerator();
            generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
            var pair = generator.GenerateKeyPair();
            var der = PrivateKeyInfoFactory.CreatePrivateKeyInfo(pair.Private).GetEncoded();
            File.WriteAllText(file, PemEncoding.WriteString("PRIVATE KEY", der));
            // RFC 8463 §4.2: the record carries the raw 32-byte public key.
            return "v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(((Ed25519PublicKeyParameters)pair.Public).GetEncoded());
        }
        using var rsa = RSA.Create(2048);
        File.WriteAllText(file, kind == "rsa-pkcs1" ? rsa.ExportRSAPrivateKeyPem() : rsa.ExportPkcs8PrivateKeyPem());
        return "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
    }

    /// <summary>dkimpy's verdict on each of <paramref name="files"/> (a whole message each): "pass" or "fail REASON".</summary>
    public static List<string> Verify(string record, string folder, params string[] files)
    {
        Tool.RequirePythonModule("dkim", "python3-dkim");
        var recordFile = Path.Combine(folder, "record.txt");
        Directory.CreateDirectory(folder);
        File.WriteAllText(recordFile, record);
        var result = Tool.Run(Tool.Python, [FeedBuild.Testdata("dkimcheck.py"), recordFile, .. files]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
