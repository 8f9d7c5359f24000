using System.Data.Common;
using System.Globalization;
using PythonHpc.Content;
using PythonHpc.Store;

namespace PythonHpc.Announcements;

/// <summary>Post ids and webinar videos already seen, and whether any post ever was.</summary>
internal sealed record SeenPosts(HashSet<string> Ids, HashSet<string> Videos, bool Initialized);

/// <summary>Announcements, the posts seen, and the ledger's reads, in the <see cref="Database"/>. Outcomes are written by <see cref="Ledger"/>.</summary>
internal sealed class AnnouncementStore
{
    private const string InitializedKey = "posts-initialized";

    private readonly Database _database;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _claimFor;

    public AnnouncementStore(Database database, TimeProvider clock, ClusterOptions? cluster = null)
    {
        (_database, _clock, _claimFor) = (database, clock, (cluster ?? new ClusterOptions()).FailoverAfter);
        database.Require("state-get", "state-set", "see-post", "create-announcement", "announcement-by-post", "announcement-by-id",
            "announcements-open", "announcements-all", "start-announcement", "add-deliveries", "claim-deliveries",
            "claimable-delivery", "renew-claims", "release-claims", "claim-owners",
            "record-delivery", "count-hard-bounce", "delivery-counts", "next-retry", "finish-announcement", "retry-failed",
            "reopen-announcement", "sent-since", "seen-ids", "ledger-session");
    }

    public Database Database => _database;

    /// <summary>How long this process's claims last unless renewed (Cluster:FailoverAfter): what a run's <see cref="ClaimLease"/> counts with.</summary>
    public TimeSpan ClaimFor => _claimFor;

    private DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>The ids of every post ever seen, their videos, and whether posts were ever looked at (the first-start guard).</summary>
    public async Task<SeenPosts> SeenPosts(CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        var seen = new SeenPosts([], [], false);
        await using (var command = _database.Command(connection, "seen-ids"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                seen.Ids.Add(reader.GetString(0));
                if (!reader.IsDBNull(1))
                    seen.Videos.Add(reader.GetString(1));
            }
        }
        await using var state = _database.Command(connection, "state-get").With("key", InitializedKey);
        return seen with { Initialized = await state.ExecuteScalarAsync(cancellationToken) is not null };
    }

    /// <summary>What a webinar's video is known by: the same recording under another post id is not new.</summary>
    public static string? VideoKey(Post post) => post.Webinar is { } webinar ? $"{webinar.Video.Provider}:{webinar.Video.Id}" : null;

    /// <summary>
    /// Records <paramref name="posts"/> as seen and creates the announcements of those in
    /// <paramref name="announce"/>, in one transaction; marks the store initialized. Returns the
    /// announcements created (a post announced before is not announced again).
    /// </summary>
    public async Task<IReadOnlyList<Announcement>> SeePosts(IReadOnlyList<Post> posts, IReadOnlySet<string> announce, CancellationToken cancellationToken)
    {
        var now = Now;
        var created = new List<Announcement>();
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var post in posts)
        {
            var announced = announce.Contains(post.Id);
            await using (var see = _database.Command(connection, "see-post", transaction)
                .With("post_id", post.Id).With("video", VideoKey(post)).With("now", now).With("published_at", post.Date).With("announced", announced ? 1 : 0))
                await see.ExecuteNonQueryAsync(cancellationToken);
            if (!announced)
                continue;
            await using var create = _database.Command(connection, "create-announcement", transaction)
                .With("post_id", post.Id).With("post_key", post.Key).With("title", post.Title).With("now", now);
            if (await create.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                await using var read = _database.Command(connection, "announcement-by-post", transaction).With("post_id", post.Id);
                created.Add((await Read(read, cancellationToken)).Single());
            }
        }
        await using (var state = _database.Command(connection, "state-set", transaction).With("key", InitializedKey).With("value", now.ToString("O", CultureInfo.InvariantCulture)))
            await state.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    /// <summary>The announcement of <paramref name="post"/>, created now if it has none (<c>announce send-now</c>).</summary>
    public async Task<Announcement> AnnouncementFor(Post post, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using (var create = _database.Command(connection, "create-announcement")
            .With("post_id", post.Id).With("post_key", post.Key).With("title", post.Title).With("now", Now))
            await create.ExecuteNonQueryAsync(cancellationToken);
        await using var read = _database.Command(connection, "announcement-by-post").With("post_id", post.Id);
        return (await Read(read, cancellationToken)).Single();
    }

    public async Task<Announcement?> AnnouncementById(long id, CancellationToken cancellationToken) =>
        (await Query("announcement-by-id", c => c.With("id", id), cancellationToken)).SingleOrDefault();

    public Task<IReadOnlyList<Announcement>> OpenAnnouncements(CancellationToken cancellationToken) => Query("announcements-open", _ => { }, cancellationToken);

    public Task<IReadOnlyList<Announcement>> Announcements(CancellationToken cancellationToken) => Query("announcements-all", _ => { }, cancellationToken);

    /// <summary>Marks <paramref name="id"/> as sending (it was scheduled) and when it began.</summary>
    public Task<bool> Start(long id, CancellationToken cancellationToken) =>
        Execute("start-announcement", c => c.With("id", id).With("now", Now), cancellationToken);

