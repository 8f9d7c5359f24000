using System.Globalization;
using Npgsql;

[assembly: AssemblyFixture(typeof(PythonHpc.Tests.Support.PostgresServer.Lifetime))]

namespace PythonHpc.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL server for the test run, started on first use: Debian's binaries
/// (/usr/lib/postgresql/VERSION/bin), a cluster made by initdb in a temporary folder as a user other
/// than root (PostgreSQL refuses to run as root: `nobody` when the tests run as root), listening on a
/// free loopback port with its unix socket in that folder. Stopped, and its folder removed, when the
/// run ends. Each test takes a database of its own. Without the binaries a test that needs the server
/// is skipped with the reason; .ci/run installs them and fails on any skip.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<PostgresServer?> Shared = new(Start);
    private static readonly bool Root = Environment.UserName == "root";

    private readonly string _bin;
    private readonly string _folder;

    private PostgresServer(string bin, string folder, int port) => (_bin, _folder, Port) = (bin, folder, port);

    public int Port { get; }

    private string Data => Path.Combine(_folder, "data");

    /// <summary>The server (started now if it is not yet), or the test is skipped when PostgreSQL is not installed.</summary>
    public static PostgresServer Require()
    {
        if (Binaries() is null)
            Assert.Skip("PostgreSQL is not installed (Debian package postgresql); .ci/run installs it");
        return Shared.Value!;
    }

    /// <summary>A connection string to <paramref name="database"/> over loopback TCP, as a node would connect.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>A new, empty database; returns its connection string.</summary>
    public string NewDatabase()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..16];
        using var connection = new NpgsqlConnection(ConnectionString());
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        create.ExecuteNonQuery();
        return ConnectionString(name);
    }

    private static string? Binaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    private static PostgresServer Start()
    {
        var bin = Binaries()!;
        var folder = Path.Combine(Path.GetTempPath(), "pythonhpc-postgres-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        if (Root)
            Check(Tool.Run("chown", ["nobody:nogroup", folder]), "chown");
        var server = new PostgresServer(bin, folder, SmtpRecorder.FreePort());
        Check(server.AsOwner("initdb", ["-D", server.Data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]), "initdb");
        // fsync off: the tests kill services, never this server, and a shared 2-core machine spends
        // its disk on them better. Three nodes and the test itself need more than 100 connections.
        var options = string.Join(' ',
            $"-p {server.Port.ToString(CultureInfo.InvariantCulture)}", $"-k {folder}", "-c listen_addresses=127.0.0.1",
            "-c fsync=off", "-c max_connections=400");
        Check(server.AsOwner("pg_ctl", ["-D", server.Data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "-o", options, "start"]), "pg_ctl start");
        return server;
    }

    /// <summary>Stops the server (pg_ctl signals the postmaster its data folder names) and removes the folder.</summary>
    private void Stop()
    {
        AsOwner("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A PostgreSQL program, as the cluster's owner: <c>nobody</c> through runuser when the tests run as root.</summary>
    private ToolResult AsOwner(string program, IEnumerable<string> arguments)
    {
        var path = Path.Combine(_bin, program);
        return Root ? Tool.Run("runuser", ["-u", "nobody", "--", path, .. arguments], _folder) : Tool.Run(path, arguments, _folder);
    }

    private static void Check(ToolResult result, string what)
    {
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{what} failed: {result}");
    }

    /// <summary>The test run's fixture: stops the server at the end if a test started it.</summary>
    public sealed class Lifetime : IDisposable
    {
        public void Dispose()
        {
            if (Shared.IsValueCreated)
                Shared.Value?.Stop();
        }
    }
}
