using System.Text.Json;
using System.Text.RegularExpressions;

namespace PythonHpc.Tests.Support;

/// <summary>A message read back by Python's email package (testdata/mimecheck.py): what a mail client sees.</summary>
public sealed partial record ReadMessage(string File, JsonElement Parsed)
{
    public string Header(string name) =>
        Parsed.GetProperty("headers").EnumerateArray().Single(h => h[0].GetString()!.Equals(name, StringComparison.OrdinalIgnoreCase))[1].GetString()!.Trim();

    public bool HasHeader(string name) =>
        Parsed.GetProperty("headers").EnumerateArray().Any(h => h[0].GetString()!.Equals(name, StringComparison.OrdinalIgnoreCase));

    public string Part(string type) =>
        Parsed.GetProperty("parts").EnumerateArray().Single(p => p.GetProperty("type").GetString() == type).GetProperty("text").GetString()!;

    /// <summary>The first link in the text part whose path starts with <paramref name="path"/> (such as <c>/confirm/</c>).</summary>
    public Uri Link(string path) =>
        Url().Matches(Part("text/plain")).Select(m => new Uri(m.Value)).FirstOrDefault(u => u.AbsolutePath.StartsWith(path, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"no {path} link in {File}:\n{Part("text/plain")}");

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Url();
}

/// <summary>The pickup folder as a test reads it: each .eml parsed by Python's email package, outside .NET.</summary>
public sealed class Mailbox(string folder)
{
    public string Folder => folder;

    public IReadOnlyList<string> Files => Directory.Exists(folder)
        ? [.. Directory.GetFiles(folder, "*.eml").Order(StringComparer.Ordinal)]
        : [];

    public static ReadMessage Read(string file)
    {
        Tool.Require(Tool.Python, "python3");
        var result = Tool.Run(Tool.Python, [FeedBuild.Testdata("mimecheck.py"), file]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return new ReadMessage(file, JsonDocument.Parse(result.Stdout).RootElement[0].Clone());
    }

    /// <summary>Many messages read by one run of the parser, in the order given.</summary>
    public static IReadOnlyList<ReadMessage> ReadAll(IReadOnlyList<string> files)
    {
        if (files.Count == 0)
            return [];
        Tool.Require(Tool.Python, "python3");
        var result = Tool.Run(Tool.Python, [FeedBuild.Testdata("mimecheck.py"), .. files]);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var parsed = JsonDocument.Parse(result.Stdout);
        return [.. parsed.RootElement.EnumerateArray().Zip(files, (m, f) => new ReadMessage(f, m.Clone()))];
    }

    /// <summary>Waits for the <paramref name="count"/>-th message (confirmations go out apart from the request).</summary>
    public async Task<ReadMessage> Wait(int count, int seconds = 10)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(seconds); DateTime.UtcNow < deadline; await Task.Delay(20))
            if (Files.Count >= count)
                return Read(Files[count - 1]);
        throw new TimeoutException($"{folder} has {Files.Count} messages, not {count}, after {seconds} s");
    }
}
