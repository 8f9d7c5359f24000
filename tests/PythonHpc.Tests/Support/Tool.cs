using System.Diagnostics;

namespace PythonHpc.Tests.Support;

/// <summary>The result of running a program.</summary>
public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs real programs outside .NET (Debian's python3-feedparser, xmllint) and the pythonhpc command
/// itself as a child process. A test whose program is missing is skipped with the reason; .ci/run
/// installs them all and fails on any skip.
/// </summary>
public static class Tool
{
    /// <summary>Debian's Python, where python3-feedparser is installed (a python3 on PATH may be another one).</summary>
    public const string Python = "/usr/bin/python3";

    public static string Require(string program, string package)
    {
        var path = program.Contains('/') ? program : Which(program);
        if (path is null || !File.Exists(path))
            Assert.Skip($"{program} is not installed (Debian package {package}); .ci/run installs it");
        return path!;
    }

    public static void RequirePythonModule(string module, string package)
    {
        Require(Python, "python3");
        if (Run(Python, ["-c", "import " + module]).ExitCode != 0)
            Assert.Skip($"Python module {module} is not installed (Debian package {package}); .ci/run installs it");
    }

    public static ToolResult Run(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, string? stdin = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish");
        }
        process.WaitForExit();
        return new ToolResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs the built <c>pythonhpc</c> in <paramref name="workingDirectory"/>.</summary>
    public static ToolResult Pythonhpc(string workingDirectory, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var env = new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            env[k] = v;
        return Run("dotnet", [PythonhpcDll, .. arguments], workingDirectory, env);
    }

    public static string PythonhpcDll => Path.Combine(AppContext.BaseDirectory, "pythonhpc.dll");

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}
