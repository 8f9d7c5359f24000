using System.CommandLine;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Mail;
using PythonHpc.Subscribers;

namespace PythonHpc.Hosting;

/// <summary><c>pythonhpc announce …</c>: looking at and sending webinar announcements.</summary>
internal static class AnnounceCommand
{
    public static Command Create()
    {
        var announce = new Command("announce", "Webinar announcements by email.");
        var post = new Argument<string>("POST") { Description = "The post: its file, or its name (the file name without extension)." };
        var output = new Option<string>("--out") { Description = "Folder to write KEY.eml, KEY.html and KEY.txt to.", DefaultValueFactory = _ => "out/preview" };
        var to = new Option<string>("--to") { Description = "The address the preview is addressed to." };
        var preview = new Command("preview", "Write the announcement of one post as it would be sent, and list the chapters found.") { post, output, to };
        preview.SetAction((parse, ct) => Preview(parse.GetValue(post)!, parse.GetValue(output)!, parse.GetValue(to),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, ct));
        announce.Subcommands.Add(preview);
        return announce;
    }

    internal static async Task<int> Preview(string postName, string output, string? to, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!CommandLine.TryLoad(new Dictionary<string, string?>(), stderr, out var settings))
            return CommandLine.ConfigurationError;
        try
        {
            using var signer = MessageSigner.Create(settings.Mail.Dkim);
            var messages = new AnnouncementMessage(settings.Site, settings.Mail, settings.Announcements, new LiquidTemplates(settings.Templates), signer);
            var loader = new PostLoader(settings.Site, settings.Content);
            var snapshot = new PostCatalog(settings.Content, loader).Refresh();
            if (Find(snapshot, settings.Content, postName) is not { } post)
            {
                stderr.WriteLine($"error: no post '{postName}' in {settings.Content.PostsPath} (give its file or its name)");
                return CommandLine.ConfigurationError;
            }
            foreach (var problem in snapshot.Problems.Where(p => p.File == loader.DisplayPath(post.SourcePath)))
                stderr.WriteLine(problem);
            if (post.Webinar is not { } webinar)
            {
                stderr.WriteLine($"{loader.DisplayPath(post.SourcePath)}: no YouTube or Vimeo video: nothing to announce");
                return CommandLine.InputRejected;
            }
            stdout.WriteLine($"{post.Title} — {webinar.Video.WatchUrl.AbsoluteUri}");
            stdout.WriteLine(webinar.Chapters.Count == 0 ? "no chapters found" : $"{webinar.Chapters.Count} chapters:");
            foreach (var chapter in webinar.Chapters)
                stdout.WriteLine($"  {chapter.Index,2}  {chapter.StartText,8}  {chapter.Title}");

            var content = new PostContent(loader, new PostRenderer()).Render(post);
            var draft = messages.Prepare(post, webinar, content);
            var recipient = await PreviewRecipient(settings, to, stderr, cancellationToken);
            var message = messages.Compose(draft, recipient, DateTimeOffset.Now);
            var (html, text) = messages.Render(draft, recipient);
            Directory.CreateDirectory(output);
            var stem = Path.Combine(output, post.Key);
            message.WriteTo(stem + ".eml", cancellationToken);
            File.WriteAllText(stem + ".html", html);
            File.WriteAllText(stem + ".txt", text);
            stdout.WriteLine($"wrote {stem}.eml, .html ({html.Length / 1024.0:0.#} KB) and .txt; subject: {draft.Subject}");
            if (System.Text.Encoding.UTF8.GetByteCount(html) > AnnouncementMessage.HtmlLimit)
                stderr.WriteLine($"warning: the HTML part is over {AnnouncementMessage.HtmlLimit / 1024} KB: Gmail will clip it");
            return CommandLine.Success;
        }
        catch (ConfigurationException e)
        {
            CommandLine.Report(e, stderr);
            return CommandLine.ConfigurationError;
        }
    }

    /// <summary>
    /// A subscriber as announcements will address them (their name, their own unsubscribe link), so a
    /// preview sent to oneself shows a link that works; anyone else gets a placeholder link, and is told so.
    /// </summary>
    private static async Task<Recipient> PreviewRecipient(AppSettings settings, string? to, TextWriter stderr, CancellationToken cancellationToken)
    {
        var placeholder = new Recipient(to ?? "subscriber@example.org", null, new Uri(settings.Http.PublicUri, "unsubscribe/preview"));
        if (to is null)
            return placeholder;
        await using var services = CommandLine.Services(settings);
        var subscriptions = services.GetRequiredService<Subscriptions>();
        if (EmailAddress.TryParse(to, out var email, out _) && await subscriptions.Store.SubscriberByEmail(email, cancellationToken) is { } subscriber)
            return subscriptions.Recipient(subscriber);
        stderr.WriteLine($"warning: {to} is not a subscriber in {settings.Store.DatabaseFile}: the unsubscribe link is a placeholder");
        return placeholder;
    }

    /// <summary>A post by file (relative to the working folder or the posts folder) or by name (<see cref="Post.Key"/>).</summary>
    private static Post? Find(CatalogSnapshot snapshot, ContentOptions content, string name)
    {
        var candidates = new[] { Path.GetFullPath(name), Path.GetFullPath(Path.Combine(content.PostsRoot, name)) };
        return snapshot.Posts.FirstOrDefault(p => candidates.Contains(p.SourcePath, StringComparer.Ordinal))
            ?? snapshot.Posts.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? snapshot.Posts.FirstOrDefault(p => PostDate.WithoutPrefix(p.Key).Equals(name, StringComparison.OrdinalIgnoreCase));
    }
}
