using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using PythonHpc.Announcements;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;
using Quartz;

namespace PythonHpc.Tests.Announcements;

/// <summary>
/// The whole service in process, on a blog with a long history: what is announced on the first start
/// (nothing), on a new webinar (one message each, however the job is fired), and never again for a
/// webinar already announced, whatever becomes of its file, title or the site's address.
/// </summary>
public sealed class FirstStartTests : IDisposable
{
    private const int OldPosts = 300;
    private const int Subscribers = 300;

    /// <summary>Far away: nothing fires by itself, the tests fire the job.</summary>
    private static readonly Dictionary<string, string?> Settings = new() { ["Announcements:Schedule"] = "0 0 9 1 1 ? 2099" };

    private readonly TempFolder _folder = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public FirstStartTests() => WriteOldPosts();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [Fact]
    public async Task On_a_first_start_300_old_posts_send_nothing_then_a_new_webinar_gets_each_subscriber_one_message_even_from_two_firings_at_once()
    {
        await using var host = await ServiceHost.Start(_folder, Settings);
        var store = host.Services.GetRequiredService<AnnouncementStore>();
        var emails = await Subscribe(host);
        // ServiceHost.Start adds one plain post of its own.
        await WaitForSeen(store, OldPosts + 1);
        await Task.Delay(500, Ct);
        Assert.Empty(await store.Announcements(Ct));
        Assert.Empty(host.Mailbox.Files);

        WriteNewWebinar();
        var announcement = await WaitFor(async () => (await store.Announcements(Ct)).SingleOrDefault(), "the new webinar's announcement");
        Assert.Equal(("New: Scaling Python", AnnouncementState.Scheduled), (announcement.Title, announcement.State));
        Assert.Empty(host.Mailbox.Files);

        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(Ct);
        var executions = Listen(scheduler);
        await Task.WhenAll(scheduler.TriggerJob(SendAnnouncementsJob.Key, Ct).AsTask(), scheduler.TriggerJob(SendAnnouncementsJob.Key, Ct).AsTask());
        await WaitFor(() => Task.FromResult(executions.Count == 2 ? "" : null), "both firings to finish");

        Assert.Equal(AnnouncementState.Done, (await store.AnnouncementById(announcement.Id, Ct))!.State);
        var received = Recipients(host.Mailbox).ToList();
        Assert.Empty(received.CountBy(r => r).Where(p => p.Value > 1).Select(p => $"{p.Key} got {p.Value}"));
        Assert.Equal(emails.Order(StringComparer.Ordinal), received.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_announced_webinar_renamed_retitled_or_under_another_site_address_is_not_announced_again()
    {
        var executions = new Executions();
        await using (var host = await ServiceHost.Start(_folder, Settings))
        {
            var store = host.Services.GetRequiredService<AnnouncementStore>();
            await Subscribe(host);
            await WaitForSeen(store, OldPosts + 1);
            var file = WriteNewWebinar();
            await WaitFor(async () => (await store.Announcements(Ct)).SingleOrDefault(), "the new webinar's announcement");
            await Fire(host, executions);
            Assert.Equal(Subscribers, host.Mailbox.Files.Count);

            // Renamed: a new post id, the same video.
            var renamed = Path.Combine(Path.GetDirectoryName(file)!, "2025-06-01-scaling-python-renamed.md");
            File.Move(file, renamed);
            AddMarker("after-rename");
            await WaitForSeen(store, OldPosts + 4);
            Assert.Single(await store.Announcements(Ct));

            // Retitled and edited: the same post id.
            File.WriteAllText(renamed, File.ReadAllText(renamed).Replace("New: Scaling Python", "Scaling Python, revised", StringComparison.Ordinal) + "\nAn update.\n");
            AddMarker("after-retitle");
            await WaitForSeen(store, OldPosts + 5);
            Assert.Single(await store.Announcements(Ct));
        }

        // Another Site:BaseUrl on the same data folder: every post id changes, no video does.
        await using (var moved = await ServiceHost.Start(_folder, new Dictionary<string, string?>(Settings) { ["Site:BaseUrl"] = "https://moved.example.net/blog/" }))
        {
            var store = moved.Services.GetRequiredService<AnnouncementStore>();
            await WaitForSeen(store, 2 * (OldPosts + 5) - 1);
            var announcements = await store.Announcements(Ct);
            Assert.Equal(("New: Scaling Python", AnnouncementState.Done), (Assert.Single(announcements).Title, announcements[0].State));
            await Fire(moved, executions);
            Assert.Equal(Subscribers, moved.Mailbox.Files.Count);
        }
    }

    [Fact]
    public async Task A_webinar_dated_in_the_future_is_announced_only_once_its_date_has_come()
    {
        await using var host = await ServiceHost.Start(_folder, Settings);
        var store = host.Services.GetRequiredService<AnnouncementStore>();
        await WaitForSeen(store, OldPosts + 1);
        var date = DateTimeOffset.UtcNow.AddSeconds(4);
        _folder.Write("posts/2099-01-01-upcoming.md",
            $"---\ntitle: Upcoming\ndate: {date:yyyy-MM-ddTHH:mm:ssZ}\n---\n\n[The recording](https://www.youtube.com/watch?v=upcoming001)\n");
        AddMarker("before-the-date");
        await WaitForSeen(store, OldPosts + 2);
        Assert.True(DateTimeOffset.UtcNow < date, "the machine was too slow to see the post before its date");
        Assert.Empty(await store.Announcements(Ct));

        // The feeds rebuild when a scheduled post's date arrives, and the detector looks again then.
        var announcement = await WaitFor(async () => (await store.Announcements(Ct)).SingleOrDefault(), "the announcement once the date has come");
        Assert.True(announcement.Created >= date.AddSeconds(-1), $"announced at {announcement.Created:O}, before its date {date:O}");
        Assert.Equal(("Upcoming", AnnouncementState.Scheduled), (announcement.Title, announcement.State));
    }

    /// <summary>300 posts from 2010 on, one in four a webinar (a YouTube link in the body, or <c>video:</c> in the front matter).</summary>
    private void WriteOldPosts()
    {
        var start = new DateOnly(2010, 1, 4);
        for (var i = 0; i < OldPosts; i++)
        {
            var date = start.AddDays(9 * i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var video = $"old{i:D3}vid-x";
            var text = new StringBuilder($"---\ntitle: \"Old post {i}\"\ndate: {date}\ncategories: [Python]\n");
            if (i % 8 == 3)
                text.Append("video: https://youtu.be/").Append(video).Append('\n');
            text.Append("---\n\nSome notes from ").Append(date).Append(".\n");
            if (i % 8 == 7)
                text.Append("\n[The recording](https://www.youtube.com/watch?v=").Append(video).Append(")\n");
            _folder.Write($"posts/{date}-old-post-{i:D3}.md", text.ToString());
        }
    }

    private string WriteNewWebinar() => _folder.Write("posts/2025-06-01-scaling-python.md",
        "---\ntitle: \"New: Scaling Python\"\ndate: 2025-06-01\ncategories: [Python, HPC]\n---\n\nThe recording of this month's webinar.\n\n"
        + "[Video on YouTube](https://www.youtube.com/watch?v=newWebinar1)\n\nChapters:\n\n"
        + "* [Profiling](https://www.youtube.com/watch?v=newWebinar1&t=60s) (1:00) – where the time goes.\n"
        + "* [Numba](https://www.youtube.com/watch?v=newWebinar1&t=600s) (10:00) – compiling the hot loop.\n");

    /// <summary>A plain post written after a change: once it is seen, the build that saw the change was looked at too.</summary>
    private void AddMarker(string name) => _folder.Write($"posts/2025-06-02-{name}.md", $"---\ntitle: {name}\ndate: 2025-06-02\n---\nA marker.\n");

    private static async Task<List<string>> Subscribe(ServiceHost host)
    {
        var emails = Enumerable.Range(1, Subscribers).Select(i => $"reader{i:D3}@example.org").ToList();
        await host.Store.Import(emails.Select(e => new ImportRow(new EmailAddress(e), "Reader " + e[6..9], SubscriberStatus.Confirmed)), Ct);
        return emails;
    }

    private static IEnumerable<string> Recipients(Mailbox mailbox) =>
        Mailbox.ReadAll(mailbox.Files).Select(m => MailboxAddress.Parse(m.Header("To")).Address);

    /// <summary>Fires the job once and waits until that run is over.</summary>
    private static async Task Fire(ServiceHost host, Executions executions)
    {
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(Ct);
        if (scheduler.ListenerManager.GetJobListener(executions.Name) is null)
            scheduler.ListenerManager.AddJobListener(executions, [Matchers.Key(SendAnnouncementsJob.Key)]);
        var before = executions.Count;
        await scheduler.TriggerJob(SendAnnouncementsJob.Key, Ct);
        await WaitFor(() => Task.FromResult(executions.Count > before ? "" : null), "the firing to finish");
    }

    private static Executions Listen(IScheduler scheduler)
    {
        var executions = new Executions();
        scheduler.ListenerManager.AddJobListener(executions, [Matchers.Key(SendAnnouncementsJob.Key)]);
        return executions;
    }

    private static Task<SeenPosts> WaitForSeen(AnnouncementStore store, int count) =>
        WaitFor(async () => await store.SeenPosts(Ct) is { Initialized: true } seen && seen.Ids.Count >= count ? seen : null, $"{count} posts seen");

    private static async Task<T> WaitFor<T>(Func<Task<T?>> probe, string what) where T : class
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(20, Ct))
        {
            if (await probe() is { } found)
                return found;
        }
        throw new TimeoutException($"no {what} after 30 s");
    }

    /// <summary>Counts the job's finished runs.</summary>
    private sealed class Executions : IJobListener
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public string Name => "test-executions-" + GetHashCode().ToString(CultureInfo.InvariantCulture);

        public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return default;
        }
    }
}
