using PythonHpc.Content;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Content;

public sealed class PostCatalogTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private PostCatalog Catalog()
    {
        var (site, content, _) = Settings.For(_folder["posts"]);
        return new PostCatalog(content, new PostLoader(site, content));
    }

    private void Post(string relative, string title, string date = "2024-01-01", string extra = "") =>
        _folder.Write("posts/" + relative, $"---\ntitle: {title}\ndate: {date}\n{extra}---\nBody of {title}.\n");

    [Fact]
    public void Reads_posts_recursively_and_skips_underscore_and_dot_entries()
    {
        Post("a.md", "A");
        Post("nested/deeper/b.markdown", "B");
        Post("c/index.qmd", "C");
        Post("_draft-ideas.md", "Hidden");
        Post("_freeze/x.md", "Hidden");
        Post(".ipynb_checkpoints/a-checkpoint.md", "Hidden");
        _folder.Write("posts/nb.out.ipynb", "{\"cells\": []}");
        _folder.Write("posts/notes.txt", "not a post");
        var snapshot = Catalog().Refresh();
        Assert.Empty(snapshot.Problems);
        Assert.Equal(["A", "B", "C"], snapshot.Posts.Select(p => p.Title).Order());
        Assert.Equal("c", snapshot.Posts.Single(p => p.Title == "C").Key);
    }

    [Fact]
    public void Published_posts_are_newest_first_without_drafts_or_future_posts()
    {
        Post("old.md", "Old", "2020-01-01");
        Post("new.md", "New", "2024-06-01");
        Post("same-day-b.md", "Same B", "2022-01-01");
        Post("same-day-a.md", "Same A", "2022-01-01");
        Post("draft.md", "Draft", "2023-01-01", "draft: true\n");
        Post("future.md", "Future", "2099-01-01");
        var snapshot = Catalog().Refresh();
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(["New", "Same A", "Same B", "Old"], snapshot.PublishedAt(now).Select(p => p.Title));
        Assert.Equal(new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), snapshot.NextPublicationAfter(now));
    }

    [Fact]
    public void A_refresh_reads_only_changed_files()
    {
        Post("a.md", "A");
        Post("b.md", "B");
        var catalog = Catalog();
        catalog.Refresh();
        Assert.Equal(2, catalog.LastReadCount);
        catalog.Refresh();
        Assert.Equal(0, catalog.LastReadCount);
        Post("b.md", "B changed, longer");
        var snapshot = catalog.Refresh();
        Assert.Equal(1, catalog.LastReadCount);
        Assert.Contains(snapshot.Posts, p => p.Title == "B changed, longer");
        File.Delete(_folder["posts/a.md"]);
        Assert.Equal(["B changed, longer"], catalog.Refresh().Posts.Select(p => p.Title));
    }

    [Fact]
    public void A_refresh_of_named_paths_reads_those_files_only_and_a_full_one_catches_what_was_missed()
    {
        Post("a.md", "A");
        Post("b.md", "B");
        var catalog = Catalog();
        var first = catalog.Refresh();
        Post("a.md", "A edited, longer");
        Post("b.md", "B edited, longer");
        Post("c.md", "C");
        // As if the watcher had reported a.md and c.md and lost the event for b.md (an overflow).
        var named = catalog.Refresh([_folder["posts/a.md"], _folder["posts/c.md"], _folder["posts/.a.md.swp"]]);
        Assert.Equal(2, catalog.LastReadCount);
        Assert.Equal(["A edited, longer", "B", "C"], named.Posts.Select(p => p.Title).Order());
        Assert.Same(first.Posts.Single(p => p.Title == "B"), named.Posts.Single(p => p.Title == "B"));
        var full = catalog.Refresh();
        Assert.Equal(1, catalog.LastReadCount);
        Assert.Equal(["A edited, longer", "B edited, longer", "C"], full.Posts.Select(p => p.Title).Order());
        Assert.Same(full, catalog.Refresh([_folder["posts/a.md"]]));
    }

    [Fact]
    public void A_refresh_of_named_paths_handles_renames_deletions_and_moved_folders()
    {
        Post("a.md", "A");
        Post("sub/b.md", "B");
        Post("sub/c.md", "C");
        var catalog = Catalog();
        catalog.Refresh();
        File.Move(_folder["posts/a.md"], _folder["posts/renamed.md"]);
        var renamed = catalog.Refresh([_folder["posts/a.md"], _folder["posts/renamed.md"]]);
        Assert.Equal(1, catalog.LastReadCount);
        Assert.Equal("renamed", renamed.Posts.Single(p => p.Title == "A").Key);
        // A folder moved where the listing does not go takes its posts along; its event names only the folder.
        Directory.Move(_folder["posts/sub"], _folder["posts/_sub"]);
        var hidden = catalog.Refresh([_folder["posts/sub"], _folder["posts/_sub"]]);
        Assert.Equal(["A"], hidden.Posts.Select(p => p.Title));
        Directory.Move(_folder["posts/_sub"], _folder["posts/back"]);
        var back = catalog.Refresh([_folder["posts/_sub"], _folder["posts/back"]]);
        Assert.Equal(["A", "B", "C"], back.Posts.Select(p => p.Title).Order());
        File.Delete(_folder["posts/back/b.md"]);
        Assert.Equal(["A", "C"], catalog.Refresh([_folder["posts/back/b.md"]]).Posts.Select(p => p.Title).Order());
    }

    [Fact]
    public void A_changed_metadata_file_named_by_the_watcher_reads_every_post_below_it_again()
    {
        Post("sub/a.md", "A");
        var catalog = Catalog();
        Assert.DoesNotContain("Folder Author", catalog.Refresh().Posts.Single().Authors);
        _folder.Write("posts/sub/_metadata.yml", "author: Folder Author\n");
        var snapshot = catalog.Refresh([_folder["posts/sub/_metadata.yml"]]);
        Assert.Equal(["Folder Author"], snapshot.Posts.Single().Authors);
    }

    [Fact]
    public void Metadata_files_give_defaults_that_posts_override()
    {
        _folder.Write("posts/_metadata.yml", "author: Folder Author\ncategories: [Default]\n");
        _folder.Write("posts/talks/_metadata.yml", "categories: [Talks]\n");
        Post("plain.md", "Plain");
        Post("own.md", "Own", extra: "author: Own Author\n");
        Post("talks/t.md", "Talk");
        var snapshot = Catalog().Refresh();
        Assert.Empty(snapshot.Problems);
        var posts = snapshot.Posts.ToDictionary(p => p.Title);
        Assert.Equal(["Folder Author"], posts["Plain"].Authors);
        Assert.Equal(["Default"], posts["Plain"].Categories);
        Assert.Equal(["Own Author"], posts["Own"].Authors);
        Assert.Equal(["Talks"], posts["Talk"].Categories);
        Assert.Equal(["Folder Author"], posts["Talk"].Authors);
    }

    [Fact]
    public void Two_posts_with_one_id_keep_the_first_and_report_the_second()
    {
        Post("2024-01-01-same.md", "First");
        Post("other/2024-01-01-same.md", "Second");
        var snapshot = Catalog().Refresh();
        Assert.Equal(["First"], snapshot.Posts.Select(p => p.Title));
        var problem = Assert.Single(snapshot.Problems);
        Assert.Contains("is already the id of", problem.Message);
        Assert.EndsWith("other/2024-01-01-same.md", problem.File);
    }

    [Fact]
    public void One_broken_post_does_not_stop_the_others()
    {
        Post("good.md", "Good");
        _folder.Write("posts/bad.md", "---\ntitle: [unclosed\n---\n");
        _folder.Write("posts/empty.md", "");
        var snapshot = Catalog().Refresh();
        Assert.Equal(["Good"], snapshot.Posts.Select(p => p.Title));
        Assert.Equal(2, snapshot.Problems.Count(p => p.Severity == Severity.Error));
        Assert.True(snapshot.HasErrors);
    }
}
