using System.Text;
using PythonHpc.Content;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Content;

public sealed class PostLoaderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private PostLoader.Result Load(string relative, string text, string timeZone = "UTC", string baseUrl = "https://example.org/blog/") =>
        Load(relative, Encoding.UTF8.GetBytes(text), timeZone, baseUrl);

    private PostLoader.Result Load(string relative, byte[] bytes, string timeZone = "UTC", string baseUrl = "https://example.org/blog/")
    {
        var path = _folder.Write("posts/" + relative, bytes);
        return Settings.Loader(_folder["posts"], baseUrl, timeZone).Load(path);
    }

    private static Post Published(PostLoader.Result result)
    {
        Assert.True(result.Post is not null, string.Join("\n", result.Problems));
        return result.Post!;
    }

    [Fact]
    public void Reads_the_seed_post()
    {
        var seed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "testdata", "seed", "2025-09-15-python-for-hpc.md"));
        var result = Load("2025-09-15-python-for-hpc.md", seed);
        var post = Published(result);
        Assert.Empty(result.Problems);
        Assert.Equal("Python for HPC", post.Title);
        Assert.Equal(new DateTimeOffset(2025, 9, 15, 0, 0, 0, TimeSpan.Zero), post.Date);
        Assert.Equal(["Python", "HPC", "sdsc"], post.Categories);
        Assert.Equal("tag:example.org,2025-09-15:blog/python-for-hpc", post.Id);
        Assert.Equal("https://example.org/blog/posts/2025-09-15-python-for-hpc.html", post.Permalink.AbsoluteUri);
        Assert.Equal("2025-09-15-python-for-hpc", post.Key);
        Assert.False(post.Draft);
        Assert.StartsWith("Python is often the first choice", result.Body!.TrimStart());
    }

    [Fact]
    public void Reads_every_front_matter_field_in_its_several_forms()
    {
        var result = Load("deep/2024-01-02-forms.qmd", """
            ---
            title: "Forms"
            date: 2024-01-02 10:30 # a comment
            date-modified: 2024-02-01
            categories: Machine Learning, C#
            tags: [Python, python, GPU]
            description: A *short* description
            author:
              - name: Ada Lovelace
                affiliation: Analytical Engines
              - name:
                  given: Grace
                  family: Hopper
              - Alan Turing
            draft: false
            image: ../img/cover.png
            slug: custom-slug
            aliases:
              - /old/forms.html
            ---
            Body.
            """);
        var post = Published(result);
        Assert.Empty(result.Problems);
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 10, 30, 0, TimeSpan.Zero), post.Date);
        Assert.Equal(new DateTimeOffset(2024, 2, 1, 0, 0, 0, TimeSpan.Zero), post.Updated);
        Assert.Equal(["Machine Learning", "C#", "Python", "GPU"], post.Categories);
        Assert.Equal("A short description", post.Description);
        Assert.Equal(["Ada Lovelace", "Grace Hopper", "Alan Turing"], post.Authors);
        Assert.Equal("https://example.org/blog/posts/img/cover.png", post.Image!.AbsoluteUri);
        Assert.Equal("custom-slug", post.Slug);
        Assert.Equal(["/old/forms.html"], post.Aliases);
        Assert.Equal(PostFormat.Quarto, post.Format);
        Assert.Equal("https://example.org/blog/posts/deep/2024-01-02-forms.html", post.Permalink.AbsoluteUri);
    }

    [Theory]
    [InlineData("author: Solo Writer", new[] { "Solo Writer" })]
    [InlineData("author: [One, Two]", new[] { "One", "Two" })]
    [InlineData("authors:\n  - One\n  - name: Two", new[] { "One", "Two" })]
    [InlineData("author:\n  name: Mapped Writer", new[] { "Mapped Writer" })]
    [InlineData("author: ~", new string[0])]
    public void Authors_come_as_strings_lists_or_objects(string yaml, string[] expected)
    {
        var post = Published(Load("a.md", $"---\ntitle: T\ndate: 2024-01-01\n{yaml}\n---\nText\n"));
        Assert.Equal(expected, post.Authors);
    }

    [Fact]
    public void A_date_without_offset_is_in_the_site_time_zone()
    {
        var post = Published(Load("a.md", "---\ntitle: T\ndate: 2025-07-01 09:00\n---\nx", timeZone: "America/Los_Angeles"));
        Assert.Equal(new DateTimeOffset(2025, 7, 1, 9, 0, 0, TimeSpan.FromHours(-7)), post.Date);
    }

    [Fact]
    public void Without_a_date_the_file_name_gives_it_and_then_the_modification_time_with_a_warning()
    {
        Assert.Equal(new DateTimeOffset(2023, 4, 5, 0, 0, 0, TimeSpan.Zero), Published(Load("2023-04-05-named.md", "---\ntitle: T\n---\nx")).Date);
        var result = Load("undated.md", "---\ntitle: T\n---\nx");
        var post = Published(result);
        Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(_folder["posts/undated.md"]), TimeSpan.Zero), post.Date);
        Assert.Contains(result.Problems, p => p.Severity == Severity.Warning && p.Message.Contains("modification time"));
    }

    [Fact]
    public void Title_falls_back_to_the_first_level_one_heading_then_the_file_name()
    {
        var fromHeading = Published(Load("2024-01-01-x.md", "---\ndate: 2024-01-01\n---\n\n```\n# not this\n```\n\n# The *real* title\n\ntext"));
        Assert.Equal("The real title", fromHeading.Title);
        Assert.True(fromHeading.TitleFromHeading);
        var setext = Published(Load("2024-01-01-y.md", "Setext title\n============\n\ntext"));
        Assert.Equal("Setext title", setext.Title);
        var fromName = Published(Load("2024-01-01-from-the-name.md", "---\ndate: 2024-01-01\n---\nNo heading here."));
        Assert.Equal("From the name", fromName.Title);
        Assert.False(fromName.TitleFromHeading);
    }

    [Fact]
    public void Bom_and_crlf_are_read_like_plain_utf8_and_lf()
    {
        var text = "---\r\ntitle: Crlf\r\ndate: 2024-01-01\r\n---\r\nLine one\r\nLine two\r\n";
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray();
        var result = Load("crlf.md", bytes);
        Assert.Equal("Crlf", Published(result).Title);
        Assert.Equal("Line one\nLine two\n", result.Body);
        Assert.Empty(result.Problems);
    }

    [Fact]
    public void Drafts_are_read_but_not_published_and_future_posts_wait_for_their_date()
    {
        var draft = Published(Load("d.md", "---\ntitle: D\ndate: 2024-01-01\ndraft: true\n---\nx"));
        Assert.True(draft.Draft);
        Assert.False(draft.IsPublishedAt(DateTimeOffset.UtcNow));
        var unpublished = Published(Load("j.md", "---\ntitle: J\ndate: 2024-01-01\npublished: false\n---\nx"));
        Assert.True(unpublished.Draft);
        var future = Published(Load("f.md", "---\ntitle: F\ndate: 2099-01-01\n---\nx"));
        Assert.False(future.IsPublishedAt(DateTimeOffset.UtcNow));
        Assert.True(future.IsPublishedAt(new DateTimeOffset(2099, 1, 1, 0, 0, 1, TimeSpan.Zero)));
    }

    [Fact]
    public void The_id_survives_a_new_title_body_date_and_scheme_but_front_matter_id_overrides_it()
    {
        var first = Published(Load("2025-09-15-python-for-hpc.md", "---\ntitle: Python for HPC\ndate: 2025-09-15\n---\nBody one"));
        var edited = Published(Load("2025-09-15-python-for-hpc.md", "---\ntitle: Python for HPC (updated)\ndate: 2025-09-16 10:00\n---\nBody two, longer"));
        var https = Published(Load("2025-09-15-python-for-hpc.md", "---\ntitle: Python for HPC\ndate: 2025-09-15\n---\nBody one", baseUrl: "http://example.org/blog/"));
        Assert.Equal("tag:example.org,2025-09-15:blog/python-for-hpc", first.Id);
        Assert.Equal(first.Id, edited.Id);
        Assert.Equal(first.Id, https.Id);
        Assert.Equal("https://example.org/old-id", Published(Load("x.md", "---\ntitle: X\ndate: 2024-01-01\nid: https://example.org/old-id\n---\nx")).Id);
        Assert.Equal("tag:example.org,2024-01-01:blog/my%20name", Published(Load("y.md", "---\ntitle: Y\ndate: 2024-01-01\nid: my name\n---\nx")).Id);
    }

    [Theory]
    [InlineData("posts/{path}.html", "nested/2024-05-06-tokens.md", "https://example.org/blog/posts/nested/2024-05-06-tokens.html")]
    [InlineData("posts/{stem}.html", "nested/2024-05-06-tokens.md", "https://example.org/blog/posts/2024-05-06-tokens.html")]
    [InlineData("{yyyy}/{mm}/{dd}/{slug}/", "nested/2024-05-06-tokens.md", "https://example.org/blog/2024/05/06/tokens/")]
    [InlineData("posts/{stem}/", "welcome/index.qmd", "https://example.org/blog/posts/welcome/")]
    [InlineData("p/{stem}.html", "träffar över.md", "https://example.org/blog/p/tr%C3%A4ffar%20%C3%B6ver.html")]
    public void Permalinks_follow_the_pattern(string pattern, string file, string expected)
    {
        var path = _folder.Write("posts/" + file, "---\ntitle: T\ndate: 2024-05-06\n---\nx");
        var post = Settings.Loader(_folder["posts"], permalink: pattern).Load(path).Post!;
        Assert.Equal(expected, post.Permalink.AbsoluteUri);
    }

    [Fact]
    public void A_notebook_gives_front_matter_from_its_raw_cell_and_code_and_text_outputs_but_no_images()
    {
        var result = Load("2024-03-05-nb.ipynb", Notebook(
            """{"cell_type": "raw", "metadata": {}, "source": ["---\n", "title: Notebook post\n", "date: 2024-03-05\n", "categories: [Jupyter]\n", "---"]}""",
            """{"cell_type": "markdown", "metadata": {}, "source": ["Some *text*."]}""",
            """{"cell_type": "code", "metadata": {}, "execution_count": 1, "source": ["#| echo: true\n", "print('hi')"], "outputs": [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]}""",
            """{"cell_type": "code", "metadata": {}, "execution_count": 2, "source": "plot()", "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR", "text/plain": ["<Figure>"]}}]}""",
            """{"cell_type": "code", "metadata": {}, "execution_count": 3, "source": ["#| include: false\n", "secret()"], "outputs": []}""",
            """{"cell_type": "code", "metadata": {"tags": ["remove-input"]}, "execution_count": 4, "source": "hidden_input()", "outputs": [{"output_type": "execute_result", "execution_count": 4, "metadata": {}, "data": {"text/plain": ["42"]}}]}""",
            """{"cell_type": "code", "metadata": {}, "execution_count": 5, "source": "boom()", "outputs": [{"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["\u001b[0;31mValueError\u001b[0m: bad"]}]}"""));
        var post = Published(result);
        Assert.Empty(result.Problems);
        Assert.Equal("Notebook post", post.Title);
        Assert.Equal(["Jupyter"], post.Categories);
        Assert.Equal(PostFormat.Notebook, post.Format);
        var body = result.Body!;
        Assert.Contains("Some *text*.", body);
        Assert.Contains("```python\nprint('hi')\n```", body);
        Assert.Contains("```\nhi\n```", body);
        Assert.Contains("plot()", body);
        Assert.DoesNotContain("<Figure>", body);
        Assert.DoesNotContain("iVBOR", body);
        Assert.DoesNotContain("secret()", body);
        Assert.DoesNotContain("hidden_input()", body);
        Assert.Contains("```\n42\n```", body);
        Assert.Contains("ValueError: bad", body);
        Assert.False(body.Contains('\u001b', StringComparison.Ordinal), body);
    }

    private static string Notebook(params string[] cells) =>
        "{\n \"cells\": [\n  " + string.Join(",\n  ", cells) + "\n ],\n \"metadata\": {\"kernelspec\": {\"language\": \"python\"}},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n";

    [Fact]
    public void A_quarto_listing_page_is_not_a_post()
    {
        var result = Load("index.qmd", "---\ntitle: Blog\nlisting:\n  contents: posts\n---\n");
        Assert.Null(result.Post);
        Assert.Empty(result.Problems);
    }

    // --- bad input: every problem names FILE:LINE, the post is refused or cleaned, nothing throws ---

    [Fact]
    public void Broken_yaml_is_refused_at_its_line()
    {
        var result = Load("broken.md", "---\ntitle: Fine\ndate: 2024-01-01\ncategories: [a, b\nauthor: x\n---\nBody");
        Assert.Null(result.Post);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(Severity.Error, problem.Severity);
        Assert.StartsWith(_folder["posts/broken.md"] + ":", problem.ToString());
        Assert.InRange(problem.Line, 4, 6);
        Assert.Contains("not valid YAML", problem.Message);
    }

    [Fact]
    public void An_unquoted_colon_in_a_value_is_read_as_text_with_a_warning_at_its_line()
    {
        var result = Load("colon.md", "---\ndate: 2025-05-08\ntitle: Astrophysics Papers: Daily \"Summaries\"\ncategories: [a]\n---\nBody");
        var post = Published(result);
        Assert.Equal("Astrophysics Papers: Daily \"Summaries\"", post.Title);
        Assert.Equal(["a"], post.Categories);
        var problem = Assert.Single(result.Problems);
        Assert.Equal((Severity.Warning, 3), (problem.Severity, problem.Line));
        Assert.Contains("must be quoted", problem.Message);
    }

    [Fact]
    public void Front_matter_opened_with_two_dashes_is_read_with_a_warning_but_a_leading_rule_is_not_front_matter()
    {
        var typo = Load("2024-09-03-typo.md", "--\ncategories:\n- documentation\ndate: '2024-09-03'\ntitle: How to use Anki\n---\n\n## Install\n");
        Assert.Equal("How to use Anki", Published(typo).Title);
        Assert.Equal(["documentation"], typo.Post!.Categories);
        Assert.Equal("## Install\n", typo.Body!.TrimStart('\n'));
        Assert.Contains("must open with '---', not '--'", Assert.Single(typo.Problems).Message);

        var rule = Load("2024-09-04-rule.md", "----\nSome text under a rule.\n\n---\n\nMore text.\n");
        Assert.Empty(rule.Problems);
        Assert.StartsWith("----\nSome text", rule.Body);
    }

    [Fact]
    public void An_impossible_date_is_refused_at_the_date_line()
    {
        var result = Load("bad-date.md", "---\ntitle: Bad\n\ndate: 2025-02-30\n---\nBody");
        Assert.Null(result.Post);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(_folder["posts/bad-date.md"] + ":4: error: date: '2025-02-30' is not a real date", problem.ToString());
    }

    [Fact]
    public void Invalid_utf8_is_refused_at_its_line()
    {
        var bytes = Encoding.UTF8.GetBytes("---\ntitle: Latin-1\ndate: 2024-01-01\n---\nCaf").Concat(new byte[] { 0xE9, (byte)'\n' }).ToArray();
        var result = Load("latin1.md", bytes);
        Assert.Null(result.Post);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(5, problem.Line);
        Assert.Contains("invalid UTF-8", problem.Message);
    }

    [Fact]
    public void Nul_and_form_feed_are_removed_with_a_warning_at_their_line()
    {
        var result = Load("controls.md", "---\ntitle: \"Tab\\tOK\"\ndate: 2024-01-01\n---\nfirst\nsecond\fpage\u0000end\n");
        var post = Published(result);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(Severity.Warning, problem.Severity);
        Assert.Equal(6, problem.Line);
        Assert.Contains("2 control characters", problem.Message);
        Assert.Equal("first\nsecondpageend\n", result.Body);
        Assert.Equal("Tab\tOK", post.Title.Replace(" ", "\t", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\n\t\n")]
    public void An_empty_file_is_refused(string text)
    {
        var result = Load("empty.md", text);
        Assert.Null(result.Post);
        Assert.Equal(_folder["posts/empty.md"] + ":1: error: file is empty", Assert.Single(result.Problems).ToString());
    }

    [Fact]
    public void A_file_larger_than_the_limit_is_refused_unread()
    {
        var path = _folder["posts/huge.md"];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var stream = File.Create(path))
            stream.SetLength(50L * 1024 * 1024);
        var result = Settings.Loader(_folder["posts"]).Load(path);
        Assert.Null(result.Post);
        Assert.Contains("50.0 MB, more than Content:MaxFileBytes", Assert.Single(result.Problems).Message);
    }

    [Fact]
    public void Unclosed_front_matter_is_refused()
    {
        var result = Load("open.md", "---\ntitle: Never closed\ndate: 2024-01-01\nBody text\n");
        Assert.Null(result.Post);
        Assert.Contains("never closed", Assert.Single(result.Problems).Message);
    }

    [Fact]
    public void A_notebook_that_is_not_json_is_refused_at_its_line()
    {
        var result = Load("bad.ipynb", "{\n \"cells\": [\n  {\"cell_type\": \"markdown\",, }\n ]\n}\n");
        Assert.Null(result.Post);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(3, problem.Line);
        Assert.Contains("not valid JSON", problem.Message);
    }

    [Fact]
    public void Front_matter_that_is_not_a_mapping_is_refused()
    {
        var result = Load("list.md", "---\n- just\n- a list\n---\nBody");
        Assert.Null(result.Post);
        Assert.Contains("mapping", Assert.Single(result.Problems).Message);
    }
}
