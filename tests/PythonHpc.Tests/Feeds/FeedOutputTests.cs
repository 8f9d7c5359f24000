using PythonHpc.Feeds;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Feeds;

public sealed class FeedOutputTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static FeedDocument Doc(string path, string text) => new(path, "text/plain", System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void An_unchanged_file_is_not_rewritten_and_keeps_its_time()
    {
        var out_ = _folder["out"];
        FeedOutput.Write(out_, [Doc("feed.xml", "one"), Doc("atom.xml", "two")]);
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(_folder["out/feed.xml"], old);
        File.SetLastWriteTimeUtc(_folder["out/atom.xml"], old);

        var outcome = FeedOutput.Write(out_, [Doc("feed.xml", "one"), Doc("atom.xml", "changed")]);

        Assert.Equal((1, 1), (outcome.Written, outcome.Unchanged));
        Assert.Equal(old, File.GetLastWriteTimeUtc(_folder["out/feed.xml"]));
        Assert.NotEqual(old, File.GetLastWriteTimeUtc(_folder["out/atom.xml"]));
        Assert.Equal("changed", File.ReadAllText(_folder["out/atom.xml"]));
        Assert.Equal(new DateTimeOffset(old), outcome.LastModified["feed.xml"]);
        Assert.Empty(Directory.GetFiles(out_, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Feeds_of_a_vanished_category_are_removed_and_nothing_else()
    {
        var out_ = _folder["out"];
        _folder.Write("out/index.html", "the blog's own file");
        FeedOutput.Write(out_, [Doc("feed.xml", "x"), Doc("categories/old/feed.xml", "y"), Doc("categories/kept/feed.xml", "z")]);

        var outcome = FeedOutput.Write(out_, [Doc("feed.xml", "x"), Doc("categories/kept/feed.xml", "z")]);

        Assert.Equal(1, outcome.Removed);
        Assert.False(Directory.Exists(_folder["out/categories/old"]));
        Assert.True(File.Exists(_folder["out/categories/kept/feed.xml"]));
        Assert.True(File.Exists(_folder["out/index.html"]));
    }

    [Fact]
    public void A_tampered_manifest_cannot_delete_outside_the_folder()
    {
        var victim = _folder.Write("victim.txt", "keep me");
        _folder.Write("out/.pythonhpc-feeds", "../victim.txt\n" + victim + "\n");
        FeedOutput.Write(_folder["out"], [Doc("feed.xml", "x")]);
        Assert.True(File.Exists(victim));
    }
}
