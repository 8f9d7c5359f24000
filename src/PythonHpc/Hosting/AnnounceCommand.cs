using System.CommandLine;
using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Mail;

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
        preview.SetAction(parse => Preview(parse.GetValue(post)!, parse.GetValue(output)!, parse.GetValue(to),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        announce.Subcommands.Add(preview);
        return announce;
    }

    internal static int Preview(string postName, string output, string? to, TextWriter stdout, TextWriter stderr)
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
            var recipient = new Recipient(to ?? "subscriber@example.org", null, new Uri(settings.Http.PublicUri, "unsubscribe/preview"));
            var message = messages.Compose(draft, recipient, DateTimeOffset.Now);
            var (html, text) = messages.Render(draft, recipient);
            Directory.CreateDirectory(output);
            var stem = Path.Combine(output, post.Key);
            message.WriteTo(stem + ".eml");
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

    /// <summary>A post by file (relative to the working folder or the posts folder) or by name (<see cref="Post.Key"/>).</summary>
    private static Post? Find(CatalogSnapshot snapshot, ContentOptions content, string name)
    {
        var candidates = new[] { Path.GetFullPath(name), Path.GetFullPath(Path.Combine(content.PostsRoot, name)) };
        return snapshot.Posts.FirstOrDefault(p => candidates.Contains(p.SourcePath, StringComparer.Ordinal))
            ?? snapshot.Posts.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? snapshot.Posts.FirstOrDefault(p => PostDate.WithoutPrefix(p.Key).Equals(name, StringComparison.OrdinalIgnoreCase));
    }
}
