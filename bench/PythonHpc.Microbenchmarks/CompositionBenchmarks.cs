using BenchmarkDotNet.Attributes;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Hosting;
using PythonHpc.Mail;

namespace PythonHpc.Microbenchmarks;

/// <summary>
/// One announcement message composed for one reader as its wire bytes, unsigned (<c>Prepare</c>
/// once, <c>Compose</c> per reader; the bytes go back to the pool). Kept small on purpose: the
/// whole-process composition figures are bench/run's.
/// </summary>
[MemoryDiagnoser]
public class CompositionBenchmarks
{
    private AnnouncementMessage _messages = null!;
    private AnnouncementMessage.Draft _draft = null!;
    private Recipient _recipient = null!;
    private readonly DateTimeOffset _date = new(2025, 9, 16, 9, 0, 0, TimeSpan.Zero);

    [GlobalSetup]
    public void Setup()
    {
        var (loader, post, _) = Sample.Load();
        var mail = new MailOptions { From = "Python HPC <webinars@blog.example.org>" };
        _messages = new AnnouncementMessage(Sample.Site, mail, new AnnouncementsOptions(), new LiquidTemplates(new TemplatesOptions()), null);
        _draft = _messages.Prepare(post, post.Webinar!, new PostContent(loader, new PostRenderer()).Render(post));
        _recipient = new Recipient("reader@example.com", "A Reader", new Uri("https://blog.example.org/unsubscribe/0000abcd"));
    }

    [Benchmark]
    public long Compose()
    {
        using var message = _messages.Compose(_draft, _recipient, _date);
        return message.Bytes.Length;
    }
}
