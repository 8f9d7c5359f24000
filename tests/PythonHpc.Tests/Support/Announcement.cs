using MimeKit;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Hosting;
using PythonHpc.Mail;

namespace PythonHpc.Tests.Support;

/// <summary>The seed post's announcement, composed in process from a posts folder in a temporary folder.</summary>
internal sealed class Announcement
{
    public required AnnouncementMessage Messages { get; init; }
    public required AnnouncementMessage.Draft Draft { get; init; }
    public required Post Post { get; init; }

    public static Announcement ForSeed(TempFolder folder, MailOptions? mail = null, string? title = null, string templates = "templates")
    {
        var seed = File.ReadAllText(FeedBuild.Testdata("seed", "2025-09-15-python-for-hpc.md"));
        if (title is not null)
            seed = seed.Replace("title: \"Python for HPC\"", "title: " + title, StringComparison.Ordinal);
        var path = folder.Write("posts/2025-09-15-python-for-hpc.md", seed);
        var (site, content, _) = Settings.For(folder["posts"], baseUrl: "https://blog.example.org/");
        mail ??= new MailOptions { From = "Python HPC <webinars@blog.example.org>", ReplyTo = "Andrea <andrea@example.org>" };
        Assert.Empty(mail.Validate());
        var announcements = new AnnouncementsOptions();
        var messages = new AnnouncementMessage(site, mail, announcements, new LiquidTemplates(new TemplatesOptions { Path = folder[templates] }), MessageSigner.Create(mail.Dkim));
        var loader = new PostLoader(site, content);
        var post = loader.Load(path).Post!;
        var rendered = new PostContent(loader, new PostRenderer()).Render(post);
        return new Announcement { Messages = messages, Draft = messages.Prepare(post, post.Webinar!, rendered), Post = post };
    }

    public static Recipient Recipient(string email = "ada@example.com", string? name = "Ada Lovelace") =>
        new(email, name, new Uri("https://blog.example.org/unsubscribe/TOKEN-" + email));

    /// <summary>The message as it would be sent: its bytes, read back by MimeKit.</summary>
    public MimeMessage Compose(Recipient? recipient = null)
    {
        using var message = ComposeWire(recipient);
        return message.Parse();
    }

    public WireMessage ComposeWire(Recipient? recipient = null) =>
        Messages.Compose(Draft, recipient ?? Recipient(), new DateTimeOffset(2025, 9, 16, 9, 0, 0, TimeSpan.Zero));
}
