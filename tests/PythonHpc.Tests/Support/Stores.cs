using PythonHpc.Store;

namespace PythonHpc.Tests.Support;

/// <summary>The store's providers, for tests that must hold on both: a SQLite file in the test's folder, or a fresh database on the run's PostgreSQL server.</summary>
internal static class Stores
{
    public const string Sqlite = "Sqlite", Postgres = "Postgres";

    public static StoreOptions Options(string provider, TempFolder folder) => provider == Postgres
        ? new StoreOptions { Provider = Postgres, DataPath = folder["data"], ConnectionString = PostgresServer.Require().NewDatabase(), BusyTimeout = TimeSpan.FromSeconds(1) }
        : new StoreOptions { DataPath = folder["data"], BusyTimeout = TimeSpan.FromSeconds(1) };
}
