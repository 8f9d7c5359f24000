using Microsoft.Data.Sqlite;
using PythonHpc.Hosting;
using PythonHpc.Store;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Subscribers;

/// <summary>The store on a real SQLite file.</summary>
public sealed class SubscriberStoreTests : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private static readonly Consent Web = new(null, "192.0.2.1", "Browser/1.0");
    private readonly TempFolder _folder = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private StoreOptions Options => new() { DataPath = _folder["data"], BusyTimeout = TimeSpan.FromSeconds(1) };

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private SubscriberStore Store() => new(Database.Open(Options), _clock);

    private static EmailAddress Address(string text) => EmailAddress.TryParse(text, out var a, out var e) ? a : throw new ArgumentException(e);

    private string Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Options.DatabaseFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Opening_creates_the_file_in_WAL_mode_with_every_migration_applied_once()
    {
        Database.Open(Options);
        Database.Open(Options);
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
        Assert.Equal(Database.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT MAX(version) FROM schema_migrations"));
        Assert.Equal(Database.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT COUNT(*) FROM schema_migrations"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Options.DataPath));
    }

    [Fact]
    public async Task A_request_makes_a_pending_subscriber_and_claims_one_confirmation_per_window()
    {
        var store = Store();
        var first = await store.Subscribe(Address("Ada@Example.org"), "Ada", SubscriberSource.Web, Web, Window, Ct);
        Assert.Equal(SubscriberStatus.Pending, first.Subscriber.Status);
        Assert.True(first.SendConfirmation);
        Assert.Equal(new Consent(_clock.Now, "192.0.2.1", "Browser/1.0"), first.Subscriber.Requested);

        _clock.Advance(TimeSpan.FromMinutes(9));
        var again = await store.Subscribe(Address("ada@example.org"), "", SubscriberSource.Web, Web, Window, Ct);
        Assert.False(again.SendConfirmation);
        Assert.Equal(first.Subscriber.Id, again.Subscriber.Id);
        Assert.Equal("Ada", again.Subscriber.Name);
        Assert.Equal("Ada@example.org", again.Subscriber.Email);

        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await store.Subscribe(Address("ada@example.org"), "", SubscriberSource.Web, Web, Window, Ct)).SendConfirmation);
        await store.ReleaseConfirmation(first.Subscriber.Id, Ct);
        Assert.True((await store.Subscribe(Address("ada@example.org"), "", SubscriberSource.Web, Web, Window, Ct)).SendConfirmation);
    }

    [Fact]
    public async Task Concurrent_requests_for_one_address_make_one_subscriber_and_one_confirmation()
    {
        var store = Store();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => store.Subscribe(Address(i % 2 == 0 ? "race@example.org" : "RACE@example.org"), "", SubscriberSource.Web, Web, Window, Ct), Ct)));
        Assert.Single(results.Select(r => r.Subscriber.Id).Distinct());
        Assert.Single(results, r => r.SendConfirmation);
        Assert.Equal("1", Scalar("SELECT COUNT(*) FROM subscribers"));
    }

    [Fact]
    public async Task Confirming_acts_on_pending_subscribers_only_and_records_the_click()
    {
        var store = Store();
        var pending = (await store.Subscribe(Address("c@example.org"), "", SubscriberSource.Web, Web, Window, Ct)).Subscriber;
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.True(await store.ConfirmSubscriber(pending.Id, new Consent(null, "198.51.100.2", "Mail app"), Ct));
        Assert.False(await store.ConfirmSubscriber(pending.Id, new Consent(null, "198.51.100.3", "Scanner"), Ct));
        var confirmed = (await store.SubscriberById(pending.Id, Ct))!;
        Assert.Equal(SubscriberStatus.Confirmed, confirmed.Status);
        Assert.Equal(new Consent(_clock.Now, "198.51.100.2", "Mail app"), confirmed.Confirmation);

        Assert.True(await store.Unsubscribe(pending.Id, Ct));
        Assert.False(await store.ConfirmSubscriber(pending.Id, Web, Ct));
        Assert.Equal(SubscriberStatus.Unsubscribed, (await store.SubscriberById(pending.Id, Ct))!.Status);
    }

    [Fact]
    public async Task A_confirmed_subscriber_is_left_alone_by_the_form_and_one_who_left_must_confirm_again()
    {
        var store = Store();
        var member = await store.AddConfirmed(Address("m@example.org"), "Member", SubscriberSource.Cli, Ct);
        var request = await store.Subscribe(Address("m@example.org"), "Impostor", SubscriberSource.Web, new Consent(null, "203.0.113.9", "Evil"), Window, Ct);
        Assert.False(request.SendConfirmation);
        Assert.Equal(SubscriberStatus.Confirmed, request.Subscriber.Status);
        Assert.Equal("Member", request.Subscriber.Name);
        Assert.Null(request.Subscriber.Requested.Ip);

        Assert.True(await store.Unsubscribe(member.Id, Ct));
        Assert.False(await store.Unsubscribe(member.Id, Ct));
        var back = await store.Subscribe(Address("m@example.org"), "", SubscriberSource.Web, Web, Window, Ct);
        Assert.Equal(SubscriberStatus.Pending, back.Subscriber.Status);
        Assert.True(back.SendConfirmation);
    }

    [Fact]
    public async Task Removing_erases_the_row_and_ids_are_never_reused()
    {
        var store = Store();
        var gone = await store.AddConfirmed(Address("gone@example.org"), "Gone", SubscriberSource.Cli, Ct);
        Assert.True(await store.RemoveSubscriber(Address("GONE@example.org"), Ct));
        Assert.False(await store.RemoveSubscriber(Address("gone@example.org"), Ct));
        Assert.Null(await store.SubscriberById(gone.Id, Ct));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM subscribers WHERE email LIKE '%gone%' OR name = 'Gone'"));
        var next = await store.AddConfirmed(Address("next@example.org"), "", SubscriberSource.Cli, Ct);
        Assert.True(next.Id > gone.Id);
    }

    [Fact]
    public async Task Values_that_look_like_SQL_are_stored_as_they_are()
    {
        var store = Store();
        const string name = "x'); DROP TABLE subscribers; --";
        var s = (await store.Subscribe(Address("o'brien@example.org"), name, SubscriberSource.Web, Web, Window, Ct)).Subscriber;
        Assert.Equal(name, (await store.SubscriberById(s.Id, Ct))!.Name);
        Assert.Equal("o'brien@example.org", s.Email);
    }

    [Fact]
    public void A_file_that_is_not_a_database_stops_start_up_naming_the_file()
    {
        _folder.Write("data/pythonhpc.db", System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("this is not sqlite ", 500))));
        var error = Assert.Throws<ConfigurationException>(() => Database.Open(Options));
        var message = Assert.Single(error.Errors);
        Assert.StartsWith(Options.DatabaseFile + ": error: not a usable SQLite database", message);
    }

    [Fact]
    public void A_database_locked_by_another_process_stops_start_up_after_the_busy_timeout()
    {
        Database.Open(Options);
        SqliteConnection.ClearAllPools();
        using var holder = new SqliteConnection($"Data Source={Options.DatabaseFile};Pooling=False");
        holder.Open();
        using (var exclusive = holder.CreateCommand())
        {
            // journal_mode=DELETE needs the file to itself; EXCLUSIVE then keeps every other connection out.
            exclusive.CommandText = "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;";
            exclusive.ExecuteNonQuery();
        }
        var started = DateTime.UtcNow;
        var error = Assert.Throws<ConfigurationException>(() => Database.Open(Options));
        Assert.StartsWith(Options.DatabaseFile + ": error: the database is locked by another process", Assert.Single(error.Errors));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_database_from_a_newer_pythonhpc_is_refused_rather_than_used()
    {
        Database.Open(Options);
        Scalar($"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({Database.LatestVersion + 1}, 'future', '2030-01-01')");
        SqliteConnection.ClearAllPools();
        var error = Assert.Throws<ConfigurationException>(() => Database.Open(Options));
        Assert.Contains("is newer than this pythonhpc's", Assert.Single(error.Errors));
    }
}
