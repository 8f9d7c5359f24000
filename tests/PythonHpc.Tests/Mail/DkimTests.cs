using System.Security.Cryptography;
using MailKit.Net.Smtp;
using MimeKit;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using PythonHpc.Mail;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Mail;

/// <summary>DKIM signatures checked by dkimpy (Debian's python3-dkim), with the public key given directly.</summary>
public sealed class DkimTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Writes a key in the form asked and returns the DNS TXT record that publishes its public half.</summary>
    private (string KeyFile, string Record) Key(string kind)
    {
        var file = _folder["dkim/" + kind + ".pem"];
        Directory.CreateDirectory(_folder["dkim"]);
        if (kind == "ed25519")
        {
            var generator = new Ed25519KeyPairGenerator();
            generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
            var pair = generator.GenerateKeyPair();
            var der = PrivateKeyInfoFactory.CreatePrivateKeyInfo(pair.Private).GetEncoded();
            File.WriteAllText(file, PemEncoding.WriteString("PRIVATE KEY", der));
            // RFC 8463 §4.2: the record carries the raw 32-byte public key.
            return (file, "v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(((Ed25519PublicKeyParameters)pair.Public).GetEncoded()));
        }
        using var rsa = RSA.Create(2048);
        File.WriteAllText(file, kind == "rsa-pkcs1" ? rsa.ExportRSAPrivateKeyPem() : rsa.ExportPkcs8PrivateKeyPem());
        return (file, "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
    }

    private Announcement Signed(string kind, out string record)
    {
        var (key, txt) = Key(kind);
        record = txt;
        var mail = new MailOptions
        {
            From = "Python HPC <webinars@blog.example.org>",
            Dkim = new DkimOptions { Domain = "blog.example.org", Selector = "s2025", PrivateKeyPath = key },
        };
        return Announcement.ForSeed(_folder, mail);
    }

    private List<string> Verify(string record, params string[] files)
    {
        Tool.RequirePythonModule("dkim", "python3-dkim");
        var recordFile = _folder["dkim/record.txt"];
        File.WriteAllText(recordFile, record);
        var result = Tool.Run(Tool.Python, [FeedBuild.Testdata("dkimcheck.py"), recordFile, .. files]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>The message's bytes as they would be sent.</summary>
    private string Write(WireMessage message, string name)
    {
        var file = _folder["out/" + name];
        Directory.CreateDirectory(_folder["out"]);
        File.WriteAllBytes(file, message.Bytes.ToArray());
        return file;
    }

    [Theory]
    [InlineData("rsa-pkcs1")]
    [InlineData("rsa-pkcs8")]
    [InlineData("ed25519")]
    public void Signatures_verify_and_cover_the_listed_headers(string kind)
    {
        if (kind == "ed25519")
            Tool.RequirePythonModule("nacl", "python3-nacl");
        using var message = Signed(kind, out var record).ComposeWire();
        var signature = message.Parse().Headers[HeaderId.DkimSignature] ?? "";
        Assert.Contains(kind == "ed25519" ? "a=ed25519-sha256" : "a=rsa-sha256", signature);
        Assert.Contains("c=relaxed/relaxed", signature);
        Assert.Contains("d=blog.example.org", signature);
        Assert.Contains("s=s2025", signature);
        var signed = signature[(signature.IndexOf("h=", StringComparison.Ordinal) + 2)..].Split(';')[0].Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
        Assert.Equal(MessageSigner.Headers.Select(h => h.ToLowerInvariant()), signed.ToLowerInvariant().Split(':'));

        var file = Write(message, kind + ".eml");
        Assert.Equal(["pass"], Verify(record, file));

        // The check can fail: a changed subject or body must not verify.
        var tampered = File.ReadAllText(file).Replace("Subject: New webinar: Python for HPC", "Subject: New webinar: Python for HTC", StringComparison.Ordinal);
        File.WriteAllText(_folder["out/tampered.eml"], tampered);
        var body = File.ReadAllText(file).Replace("Dask for scaling out", "Dask for scaling up", StringComparison.Ordinal);
        File.WriteAllText(_folder["out/body.eml"], body);
        Assert.All(Verify(record, _folder["out/tampered.eml"], _folder["out/body.eml"]), line => Assert.StartsWith("fail", line));
    }

    [Fact]
    public async Task A_signed_message_still_verifies_after_an_smtp_round_trip()
    {
        using var message = Signed("rsa-pkcs8", out var record).ComposeWire();
        using var server = SmtpRecorder.Start(_folder["received"]);
        var relay = new SmtpOptions { Host = "127.0.0.1", Port = server.Port, Security = "None" };
        Assert.Empty(relay.Validate());
        await using (var smtp = MailTransport.Create(new MailOptions { Smtp = relay }))
            await smtp.Send(message, TestContext.Current.CancellationToken);
        var received = Assert.Single(server.Messages);
        Assert.Equal(["pass"], Verify(record, received));
    }

    [Fact]
    public void A_key_that_is_not_rsa_or_ed25519_is_a_configuration_error()
    {
        Directory.CreateDirectory(_folder["dkim"]);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(_folder["dkim/ec.pem"], ecdsa.ExportPkcs8PrivateKeyPem());
        var error = Assert.Throws<PythonHpc.Hosting.ConfigurationException>(() =>
            MessageSigner.Create(new DkimOptions { Domain = "d", Selector = "s", PrivateKeyPath = _folder["dkim/ec.pem"] }));
        Assert.Contains("is not a PEM private key of RSA", Assert.Single(error.Errors));
    }
}
