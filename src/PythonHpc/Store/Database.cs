using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Npgsql;
using PythonHpc.Hosting;

namespace PythonHpc.Store;

/// <summary>
/// The database of subscribers, announcements and deliveries: a provider's connections, its numbered
/// migrations applied at start, and its named statements (<c>Store/Sql/PROVIDER/*.sql</c>),
/// all loaded at start so that a missing one stops start-up instead of failing a request. The code
/// above it speaks ADO.NET's base classes only: SQLite and PostgreSQL differ in their SQL files and in
/// how a connection is opened here, nowhere else.
/// </summary>
/// <remarks>
/// Transactions take each provider's default level: SQLite's <c>BEGIN IMMEDIATE</c> (one writer at a
/// time, so a transaction's reads are never stale) and PostgreSQL's READ COMMITTED, where row locks and
/// <c>ON CONFLICT</c> keep concurrent nodes apart; SERIALIZABLE would make them fail and retry instead.
/// </remarks>
internal sealed partial class Database : IDisposable
{
    private readonly SemaphoreSlim _writes = new(1, 1);
    private string _session = "";
    private readonly DbProviderFactory _factory;
    private readonly string _connectionString;
    private readonly Dictionary<string, string> _statements;

    private readonly string _aloneConnectionString;

    private readonly string _provider;

    private Database(DbProviderFactory factory, string connectionString, string aloneConnectionString, string location, (string Provider, Dictionary<string, string> Named) statements)
    {
        (_factory, _connectionString, _aloneConnectionString, Location) = (factory, connectionString, aloneConnectionString, location);
        (_provider, _statements) = statements;
    }

    /// <summary>What errors name: the database file, or the PostgreSQL server and database (never the password).</summary>
    public string Location { get; }

    /// <summary>The schema version this build applies.</summary>
    public static int LatestVersion => Migrations(StoreOptions.Sqlite, Statements(StoreOptions.Sqlite).Item2).Max(m => m.Version);

    [GeneratedRegex(@"^--\s*name:\s*(?<name>[a-z0-9-]+)\s*$", RegexOptions.Multiline)]
    private static partial Regex NameLine();

