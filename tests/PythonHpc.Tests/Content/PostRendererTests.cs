using PythonHpc.Content;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Content;

public sealed class PostRendererTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly PostRenderer _renderer = new();

    public void Dispose() => _folder.Dispose();

    private RenderedPost Render(string body, string frontMatter = "title: T\ndate: 2024-01-01", string file = "2024-01-01-post.md")
    {
        var path = _folder.Write("posts/" + file, $"---\n{frontMatter}\n---\n{body}");
        var result = Settings.Loader(_folder["posts"]).Load(path);
        Assert.True(result.Post is not null, string.Join("\n", result.Problems));
        return _renderer.Render(result.Post!, result.Body!);
    }

    [Fact]
    public void Every_url_in_markdown_and_raw_html_is_resolved_against_the_permalink()
    {
        var html = Render("""
            [rel](other.html) [up](../about/) [root](/contact) [frag](#part) ![img](img/a.png "t")
            [abs](https://python.org/) [mail](mailto:me@example.org)

            <img src="raw.png" srcset="raw.png 1x, raw@2x.png 2x,raw-3x.png 3x">
            <video poster="poster.jpg" src='clip.mp4'></video>
            <a href=unquoted.html>u</a>
            <picture><source srcset="wide.webp 800w, narrow.webp 400w"></picture>
            """, file: "sub/2024-01-01-post.md").Html;
        const string Base = "https://example.org/blog/posts/sub/";
        Assert.Contains($"href=\"{Base}other.html\"", html);
        Assert.Contains("href=\"https://example.org/blog/posts/about/\"", html);
        Assert.Contains("href=\"https://example.org/contact\"", html);
        Assert.Contains($"href=\"{Base}2024-01-01-post.html#part\"", html);
        Assert.Contains($"src=\"{Base}img/a.png\"", html);
        Assert.Contains("href=\"https://python.org/\"", html);
        Assert.Contains("href=\"mailto:me@example.org\"", html);
        Assert.Contains($"src=\"{Base}raw.png\" srcset=\"{Base}raw.png 1x, {Base}raw@2x.png 2x, {Base}raw-3x.png 3x\"", html);
        Assert.Contains($"poster=\"{Base}poster.jpg\"", html);
        Assert.Contains($"src=\"{Base}clip.mp4\"", html);
        Assert.Contains($"href=\"{Base}unquoted.html\"", html);
        Assert.Contains($"srcset=\"{Base}wide.webp 800w, {Base}narrow.webp 400w\"", html);
        Assert.DoesNotMatch("(href|src|poster)=\"(?!https?:|mailto:)", html);
    }

    [Fact]
    public void Scripts_handlers_and_javascript_urls_do_not_survive()
    {
        var html = Render("""
            Text <script>alert(1)</script> more.

            <SCRIPT type="text/javascript">
            document.write("x");
            </SCRIPT>

            <img src="a.png" onerror="alert(2)" ONLOAD='x()'>
            <a href="javascript:alert(3)">js</a> <a href=" java&#09;script:alert(4)">js2</a>
            <style>body { display: none }</style>
            <form action="/steal"><input name="q"><button>Go</button></form>
            <object data="x.swf"></object>
            <!-- a comment with <script> -->
            """).Html;
        Assert.DoesNotContain("script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("onerror", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onload", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<style", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<object", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<!--", html, StringComparison.Ordinal);
        Assert.Contains("Go", html);
        Assert.Contains(">js</a>", html);
    }

    [Fact]
    public void A_youtube_iframe_and_the_video_shortcode_become_a_linked_thumbnail()
    {
        var html = Render("""
            <iframe width="560" height="315" src="https://www.youtube.com/embed/Zv4DcRy1yeg" title="YouTube video player" allowfullscreen></iframe>

            {{< video https://youtu.be/abcdefghijk title="Intro talk" >}}

            {{< youtube 0123456789_ >}}
            """).Html;
        Assert.DoesNotContain("<iframe", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://www.youtube.com/watch?v=Zv4DcRy1yeg\"><img src=\"https://i.ytimg.com/vi/Zv4DcRy1yeg/hqdefault.jpg\"", html);
        Assert.Contains("<a href=\"https://www.youtube.com/watch?v=abcdefghijk\"><img src=\"https://i.ytimg.com/vi/abcdefghijk/hqdefault.jpg\" alt=\"Intro talk\"", html);
        Assert.Contains("https://i.ytimg.com/vi/0123456789_/hqdefault.jpg", html);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vimeo_embed_and_other_iframes_become_links()
    {
        var html = Render("""
            <iframe src="https://player.vimeo.com/video/76979871" title="Talk"></iframe>

            <iframe src="https://example.com/widget"></iframe>
            """).Html;
        Assert.Contains("<a href=\"https://vimeo.com/76979871\">▶ Talk</a>", html);
        Assert.Contains("<a href=\"https://example.com/widget\">https://example.com/widget</a>", html);
        Assert.DoesNotContain("<iframe", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Callouts_become_blockquotes_and_other_shortcodes_are_dropped()
    {
        var html = Render("""
            ::: {.callout-warning}
            Mind the gap.
            :::

            ::: {.callout-tip title="Pro tip"}
            Use `--lto`.
            :::

            ::: {.callout-note}
            ## Own heading
            Body.
            :::

            ::: {.column-margin}
            Margin note.
            :::

            Before {{< pagebreak >}} after {{< include _part.qmd >}}. Press {{< kbd Ctrl-C >}}.

            `{{< video kept-in-code >}}`

            ```markdown
            {{< video https://youtu.be/abcdefghijk >}}
            ```
            """).Html;
        Assert.Contains("<blockquote>\n<p><strong>Warning</strong></p>\n<p>Mind the gap.</p>\n</blockquote>", html);
        Assert.Contains("<blockquote>\n<p><strong>Pro tip</strong></p>", html);
        Assert.Contains("<blockquote>\n<h2 id=\"own-heading\">Own heading</h2>", html);
        Assert.Contains("<div>\n<p>Margin note.</p>\n</div>", html);
        Assert.DoesNotContain("callout", html, StringComparison.Ordinal);
        Assert.Contains("Before  after . Press <code>Ctrl-C</code>.", html);
        Assert.Contains("<code>{{&lt; video kept-in-code &gt;}}</code>", html);
        Assert.Contains("{{&lt; video https://youtu.be/abcdefghijk &gt;}}\n</code></pre>", html);
        Assert.DoesNotContain("\f", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Executable_cells_become_plain_code_without_their_options_and_raw_blocks_are_kept_or_dropped()
    {
        var html = Render("""
            ```{python}
            #| echo: false
            #| label: fig-x
            import numpy as np
            ```

            ```{=html}
            <p class="raw">raw html</p>
            ```

            ```{=latex}
            \newpage
            ```
            """).Html;
        Assert.Contains("<pre><code class=\"language-python\">import numpy as np\n</code></pre>", html);
        Assert.DoesNotContain("#|", html, StringComparison.Ordinal);
        Assert.Contains("<p class=\"raw\">raw html</p>", html);
        Assert.DoesNotContain("newpage", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Jekyll_highlight_blocks_become_code_and_gist_embeds_become_links()
    {
        var html = Render("""
            {% highlight python %}
            x = {"a": 1}
            {% endhighlight %}

            {% raw %}Keep {{ this }} as text{% endraw %}

            <script src="https://gist.github.com/zonca/5043796.js"></script>

            <script src="http://gist-it.appspot.com/github/zonca/repo/blob/master/a.py"></script>

            <script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
            """).Html;
        Assert.Contains("<pre><code class=\"language-python\">x = {&quot;a&quot;: 1}\n</code></pre>", html);
        Assert.Contains("Keep {{ this }} as text", html);
        Assert.DoesNotContain("{%", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://gist.github.com/zonca/5043796\">View the code on GitHub</a>", html);
        Assert.Contains("<a href=\"https://github.com/zonca/repo/blob/master/a.py\">View the code on GitHub</a>", html);
        Assert.DoesNotContain("twitter", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Special_characters_are_escaped_once()
    {
        var rendered = Render("""
            Tom & Jerry <3 and AT&amp;T, 5 > 3, a ]]> marker, emoji 🐍, and עברית.

            <p>Raw & bare, &copy; kept, &#x27; kept.</p>
            """);
        Assert.Contains("Tom &amp; Jerry &lt;3 and AT&amp;T, 5 &gt; 3, a ]]&gt; marker, emoji 🐍, and עברית.", rendered.Html);
        Assert.Contains("<p>Raw &amp; bare, &copy; kept, &#x27; kept.</p>", rendered.Html);
        Assert.DoesNotContain("&amp;amp;", rendered.Html, StringComparison.Ordinal);
        Assert.Equal("Tom & Jerry <3 and AT&T, 5 > 3, a ]]> marker, emoji 🐍, and עברית.", rendered.Summary);
    }

    [Fact]
    public void Summary_is_the_description_else_the_first_paragraph_with_words()
    {
        Assert.Equal("Given.", Render("First paragraph.", "title: T\ndate: 2024-01-01\ndescription: Given.").Summary);
        Assert.Equal("The words.", Render("![only an image](a.png)\n\nThe *words*.").Summary);
        var longText = string.Join(' ', Enumerable.Repeat("word", 200));
        var summary = Render(longText).Summary;
        Assert.True(summary.Length <= 401, summary);
        Assert.EndsWith("word…", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_title_taken_from_the_heading_is_not_repeated_in_the_html()
    {
        var path = _folder.Write("posts/2024-01-01-h.md", "# Heading title\n\nBody text.");
        var result = Settings.Loader(_folder["posts"]).Load(path);
        var html = _renderer.Render(result.Post!, result.Body!).Html;
        Assert.Equal("Heading title", result.Post!.Title);
        Assert.DoesNotContain("<h1", html, StringComparison.Ordinal);
        Assert.Contains("Body text.", html);
    }
}
