using Npgsql;

namespace PythonHpc.Store;

/// <summary>The <c>Store</c> section: where subscribers, announcements and deliveries are kept.</summary>
internal sealed class StoreOptions
{
    public const string Section = "Store";

    /// <summary>Provider names, as in configuration and as the folders of their SQL files (lower case).</summary>
    public const string Sqlite = "sqlite", Postgres = "postgres";

    /// <summary><c>Sqlite</c>, the embedded default, or <c>Postgres</c>: one database shared by several nodes.</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>The folder of the SQLite file and of the generated token secret.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>Npgsql's connection string with <c>Postgres</c> (<c>Host=…;Database=…;Username=…</c>); empty for SQLite (the file is <c>DataPath/pythonhpc.db</c>).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How long to wait for a SQLite file another process holds locked before giving up (PostgreSQL waits on rows, not files).</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public string DatabaseFile => Path.Combine(DataPath, "pythonhpc.db");

    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase)
        || string.Equals(Provider, "PostgreSQL", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<string> Validate()
    {
        if (!IsPostgres && !string.Equals(Provider, Sqlite, StringComparison.OrdinalIgnoreCase))
            yield return $"Store:Provider '{Provider}' is not supported: use Sqlite (one node) or Postgres (one or more nodes)";
        if (string.IsNullOrWhiteSpace(DataPath))
            yield return "Store:DataPath must name a folder, such as data";
        if (IsPostgres && ConnectionStringError() is { } error)
            yield return error;
        if (!IsPostgres && !string.IsNullOrWhiteSpace(ConnectionString))
            yield return "Store:ConnectionString is for Postgres; with Sqlite the file is Store:DataPath/pythonhpc.db";
        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromMinutes(10))
            yield return $"Store:BusyTimeout must be between 00:00:00 and 00:10:00, not {BusyTimeout}";
    }

    private string? ConnectionStringError()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            return "Store:ConnectionString must be set with Store:Provider Postgres, such as Host=db.example.org;Database=pythonhpc;Username=pythonhpc";
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            return string.IsNullOrWhiteSpace(builder.Host) ? "Store:ConnectionString must name the server (Host=…)" : null;
        }
        catch (ArgumentException e)
        {
            // Npgsql's message names the keyword; the value may hold a password, so it is not repeated.
            return $"Store:ConnectionString is not a PostgreSQL connection string: {e.Message}";
        }
    }
}
