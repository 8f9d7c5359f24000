using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Hosting;
using PythonHpc.Mail;

// bench/run's measuring tool. `compose POSTS_FOLDER POST COUNT [none|rsa|ed25519|hash-only]`:
// composes COUNT messages of POST's announcement to COUNT distinct addresses on every core (template
// render, MIME, quoted-printable, DKIM when asked), each as the bytes that would go on the wire,
// after a warm-up to other addresses that lasts until the rate stops rising, then prints
// "messages=N warmup=W seconds=S rate=R gc=… allocated=…" (allocated counts the warm-up's W messages too).
// hash-only does all of DKIM but the signature itself (a fixed value): what signing costs besides the key.
// `sign COUNT rsa|ed25519`: the signature alone, COUNT times on every core over a message's
// canonicalised headers, and "signatures=N seconds=S rate=R": what the key costs outside composing.
// `wire POSTS_FOLDER PORT COUNT CONNECTIONS mailkit|raw` (a diagnostic for bench/run's announcement
// section): composes COUNT unsigned messages as `announce send-now` does and sends them to an SMTP
// server on 127.0.0.1:PORT over CONNECTIONS connections, with no ledger: through the service's own
// transport (MailKit), or through a minimal pipelined SMTP writer on plain sockets. The difference
// in CPU between the two is what MailKit's transaction costs; against `announce send-now`, what the
// ledger and the rest of a run cost.
if (args.Length == 3 && args[0] == "sign")
    return SignOnly(int.Parse(args[1], CultureInfo.InvariantCulture), args[2]);
if (args.Length == 6 && args[0] == "wire")
    return await Wire.Run(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture), args[5]);
if (args.Length < 4 || args[0] != "compose")
{
    Console.Error.WriteLine("usage: PythonHpc.Bench compose POSTS_FOLDER POST COUNT [none|rsa|ed25519|hash-only] | sign COUNT rsa|ed25519");
    return 1;
}
var (folder, postName, count, signing) = (args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args.Length > 4 ? args[4] : "none");
var work = Directory.CreateTempSubdirectory("pythonhpc-bench-");
try
{
    var mail = new MailOptions { From = "Python HPC <webinars@blog.example.org>" };
    if (signing is not ("none" or "hash-only"))
        mail.Dkim = new DkimOptions { Domain = "blog.example.org", Selector = "bench", PrivateKeyPath = Key(signing, work.FullName) };
    var site = new SiteOptions { BaseUrl = "https://blog.example.org/" };
    var content = new ContentOptions { PostsPath = folder };
    var errors = site.Validate().Concat(content.Validate()).Concat(mail.Validate()).ToList();
    if (errors.Count > 0)
        throw new ConfigurationException(errors);
    using var signer = signing == "hash-only"
        // The cost of DKIM without the signature itself: canonicalising and hashing.
        ? new MessageSigner("blog.example.org", "bench", "rsa-sha256", _ => new byte[256], null)
        : MessageSigner.Create(mail.Dkim);
    var messages = new AnnouncementMessage(site, mail, new AnnouncementsOptions(), new LiquidTemplates(new TemplatesOptions()), signer);
    var loader = new PostLoader(site, content);
    var post = new PostCatalog(content, loader).Refresh().Posts.Single(p => p.Key == postName || PostDate.WithoutPrefix(p.Key) == postName);
    var draft = messages.Prepare(post, post.Webinar!, new PostContent(loader, new PostRenderer()).Render(post));
    var date = DateTimeOffset.UtcNow;
    if (draft.Layout is null)
        Console.Error.WriteLine("warning: the announcement's layout check failed; every message goes through MimeKit");
    long bytes = 0;

    void Compose(int i)
    {
        var recipient = new Recipient($"subscriber{i}@example.com", $"Subscriber {i}", new Uri($"https://blog.example.org/unsubscribe/{i:x8}"));
        // The message's bytes as they would go on the wire (what the transports write), then given back.
        using var message = messages.Compose(draft, recipient, date);
        Interlocked.Add(ref bytes, message.Bytes.Length);
    }

    // Warm-up, to other addresses, until the JIT's tiering has finished (the service composes for as
    // long as it runs; the measure is its steady rate): passes of COUNT messages for at least 3 seconds,
    // then until a pass is no more than 3% faster than the one before. The tier-1 code of the hot
    // methods comes late, compiled on a background thread that competes with the two composing ones:
    // after the fixed 6,000 messages of warm-up used before, an unsigned run measured 160,000/s where
    // the steady rate is about 250,000/s, and an Ed25519 run two thirds of its steady rate.
    var composed = 0;
    var warming = Stopwatch.StartNew();
    for (double previous = 0, rate = 0; warming.Elapsed.TotalSeconds < 30
        && (warming.Elapsed.TotalSeconds < 3 || rate > 1.03 * previous); composed += count)
    {
        previous = rate;
        var pass = Stopwatch.StartNew();
        Parallel.For(count + composed, 2 * count + composed, Compose);
        rate = count / pass.Elapsed.TotalSeconds;
    }
    var clock = Stopwatch.StartNew();
    Parallel.For(0, count, Compose);
    var seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messages={count} warmup={composed} seconds={seconds:0.000} rate={count / seconds:0} gc={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} allocated={GC.GetTotalAllocatedBytes() / 1048576}MB"));
    return 0;
}
finally
{
    work.Delete(recursive: true);
}

static int SignOnly(int count, string kind)
{
    var work = Directory.CreateTempSubdirectory("pythonhpc-bench-");
    try
    {
        using var signer = MessageSigner.Create(new DkimOptions { Domain = "blog.example.org", Selector = "bench", PrivateKeyPath = Key(kind, work.FullName) })!;
        // About the size of an announcement's ten canonicalised headers and its DKIM-Signature header.
        var headers = RandomNumberGenerator.GetBytes(1200);
        // Warm-up long enough for the JIT's tiering to finish (a signature is much shorter than a message).
        Parallel.For(0, 5000, _ => signer.SignHeaders(headers));
        Thread.Sleep(500);
        var clock = Stopwatch.StartNew();
        Parallel.For(0, count, _ => signer.SignHeaders(headers));
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"signatures={count} seconds={seconds:0.000} rate={count / seconds:0}"));
        return 0;
    }
    finally
    {
        work.Delete(recursive: true);
    }
}

static string Key(string kind, string folder)
{
    var path = Path.Combine(folder, kind + ".pem");
    if (kind == "rsa")
    {
        using var rsa = RSA.Create(2048);
        File.WriteAllText(path, rsa.ExportPkcs8PrivateKeyPem());
        return path;
    }
    var generator = new Org.BouncyCastle.Crypto.Generators.Ed25519KeyPairGenerator();
    generator.Init(new Org.BouncyCastle.Crypto.Parameters.Ed25519KeyGenerationParameters(new Org.BouncyCastle.Security.SecureRandom()));
    var der = Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(generator.GenerateKeyPair().Private).GetEncoded();
    File.WriteAllText(path, PemEncoding.WriteString("PRIVATE KEY", der));
    return path;
}