    /// <summary>Adds a pending row for every confirmed subscriber not in the ledger yet; returns how many.</summary>
    public async Task<int> AddDeliveries(long id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "add-deliveries").With("id", id).With("now", Now);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Claims for <paramref name="owner"/>, until <paramref name="until"/>, up to <paramref name="limit"/>
    /// rows due now (pending, or deferred and due) that no one else holds: those after subscriber
    /// <paramref name="after"/>, and any whose holder's claim has lapsed. Returns them in subscriber
    /// order. Two owners never hold one row; a claim that lapses (its owner died) lets another take it.
    /// </summary>
    public async Task<IReadOnlyList<Delivery>> ClaimDeliveries(long id, string owner, DateTimeOffset until, long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "claim-deliveries")
            .With("id", id).With("owner", owner).With("until", until).With("after", after).With("now", Now).With("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<Delivery>(limit);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new Delivery(
                reader.GetInt64(0), reader.GetString(4), reader.GetString(5), reader.GetString(6) == "confirmed",
                reader.GetInt32(1), reader.Time("first_attempt_at"), reader.GetInt32(3)));
        }
        rows.Sort((a, b) => a.SubscriberId.CompareTo(b.SubscriberId));
        return rows;
    }

    /// <summary>Claims rows for this process (<see cref="Announcer.Owner"/>) for <see cref="ClusterOptions.FailoverAfter"/>: what a run sends.</summary>
    public Task<IReadOnlyList<Delivery>> ClaimDeliveries(long id, long after, int limit, CancellationToken cancellationToken) =>
        ClaimDeliveries(id, Announcer.Owner, Now + _claimFor, after, limit, cancellationToken);

    /// <summary>Extends this process's claims on <paramref name="id"/>'s rows by <see cref="ClusterOptions.FailoverAfter"/>.</summary>
    public Task<bool> RenewClaims(long id, CancellationToken cancellationToken) => RenewClaims(id, Announcer.Owner, Now + _claimFor, cancellationToken);

    /// <summary>Whether a row of <paramref name="id"/> is due now and free to claim.</summary>
    public async Task<bool> HasClaimable(long id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "claimable-delivery").With("id", id).With("now", Now);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Extends <paramref name="owner"/>'s claims on <paramref name="id"/>'s rows to <paramref name="until"/>.</summary>
    public Task<bool> RenewClaims(long id, string owner, DateTimeOffset until, CancellationToken cancellationToken) =>
        Execute("renew-claims", c => c.With("id", id).With("owner", owner).With("until", until), cancellationToken);

    /// <summary>Gives back <paramref name="owner"/>'s claims on rows of <paramref name="id"/> not yet recorded.</summary>
    public Task<bool> ReleaseClaims(long id, string owner, CancellationToken cancellationToken) =>
        Execute("release-claims", c => c.With("id", id).With("owner", owner), cancellationToken);

    /// <summary>Who holds claims on rows of <paramref name="id"/> (some may have lapsed).</summary>
    public Task<IReadOnlyList<string>> ClaimOwners(long id, CancellationToken cancellationToken) =>
        Column("claim-owners", c => c.With("id", id), r => r.GetString(0), cancellationToken);

    public async Task<DeliveryCounts> Counts(long id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "delivery-counts").With("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<DeliveryStatus, int>();
        var duplicates = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[Enum.Parse<DeliveryStatus>(reader.GetString(0), ignoreCase: true)] = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture);
            duplicates += Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture);
        }
        int Count(DeliveryStatus status) => counts.GetValueOrDefault(status);
        return new DeliveryCounts(Count(DeliveryStatus.Pending), Count(DeliveryStatus.Sent), Count(DeliveryStatus.Deferred),
            Count(DeliveryStatus.Failed), Count(DeliveryStatus.Skipped), duplicates);
    }

    /// <summary>When the earliest deferred row is due or another process's claim lapses, if any.</summary>
    public async Task<DateTimeOffset?> NextRetry(long id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "next-retry").With("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? reader.GetFieldValue<DateTimeOffset>(0).ToUniversalTime() : null;
    }

    /// <summary>Marks <paramref name="id"/> done if no row is pending or deferred; says whether it is.</summary>
    public Task<bool> Finish(long id, CancellationToken cancellationToken) =>
        Execute("finish-announcement", c => c.With("id", id).With("now", Now), cancellationToken);

    /// <summary>Failed rows back to pending, and the announcement open again; returns how many rows.</summary>
    public async Task<int> RetryFailed(long id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var retry = _database.Command(connection, "retry-failed", transaction).With("id", id).With("now", Now);
        var rows = await retry.ExecuteNonQueryAsync(cancellationToken);
        if (rows > 0)
        {
            await using var reopen = _database.Command(connection, "reopen-announcement", transaction).With("id", id);
            await reopen.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return rows;
    }

    /// <summary>When each message sent since <paramref name="since"/> went: seeds the hourly cap after a restart.</summary>
    public Task<IReadOnlyList<DateTimeOffset>> SentSince(DateTimeOffset since, CancellationToken cancellationToken) =>
        Column("sent-since", c => c.With("since", since), r => r.GetFieldValue<DateTimeOffset>(0), cancellationToken);

    private async Task<bool> Execute(string statement, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, statement);
        bind(command);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>One value from each row a statement returns.</summary>
    private async Task<IReadOnlyList<T>> Column<T>(string statement, Action<DbCommand> bind, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, statement);
        bind(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var values = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
            values.Add(read(reader));
        return values;
    }

    private async Task<IReadOnlyList<Announcement>> Query(string statement, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, statement);
        bind(command);
        return await Read(command, cancellationToken);
    }

    private static async Task<IReadOnlyList<Announcement>> Read(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<Announcement>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new Announcement(
                reader.GetInt64(reader.GetOrdinal("id")), reader.Text("post_id")!, reader.Text("post_key")!, reader.Text("title")!,
                Enum.Parse<AnnouncementState>(reader.Text("state")!, ignoreCase: true),
                reader.Time("created_at")!.Value, reader.Time("started_at"), reader.Time("done_at")));
        }
        return list;
    }
}
