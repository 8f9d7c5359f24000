namespace PythonHpc.Content;

/// <summary>The <c>Content</c> section: where posts are and how their addresses are made.</summary>
internal sealed class ContentOptions
{
    public const string Section = "Content";

    public string PostsPath { get; set; } = "posts";

    /// <summary>
    /// Under <c>Site:BaseUrl</c>. Tokens: <c>{path}</c> (the file's path below the posts folder without
    /// its extension), <c>{stem}</c> (the file name without extension; a folder's name for
    /// <c>index.*</c>), <c>{slug}</c>, <c>{yyyy}</c>, <c>{mm}</c>, <c>{dd}</c>. The default is Quarto's
    /// layout: <c>posts/2025-09-15-python-for-hpc.md</c> → <c>posts/2025-09-15-python-for-hpc.html</c>,
    /// <c>posts/welcome/index.qmd</c> → <c>posts/welcome/index.html</c>. For posts that are directly in
    /// the folder it is the same as <c>posts/{stem}.html</c>.
    /// </summary>
    public string Permalink { get; set; } = "posts/{path}.html";

    /// <summary>Larger files are refused unread: no real post is this big, and one must not take the service's memory.</summary>
    public long MaxFileBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The posts folder as a full path; set by <see cref="Validate"/>.</summary>
    public string PostsRoot { get; private set; } = "";

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(PostsPath))
            yield return "Content:PostsPath must name the folder of posts";
        else if (!Directory.Exists(PostsPath))
            yield return $"Content:PostsPath '{PostsPath}' is not a folder (full path: {Path.GetFullPath(PostsPath)})";
        else
            PostsRoot = Path.GetFullPath(PostsPath);

        if (string.IsNullOrWhiteSpace(Permalink) || !(Permalink.Contains("{path}") || Permalink.Contains("{stem}") || Permalink.Contains("{slug}")))
            yield return "Content:Permalink must contain {path}, {stem} or {slug}, or every post would get the same address";
        else if (Permalink.StartsWith('/') || Uri.TryCreate(Permalink, UriKind.Absolute, out _))
            yield return "Content:Permalink is relative to Site:BaseUrl and must not start with '/' or a scheme";
        if (MaxFileBytes < 1024)
            yield return "Content:MaxFileBytes must be at least 1024";
    }
}
