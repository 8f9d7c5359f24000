using Microsoft.Data.Sqlite;
using PythonHpc.Hosting;
using PythonHpc.Store;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Subscribers;

/// <summary>The store on a real SQLite file and on a real PostgreSQL server: the same behaviour from both.</summary>
public sealed class SubscriberStoreTests : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private static readonly Consent Web = new(null, "192.0.2.1", "Browser/1.0");
    private readonly TempFolder _folder = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private StoreOptions Options => _options ??= Stores.Options(Stores.Sqlite, _folder);
    private StoreOptions? _options;
    private Database? _database;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    /// <summary>The store on <paramref name="provider"/>; every call in one test opens the same database again.</summary>
    private SubscriberStore Store(string provider = Stores.Sqlite)
    {
        _options ??= Stores.Options(provider, _folder);
        _database = Database.Open(_options);
        return new(_database, _clock);
    }

    private static EmailAddress Address(string text) => EmailAddress.TryParse(text, out var a, out var e) ? a : throw new ArgumentException(e);

    private string Scalar(string sql)
    {
        using var connection = _database!.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Opening_applies_every_migration_once_even_when_several_processes_open_together(string provider)
    {
        Store(provider);
        // Nodes of a cluster start together: they take turns, and the later ones find the work done.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Database.Open(Options), Ct)));
        Assert.Equal(Database.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT MAX(version) FROM schema_migrations"));
        Assert.Equal(Database.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT COUNT(*) FROM schema_migrations"));
    }

    [Fact]
    public void Both_providers_have_the_same_statements_and_migrations()
    {
        var (sqliteNames, sqliteVersions) = Database.Shape(StoreOptions.Sqlite);
        var (postgresNames, postgresVersions) = Database.Shape(StoreOptions.Postgres);
        Assert.Equal(sqliteNames.Order(StringComparer.Ordinal), postgresNames.Order(StringComparer.Ordinal));
        Assert.Equal(sqliteVersions, postgresVersions);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Opening_creates_the_file_in_WAL_mode_with_every_migration_applied_once()
    {
        Database.Open(Options);
        Store();
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
        Assert.Equal(Database.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT MAX(version) FROM schema_migrations"));
        Assert.Equal(Database.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT COUNT(*) FROM schema_migrations"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Options.DataPath));
    }

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task A_request_makes_a_pending_subscriber_and_claims_one_confirmation_per_window(string provider)
    {
        var store = Store(provider);
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

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Concurrent_requests_for_one_address_make_one_subscriber_and_one_confirmation(string provider)
    {
        var store = Store(provider);
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => store.Subscribe(Address(i % 2 == 0 ? "race@example.org" : "RACE@example.org"), "", SubscriberSource.Web, Web, Window, Ct), Ct)));
        Assert.Single(results.Select(r => r.Subscriber.Id).Distinct());
        Assert.Single(results, r => r.SendConfirmation);
        Assert.Equal("1", Scalar("SELECT COUNT(*) FROM subscribers"));
    }

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Confirming_acts_on_pending_subscribers_only_and_records_the_click(string provider)
    {
        var store = Store(provider);
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

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task A_confirmed_subscriber_is_left_alone_by_the_form_and_one_who_left_must_confirm_again(string provider)
    {
        var store = Store(provider);
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

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Removing_erases_the_row_and_ids_are_never_reused(string provider)
    {
        var store = Store(provider);
        var gone = await store.AddConfirmed(Address("gone@example.org"), "Gone", SubscriberSource.Cli, Ct);
        Assert.True(await store.RemoveSubscriber(Address("GONE@example.org"), Ct));
        Assert.False(await store.RemoveSubscriber(Address("gone@example.org"), Ct));
        Assert.Null(await store.SubscriberById(gone.Id, Ct));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM subscribers WHERE email LIKE '%gone%' OR name = 'Gone'"));
        var next = await store.AddConfirmed(Address("next@example.org"), "", SubscriberSource.Cli, Ct);
        Assert.True(next.Id > gone.Id);
    }

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public async Task Values_that_look_like_SQL_are_stored_as_they_are(string provider)
    {
        var store = Store(provider);
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

    [Theory]
    [InlineData(Stores.Sqlite)]
    [InlineData(Stores.Postgres)]
    public void A_database_from_a_newer_pythonhpc_is_refused_rather_than_used(string provider)
    {
        Store(provider);
        Scalar($"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({Database.LatestVersion + 1}, 'future', '2030-01-01')");
        SqliteConnection.ClearAllPools();
        var error = Assert.Throws<ConfigurationException>(() => Database.Open(Options));
        Assert.Contains("is newer than this pythonhpc's", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_PostgreSQL_server_that_does_not_answer_stops_start_up_naming_the_server_and_the_key()
    {
        var port = SmtpRecorder.FreePort();
        var options = new StoreOptions { Provider = "Postgres", DataPath = _folder["data"], ConnectionString = $"Host=127.0.0.1;Port={port};Username=pythonhpc;Password=secret-word;Database=blog;Timeout=2" };
        Assert.Empty(options.Validate());
        var message = Assert.Single(Assert.Throws<ConfigurationException>(() => Database.Open(options)).Errors);
        Assert.StartsWith($"postgresql://pythonhpc@127.0.0.1:{port}/blog: error: cannot use the database: ", message);
        Assert.EndsWith("(Store:ConnectionString)", message);
        Assert.DoesNotContain("secret-word", message);
    }

    [Theory]
    [InlineData("Postgres", "", "Store:ConnectionString must be set with Store:Provider Postgres")]
    [InlineData("Postgres", "Hots=db;Database=blog", "Store:ConnectionString is not a PostgreSQL connection string")]
    [InlineData("Postgres", "Database=blog", "Store:ConnectionString must name the server")]
    [InlineData("Oracle", "", "Store:Provider 'Oracle' is not supported")]
    [InlineData("Sqlite", "Host=db", "Store:ConnectionString is for Postgres")]
    public void A_store_configuration_that_cannot_work_is_reported_naming_its_key(string provider, string connectionString, string expected)
    {
        var errors = new StoreOptions { Provider = provider, ConnectionString = connectionString }.Validate().ToList();
        Assert.StartsWith(expected, Assert.Single(errors));
    }
}
