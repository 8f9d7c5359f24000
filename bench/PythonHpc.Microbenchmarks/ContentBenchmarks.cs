using BenchmarkDotNet.Attributes;
using PythonHpc.Content;

namespace PythonHpc.Microbenchmarks;

/// <summary>Reading a post: its front matter parsed, and its Markdown rendered with every URL made absolute.</summary>
[MemoryDiagnoser]
public class ContentBenchmarks
{
    private readonly PostRenderer _renderer = new();
    private string _frontMatter = "";
    private Post _post = null!;
    private string _body = "";

    [GlobalSetup]
    public void Setup()
    {
        (_, _post, _body) = Sample.Load();
        var text = File.ReadAllText(Sample.WebinarPath);
        var end = text.IndexOf("\n---", 4, StringComparison.Ordinal);
        _frontMatter = text[4..end];
    }

    // Results go back as a public type (BenchmarkDotNet keeps them alive so the JIT cannot drop the work).
    [Benchmark]
    public bool ParseFrontMatter() => FrontMatter.Parse(_frontMatter, 2, null, "post.md", []) is not null;

    [Benchmark]
    public int RenderMarkdown() => _renderer.Render(_post, _body).Html.Length;
}
