using System.Runtime.CompilerServices;
using System.Text;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Feeds;

/// <summary>
/// Posts in, the expected feeds out, byte for byte (testdata/golden/CASE/posts → expected/). After an
/// intended change of output, regenerate with <c>PYTHONHPC_UPDATE_GOLDEN=1 dotnet test</c> and review the diff.
/// </summary>
public class FeedGoldenTests
{
    [Theory]
    [InlineData("basic")]
    public void Builds_exactly_the_expected_feeds(string name)
    {
        var (documents, snapshot) = FeedBuild.Run(FeedBuild.Testdata("golden", name, "posts"));
        Assert.Empty(snapshot.Problems);
        var expectedFolder = Path.Combine(SourceFolder(), "testdata", "golden", name, "expected");
        if (Environment.GetEnvironmentVariable("PYTHONHPC_UPDATE_GOLDEN") == "1")
        {
            if (Directory.Exists(expectedFolder))
                Directory.Delete(expectedFolder, recursive: true);
            foreach (var document in documents)
            {
                var path = Path.Combine(expectedFolder, document.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, document.Bytes);
            }
        }
        var expected = Directory.GetFiles(expectedFolder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(expectedFolder, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, documents.Select(d => d.Path));
        foreach (var document in documents)
            Assert.Equal(File.ReadAllText(Path.Combine(expectedFolder, document.Path), Encoding.UTF8), Encoding.UTF8.GetString(document.Bytes));
    }

    private static string SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(Path.GetDirectoryName(path))!;
}
