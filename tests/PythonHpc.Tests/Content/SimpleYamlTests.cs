using PythonHpc.Content;

namespace PythonHpc.Tests.Content;

/// <summary>
/// The fast front matter reader must read exactly what YamlDotNet reads, or decline (null) and leave
/// the text to YamlDotNet. Every case here is checked both ways.
/// </summary>
public class SimpleYamlTests
{
    public static TheoryData<string> Handled =>
    [
        "title: Python for HPC\ndate: 2025-09-15",
        "title: \"Python for HPC\"\n\ndate: \"2025-09-15\"\ncategories: [Python, HPC, sdsc]",
        "title: 'It''s quoted'\ndate: '2020-03-09'",
        "date: 2021-03-04 10:00:00 # a comment\ntitle: C# and F# # really",
        "categories:\n- documentation\n- python\ntitle: x",
        "categories:\n  - a\n  - b c\n  - 'd, e'\n  - \"f\"\n# comment\ntags: [x, 'y z', \"w\"]",
        "draft: true\npublished: false\nimage: images/cover.png\naliases:\n  - /2006/09/pillole",
        "author: ~\ndescription: null\nslug:\nid: tag:example.org,2025:x",
        "title: Tom & Jerry <3 and [brackets] {braces}\nlayout: post",
        "title: x # comment\n\n\n# trailing comment\n",
        "tags: []\ncategories: [a, b, ]",
        "title: \"Quotes: with colon\"\ndate: 2019-05-30T15:00:00+02:00",
        "url: https://example.org/a?b=c#frag\nkey.with.dots: v\nsnake_case: v\nkebab-case: v",
        "title: Träffar – emoji 🐍 עברית",
        "date-modified: last-modified\ntitle-block-banner: true",
    ];

    public static TheoryData<string> Declined =>
    [
        "author:\n  - name: Ada\n    affiliation: X",
        "author:\n  name: Ada",
        "title: >\n  folded\n  text",
        "description: |\n  literal",
        "title: \"escaped \\\" quote\"",
        "title: line one\n  continued",
        "title: Astrophysics Papers: Daily Summaries",
        "title: &anchor x\nother: *anchor",
        "title: !!str 2025",
        "\"quoted key\": x",
        "title: x\ntitle: y",
        "- a\n- b",
        "categories: [a, [b, c]]",
        "categories: [a, {b: c}]",
        "categories:\n- a\n  - nested",
        "title: \"unclosed",
        "key:value",
        "title:\tx\n\tindented: tab",
        "title: x\n---\nmore: y",
        "categories: [a,, b]",
    ];

    [Theory]
    [MemberData(nameof(Handled))]
    public void Reads_common_front_matter_as_yamldotnet_does(string yaml)
    {
        var simple = SimpleYaml.TryParse(yaml, 2);
        Assert.NotNull(simple);
        var full = FrontMatter.ParseYaml(yaml, 2, "x", []);
        Assert.NotNull(full);
        AssertSame(full, simple);
    }

    [Theory]
    [MemberData(nameof(Declined))]
    public void Declines_what_is_outside_its_subset(string yaml)
    {
        Assert.Null(SimpleYaml.TryParse(yaml, 2));
    }

    [Fact]
    public void Agrees_with_yamldotnet_on_every_front_matter_in_the_test_posts()
    {
        var folders = new[] { Support.FeedBuild.Testdata("samples"), Support.FeedBuild.Testdata("golden") };
        var checkedCount = 0;
        foreach (var file in folders.SelectMany(f => Directory.GetFiles(f, "*.*", SearchOption.AllDirectories)).Where(f => f.EndsWith(".md", StringComparison.Ordinal) || f.EndsWith(".qmd", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            if (!text.StartsWith("---\n", StringComparison.Ordinal))
                continue;
            var yaml = text[4..(text.IndexOf("\n---", 3, StringComparison.Ordinal) + 1)];
            if (SimpleYaml.TryParse(yaml, 2) is { } simple)
            {
                AssertSame(FrontMatter.ParseYaml(yaml, 2, file, [])!, simple);
                checkedCount++;
            }
        }
        Assert.True(checkedCount >= 5, $"only {checkedCount} front matters were simple enough to compare");
    }

    private static void AssertSame(FrontValue expected, FrontValue actual)
    {
        switch (expected, actual)
        {
            case (FrontScalar e, FrontScalar a):
                Assert.Equal((e.Text, e.IsNull), (a.Text, a.IsNull));
                if (!e.IsNull)
                    Assert.Equal(e.Line, a.Line);
                break;
            case (FrontList e, FrontList a):
                Assert.Equal(e.Items.Count, a.Items.Count);
                for (var i = 0; i < e.Items.Count; i++)
                    AssertSame(e.Items[i], a.Items[i]);
                break;
            case (FrontMap e, FrontMap a):
                Assert.Equal(e.Entries.Select(kv => kv.Key), a.Entries.Select(kv => kv.Key));
                for (var i = 0; i < e.Entries.Count; i++)
                    AssertSame(e.Entries[i].Value, a.Entries[i].Value);
                break;
            default:
                Assert.Fail($"expected {expected.GetType().Name}, read {actual.GetType().Name}");
                break;
        }
    }
}
