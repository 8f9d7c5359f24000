using System.Security.Cryptography;
using MailKit.Net.Smtp;
using MimeKit;
using PythonHpc.Mail;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Mail;

/// <summary>DKIM signatures checked by dkimpy (Debian's python3-dkim), with the public key given directly.</summary>
public sealed class DkimTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Announcement Signed(string kind, out string record)
    {
        var key = _folder["dkim/" + kind + ".pem"];
        record = DkimKeys.Write(kind, key);
        var mail = new MailOptions
        {
            From = "Python HPC <webinars@blog.example.org>",
            Dkim = new DkimOptions { Domain = "blog.example.org", Selector = "s2025", PrivateKeyPath = key },
        };
        return Announcement.ForSeed(_folder, mail);
    }

    private List<string> Verify(string record, params string[] files) => DkimKeys.Verify(record, _folder["dkim"], files);

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