    [GeneratedRegex(@"/(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex MigrationName();

    /// <summary>
    /// Opens (creating if need be) the store, checks it, and brings its schema up to date. A file
    /// that is not a database, is damaged, is locked by another process past
    /// <see cref="StoreOptions.BusyTimeout"/>, or is newer than this build, is a
    /// <see cref="ConfigurationException"/> naming the file: an operator's problem to report once,
    /// not a crash to retry.
    /// </summary>
    public static Database Open(StoreOptions options) => options.IsPostgres ? OpenPostgres(options) : OpenSqlite(options);

    private static Database OpenSqlite(StoreOptions options)
    {
        var file = options.DatabaseFile;
        try
        {
            // The folder holds personal data and the token secret: its owner's alone.
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(options.DataPath);
            else
                Directory.CreateDirectory(options.DataPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var builder = new SqliteConnectionStringBuilder
            {
                DataSource = Path.GetFullPath(file),
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = true,
                ForeignKeys = true,
                // Microsoft.Data.Sqlite retries a busy database for this long (it is also the command timeout).
                DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
            };
            var connectionString = builder.ToString();
            builder.Pooling = false;
            var database = new Database(SqliteFactory.Instance, connectionString, builder.ToString(), file, Statements(StoreOptions.Sqlite));
            database._session = database.Sql("connection-session").Replace("{busy_timeout_ms}",
                ((long)options.BusyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            database.Prepare();
            return database;
        }
        catch (SqliteException e)
        {
            throw new ConfigurationException([$"{file}: error: {Explain(e, options)}"]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException([$"{file}: error: cannot open the database: {e.Message} (Store:DataPath)"]);
        }
    }

    /// <summary>
    /// The shared database of a cluster. Its problems (refused, unknown database, wrong password, a
    /// schema from a newer pythonhpc) stop start-up like a bad SQLite file, naming the server and the key.
    /// </summary>
    private static Database OpenPostgres(StoreOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        var location = $"postgresql://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        var alone = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Pooling = false };
        try
        {
            var database = new Database(NpgsqlFactory.Instance, builder.ToString(), alone.ToString(), location, Statements(StoreOptions.Postgres));
            using var connection = database.Connect();
            database.Migrate(connection);
            return database;
        }
        catch (NpgsqlException e)
        {
            throw new ConfigurationException([$"{location}: error: cannot use the database: {e.Message.TrimEnd('.')} (Store:ConnectionString)"]);
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> failed a statement or transaction for a passing reason, so that it
    /// may be run again whole: Npgsql's transient errors (deadlock, serialization failure, a dropped
    /// connection), and SQLite busy or locked past Store:BusyTimeout (SQLITE_BUSY, SQLITE_LOCKED), which
    /// Microsoft.Data.Sqlite does not mark transient.
    /// </summary>
    public static bool IsPassing(DbException e) => e.IsTransient || e is SqliteException { SqliteErrorCode: 5 or 6 };

    private static string Explain(SqliteException e, StoreOptions options) => e.SqliteErrorCode switch
    {
        5 or 6 => $"the database is locked by another process (waited {options.BusyTimeout.TotalSeconds:0.#} s, Store:BusyTimeout); stop it, or point Store:DataPath elsewhere",
        11 or 26 => $"not a usable SQLite database ({e.Message.TrimEnd('.')}); restore it from a backup, or move it away to start an empty one",
        8 or 14 => $"cannot write the database ({e.Message.TrimEnd('.')}); check the folder's permissions (Store:DataPath)",
        _ => e.Message,
    };

    /// <summary>WAL (readers never wait for the writer), an integrity check, then the migrations.</summary>
    private void Prepare()
    {
        using var connection = Connect();
        var mode = Scalar(connection, "PRAGMA journal_mode = WAL");
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{Location}: SQLite refused WAL mode (journal_mode is {mode})");
        var check = Scalar(connection, "PRAGMA quick_check");
        if (check != "ok")
            throw new SqliteException($"integrity check failed: {check}", 11);
        Migrate(connection);
    }

    private void Migrate(DbConnection connection)
    {
        var migrations = Migrations(_provider, _statements);
        var latest = migrations.Max(m => m.Version);
        foreach (var migration in migrations)
        {
            // Nodes starting together take turns (migrations-lock: SQLite's BEGIN IMMEDIATE already does,
            // PostgreSQL takes an advisory lock), and the later ones find the migration applied.
            using var transaction = connection.BeginTransaction();
            Execute(connection, "migrations-lock", transaction);
            Execute(connection, "migrations-table", transaction);
            using var version = Command(connection, "migrations-version", transaction);
            var current = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (current > latest)
                throw new ConfigurationException([$"{Location}: error: the database's schema (version {current}) is newer than this pythonhpc's ({latest}); run the newer pythonhpc, or restore a backup"]);
            if (current >= migration.Version)
                continue;
            using (var apply = connection.CreateCommand())
            {
                apply.Transaction = transaction;
                apply.CommandText = migration.Sql;
                apply.ExecuteNonQuery();
            }
            using (var applied = Command(connection, "migration-applied", transaction))
            {
                applied.With("version", migration.Version).With("name", migration.Name).With("now", DateTimeOffset.UtcNow);
                applied.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    public DbConnection Connect()
    {
        var connection = Create(_connectionString);
        connection.Open();
        Session(connection);
        return connection;
    }

    public Task<DbConnection> ConnectAsync(CancellationToken cancellationToken) => OpenAsync(_connectionString, cancellationToken);

    /// <summary>
    /// A connection of its own, outside the pool, for a long-lived user that changes its session
    /// (the ledger's writer): such settings must not leak to pooled connections.
    /// </summary>
    public Task<DbConnection> ConnectAloneAsync(CancellationToken cancellationToken) => OpenAsync(_aloneConnectionString, cancellationToken);

    private async Task<DbConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = Create(connectionString);
        await connection.OpenAsync(cancellationToken);
        Session(connection);
        return connection;
    }

    /// <summary>Runs a named statement that returns nothing; one a provider leaves empty is not needed there.</summary>
    private void Execute(DbConnection connection, string name, DbTransaction transaction)
    {
        if (Sql(name).Length == 0)
            return;
        using var command = Command(connection, name, transaction);
        command.ExecuteNonQuery();
    }

    private DbConnection Create(string connectionString)
    {
        var connection = _factory.CreateConnection()!;
        connection.ConnectionString = connectionString;
        return connection;
    }

    /// <summary>
    /// Each connection's settings (queries.sql's <c>connection-session</c>): for SQLite, its own busy
    /// handler, which retries a locked database within a millisecond or two, where the driver's own
    /// retry sleeps 150 ms at a time (measured by bench/run: a fifth of request time at 16 clients).
    /// </summary>
    private void Session(DbConnection connection)
    {
        if (_session.Length == 0)
            return;
        using var command = connection.CreateCommand();
        command.CommandText = _session;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Taken around this process's write transactions: requests queue here, asynchronously, rather
    /// than collide in the database and wait in its busy handler.
    /// </summary>
    public async Task<Writing> Write(CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        return new Writing(_writes);
    }

    public readonly struct Writing(SemaphoreSlim writes) : IDisposable
    {
        public void Dispose() => writes.Release();
    }

    public void Dispose() => _writes.Dispose();

    /// <summary>The named statement <paramref name="name"/>, ready for its parameters.</summary>
    public DbCommand Command(DbConnection connection, string name, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = Sql(name);
        command.Transaction = transaction;
        return command;
    }

    public string Sql(string name) => _statements.TryGetValue(name, out var sql)
        ? sql
        : throw new InvalidOperationException($"no statement '{name}' in the store's SQL files");

    /// <summary>Fails start-up, not a request, when the SQL files lack a statement the code needs.</summary>
    public void Require(params string[] names)
    {
        var missing = names.Where(n => !_statements.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"the store's SQL files lack {string.Join(", ", missing)}");
    }

    private static string? Scalar(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Every named statement for <paramref name="provider"/>: those both providers share (common/) and
    /// the provider's own (one file per entity: queries.sql, announcements.sql). A name given twice is
    /// an error, so a provider's file can only add what common/ leaves out.
    /// </summary>
    private static (string, Dictionary<string, string>) Statements(string provider)
    {
        var statements = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = typeof(Database).Assembly.GetManifestResourceNames()
            .Where(n => (n.StartsWith("sql/common/", StringComparison.Ordinal) || n.StartsWith($"sql/{provider}/", StringComparison.Ordinal))
                && !n.Contains("/migrations/", StringComparison.Ordinal));
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var text = Resource(file);
            var names = NameLine().Matches(text);
            for (var i = 0; i < names.Count; i++)
            {
                var start = names[i].Index + names[i].Length;
                var end = i + 1 < names.Count ? names[i + 1].Index : text.Length;
                if (!statements.TryAdd(names[i].Groups["name"].Value, Body(text[start..end])))
                    throw new InvalidOperationException($"{file}: the statement '{names[i].Groups["name"].Value}' is named twice");
            }
        }
        return (provider, statements);
    }

    /// <summary>
    /// A statement's text, without the comment lines after it (they describe the next statement); empty
    /// when it holds only comments (a step one provider does not need).
    /// </summary>
    private static string Body(string text)
    {
        var lines = text.Trim().Split('\n');
        var last = Array.FindLastIndex(lines, line => line.Trim().Length > 0 && !line.TrimStart().StartsWith("--", StringComparison.Ordinal));
        return string.Join('\n', lines[..(last + 1)]).Trim();
    }

    /// <summary>The statement names of <paramref name="provider"/>'s files, and its migrations' versions: every provider must have the same.</summary>
    internal static (IReadOnlyCollection<string> Names, IReadOnlyList<int> Versions) Shape(string provider) =>
        (Statements(provider).Item2.Keys, [.. Migrations(provider, Statements(provider).Item2).Select(m => m.Version)]);

    private sealed record Migration(int Version, string Name, string Sql);

    [GeneratedRegex(@"\{(?<type>[a-z]+)\}")]
    private static partial Regex TypePlaceholder();

    /// <summary>
    /// The migrations, shared by the providers (common/migrations), each column type that differs
    /// written in braces and given by the provider's <c>type-NAME</c> statement: <c>{time}</c> is
    /// SQLite's TEXT and PostgreSQL's TIMESTAMPTZ.
    /// </summary>
    private static List<Migration> Migrations(string provider, Dictionary<string, string> statements)
    {
        var assembly = typeof(Database).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("sql/common/migrations/", StringComparison.Ordinal))
            .Select(n => (Name: n, Match: MigrationName().Match(n)))
            .Where(m => m.Match.Success)
            .Select(m => new Migration(int.Parse(m.Match.Groups["version"].Value, CultureInfo.InvariantCulture), m.Match.Groups["name"].Value,
                TypePlaceholder().Replace(Resource(m.Name), t => statements.TryGetValue("type-" + t.Groups["type"].Value, out var type)
                    ? type
                    : throw new InvalidOperationException($"{m.Name}: no statement type-{t.Groups["type"].Value} for {provider}"))))
            .OrderBy(m => m.Version)];
    }

    private static string Resource(string name)
    {
        using var stream = typeof(Database).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not built in");
        return new StreamReader(stream).ReadToEnd();
    }
}

/// <summary>Parameters and columns, one way for every provider: times UTC, enums as lower-case words, null as NULL.</summary>
internal static class DbCommandExtensions
{
    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.Value = Value(value);
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>Binds a new value to a parameter added by <see cref="With"/>: a prepared statement run once per row.</summary>
    public static void Set(this DbCommand command, string name, object? value) => command.Parameters["@" + name].Value = Value(value);

    private static object Value(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset time => time.ToUniversalTime(),
        Enum word => word.ToString().ToLowerInvariant(),
        _ => value,
    };

    public static DateTimeOffset? Time(this DbDataReader reader, string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i).ToUniversalTime();
    }

    public static string? Text(this DbDataReader reader, string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetString(i);
    }
}
