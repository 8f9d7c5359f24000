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
        preview.SetAction((parse, ct) => CommandLine.WithServices(parse, (settings, services, stdout, stderr) =>
            Preview(settings, services, parse.GetValue(post)!, parse.GetValue(output)!, parse.GetValue(to), stdout, stderr, ct)));
        announce.Subcommands.Add(preview);

        var list = new Command("list", "Each announcement with its state and its deliveries' counts.");
        list.SetAction((parse, ct) => CommandLine.WithServices(parse, (settings, services, stdout, stderr) => List(services, stdout, ct)));
        announce.Subcommands.Add(list);

        var sendPost = new Argument<string>("POST") { Description = "The post: its file, or its name (the file name without extension)." };
        var sendNow = new Command("send-now", "Send one post's announcement now, to every confirmed subscriber who has not had it.") { sendPost };
        sendNow.SetAction((parse, ct) => CommandLine.WithServices(parse, (settings, services, stdout, stderr) => SendNow(settings, services, parse.GetValue(sendPost)!, stdout, stderr, ct)));
        announce.Subcommands.Add(sendNow);

        var id = new Argument<long>("ID") { Description = "The announcement's id (announce list)." };
        var retry = new Command("retry", "Try the failed deliveries of an announcement again, now.") { id };
        retry.SetAction((parse, ct) => CommandLine.WithServices(parse, (settings, services, stdout, stderr) => Retry(settings, services, parse.GetValue(id), stdout, stderr, ct)));
        announce.Subcommands.Add(retry);
        return announce;
    }

    private static async Task<int> List(ServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        var store = services.GetRequiredService<AnnouncementStore>();
        var announcements = await store.Announcements(ct);
        stdout.WriteLine($"{announcements.Count} announcement{(announcements.Count == 1 ? "" : "s")}");
        foreach (var a in announcements)
        {
            var counts = await store.Counts(a.Id, ct);
            stdout.WriteLine($"{a.Id}\t{a.State.ToString().ToLowerInvariant()}\t{a.Created:yyyy-MM-dd HH:mm}Z\t{a.Title}\t{counts}");
        }
        return CommandLine.Success;
    }

    private static async Task<int> SendNow(AppSettings settings, ServiceProvider services, string postName, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        // Start-up on both cores: the email templates are parsed (Fluid's parser, compiled on first use:
        // a quarter of the time to the first message, bench/run) while the posts are read and the
        // database opened. A template error is reported as before, when the sending needs it.
        var composing = Task.Run(() => services.GetRequiredService<AnnouncementMessage>(), ct);
        try
        {
            var snapshot = services.GetRequiredService<PostCatalog>().Refresh();
            if (Find(snapshot, settings.Content, postName) is not { } post)
            {
                stderr.WriteLine($"error: no post '{postName}' in {settings.Content.PostsPath} (give its file or its name)");
                return CommandLine.ConfigurationError;
            }
            if (post.Webinar is null || !post.IsPublishedAt(DateTimeOffset.UtcNow))
            {
                stderr.WriteLine($"error: {post.RelativePath} is {(post.Webinar is null ? "not a webinar (no YouTube or Vimeo video)" : "not published yet (a draft, or dated in the future)")}: nothing to send");
                return CommandLine.InputRejected;
            }
            var announcement = await services.GetRequiredService<AnnouncementStore>().AnnouncementFor(post, ct);
            await composing;
            return await Send(services, announcement, post, stdout, stderr, ct);
        }
        finally
        {
            // Not left running into the disposal of the services.
            await ((Task)composing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<int> Retry(AppSettings settings, ServiceProvider services, long id, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var store = services.GetRequiredService<AnnouncementStore>();
        if (await store.AnnouncementById(id, ct) is not { } announcement)
        {
            stderr.WriteLine($"error: no announcement {id} (see: pythonhpc announce list)");
            return CommandLine.ConfigurationError;
        }
        stdout.WriteLine($"{await store.RetryFailed(id, ct)} failed deliveries of announcement {id} to try again");
        var post = services.GetRequiredService<PostCatalog>().Refresh().Posts.FirstOrDefault(p => p.Id == announcement.PostId);
        return await Send(services, announcement with { State = AnnouncementState.Sending }, post, stdout, stderr, ct);
    }

    /// <summary>Sends with a progress bar on a terminal; Ctrl+C stops taking rows and lets the messages on the wire finish.</summary>
    private static async Task<int> Send(ServiceProvider services, Announcement announcement, Post? post, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var bar = Console.IsErrorRedirected ? null : new Action<RunProgress>(p => stderr.Write($"\r{Bar(p)}"));
        var progress = await services.GetRequiredService<Announcer>().Send(announcement, post, bar, ct);
        if (bar is not null)
            stderr.WriteLine();
        if (progress is null)
        {
            // Only a second send of the same announcement inside one process gets no progress; other
            // processes (the service, other nodes) share the rows through their claims instead.
            stderr.WriteLine($"error: announcement {announcement.Id} is already being sent by this process");
            return CommandLine.ConfigurationError;
        }
        var counts = await services.GetRequiredService<AnnouncementStore>().Counts(announcement.Id, CancellationToken.None);
        stdout.WriteLine($"announcement {announcement.Id} ({announcement.Title}): {counts}; this run: {progress}");
        return CommandLine.Success;
    }

    private static string Bar(RunProgress p)
    {
        const int width = 30;
        var filled = p.Total == 0 ? width : (int)Math.Round(width * Math.Min(1.0, p.Done / (double)p.Total));
        return $"[{new string('#', filled)}{new string('.', width - filled)}] {p.Done}/{p.Total}  {p.Sent} sent, {p.Deferred} deferred, {p.Failed} failed  {p.PerSecond:0}/s ";
    }

    private static async Task<int> Preview(AppSettings settings, ServiceProvider services, string postName, string output, string? to,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var messages = services.GetRequiredService<AnnouncementMessage>();
        var loader = services.GetRequiredService<PostLoader>();
        var snapshot = services.GetRequiredService<PostCatalog>().Refresh();
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

        var content = services.GetRequiredService<PostContent>().Render(post);
        var draft = messages.Prepare(post, webinar, content);
        var recipient = await PreviewRecipient(settings, services, to, stderr, cancellationToken);
        using var message = messages.Compose(draft, recipient, DateTimeOffset.Now);
        var (html, text) = messages.Render(draft, recipient);
        Directory.CreateDirectory(output);
        var stem = Path.Combine(output, post.Key);
        await AtomicFile.WriteAsync(stem + ".eml", s => s.WriteAsync(message.Bytes, cancellationToken).AsTask(), AtomicWrite.None, cancellationToken);
        File.WriteAllText(stem + ".html", html);
        File.WriteAllText(stem + ".txt", text);
        stdout.WriteLine($"wrote {stem}.eml, .html ({html.Length / 1024.0:0.#} KB) and .txt; subject: {draft.Subject}");
        if (System.Text.Encoding.UTF8.GetByteCount(html) > AnnouncementMessage.HtmlLimit)
            stderr.WriteLine($"warning: the HTML part is over {AnnouncementMessage.HtmlLimit / 1024} KB: Gmail will clip it");
        return CommandLine.Success;
    }

    /// <summary>
    /// A subscriber as announcements will address them (their name, their own unsubscribe link), so a
    /// preview sent to oneself shows a link that works; anyone else gets a placeholder link, and is told so.
    /// </summary>
    private static async Task<Recipient> PreviewRecipient(AppSettings settings, ServiceProvider services, string? to, TextWriter stderr, CancellationToken cancellationToken)
    {
        var placeholder = new Recipient(to ?? "subscriber@example.org", null, new Uri(settings.Http.PublicUri, "unsubscribe/preview"));
        if (to is null)
            return placeholder;
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
