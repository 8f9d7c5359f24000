namespace PythonHpc.Store;

/// <summary>The <c>Store</c> section: where subscribers (and, later, deliveries) are kept.</summary>
internal sealed class StoreOptions
{
    public const string Section = "Store";

    /// <summary><c>Sqlite</c>, the embedded default. PostgreSQL is the seam <see cref="Database"/> keeps open.</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>The folder of the SQLite file and of the generated token secret.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>Empty for SQLite (the file is <c>DataPath/pythonhpc.db</c>).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How long to wait for a database another process holds locked before giving up.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public string DatabaseFile => Path.Combine(DataPath, "pythonhpc.db");

    public IEnumerable<string> Validate()
    {
        if (!string.Equals(Provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
            yield return $"Store:Provider '{Provider}' is not supported: use Sqlite (PostgreSQL is planned)";
        if (string.IsNullOrWhiteSpace(DataPath))
            yield return "Store:DataPath must name a folder, such as data";
        if (!string.IsNullOrWhiteSpace(ConnectionString))
            yield return "Store:ConnectionString is for PostgreSQL; with Sqlite the file is Store:DataPath/pythonhpc.db";
        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromMinutes(10))
            yield return $"Store:BusyTimeout must be between 00:00:00 and 00:10:00, not {BusyTimeout}";
    }
}
