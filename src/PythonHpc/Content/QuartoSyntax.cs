using System.Text;
using System.Text.RegularExpressions;

namespace PythonHpc.Content;

/// <summary>
/// Rewrites the Quarto and Hugo syntax that Markdown renderers and feed readers cannot show, before
/// Markdig sees the text. Line by line, leaving fenced code alone:
/// <list type="bullet">
/// <item><c>{{&lt; video URL &gt;}}</c>, Hugo's <c>{{&lt; youtube ID &gt;}}</c> and <c>{{&lt; vimeo ID &gt;}}</c> become a linked thumbnail;</item>
/// <item><c>{{&lt; kbd … &gt;}}</c> becomes inline code; every other shortcode (<c>pagebreak</c>, <c>include</c>, <c>embed</c>, …) is dropped;</item>
/// <item>executable cells (<c>```{python}</c>) become ordinary fenced code in that language, without their <c>#|</c> option lines;</item>
/// <item>Jekyll's <c>{% highlight python %}</c> … <c>{% endhighlight %}</c> become fenced code, and its <c>{% raw %}</c> markers go.</item>
/// </list>
/// Callouts (<c>::: {.callout-note}</c>) are handled on the syntax tree by <see cref="CalloutExtension"/>.
/// </summary>
internal static partial class QuartoSyntax
{
    [GeneratedRegex(@"^(?<indent> {0,3})(?<fence>`{3,}|~{3,})(?<info>.*)$")]
    private static partial Regex FenceLine();

    [GeneratedRegex(@"^\s*\{\s*\.?(?<lang>[\w+#.-]+)[^}]*\}\s*$")]
    private static partial Regex ExecutableInfo();

    [GeneratedRegex(@"^\s*\{=(?<format>[\w-]+)\}\s*$")]
    private static partial Regex RawInfo();

    [GeneratedRegex(@"^\s*\{%-?\s*(?<tag>highlight|endhighlight|raw|endraw)\b\s*(?<lang>[\w+#.-]*)[^%]*-?%\}\s*$")]
    private static partial Regex LiquidLine();

    [GeneratedRegex(@"\{%-?\s*(?:end)?raw\s*-?%\}")]
    private static partial Regex LiquidRaw();

    [GeneratedRegex(@"\{\{(?<open><|%)\s*(?<name>/?[\w-]+)(?<args>.*?)\s*(?:>|%)\}\}")]
    private static partial Regex Shortcode();

    [GeneratedRegex(@"(?<key>[\w-]+)=(?:""(?<value>[^""]*)""|'(?<value>[^']*)'|(?<value>[^\s""']*))|""(?<word>[^""]*)""|'(?<word>[^']*)'|(?<word>[^\s""']+)")]
    private static partial Regex Argument();

    public static string Preprocess(string markdown)
    {
        var fenced = markdown.Contains("```", StringComparison.Ordinal) || markdown.Contains("~~~", StringComparison.Ordinal);
        if (!markdown.Contains("{{", StringComparison.Ordinal) && !markdown.Contains("{%", StringComparison.Ordinal) && !(fenced && markdown.Contains('{')))
            return markdown;
        var output = new StringBuilder(markdown.Length);
        string? fence = null;
        // Inside a fence: "code" copies, "raw" copies without the fence (pandoc's ```{=html}), "drop" leaves out (```{=latex}).
        var mode = "code";
        var inOptions = false;
        foreach (var line in markdown.Split('\n'))
        {
            var f = FenceLine().Match(line);
            if (fence is null && f.Success && !(f.Groups["fence"].Value[0] == '`' && f.Groups["info"].Value.Contains('`')))
            {
                fence = f.Groups["fence"].Value;
                var info = f.Groups["info"].Value;
                var raw = RawInfo().Match(info);
                var exec = ExecutableInfo().Match(info);
                mode = raw.Success ? (raw.Groups["format"].Value.Equals("html", StringComparison.OrdinalIgnoreCase) ? "raw" : "drop") : "code";
                inOptions = exec.Success;
                if (mode == "code")
                    output.Append(exec.Success ? f.Groups["indent"].Value + fence + exec.Groups["lang"].Value : line).Append('\n');
                continue;
            }
            if (fence is not null)
            {
                if (line.Contains("endhighlight", StringComparison.Ordinal) && LiquidLine().Match(line) is { Success: true } end && end.Groups["tag"].Value == "endhighlight")
                {
                    fence = null;
                    output.Append("```\n");
                    continue;
                }
                var closes = f.Success && f.Groups["fence"].Value[0] == fence[0] && f.Groups["fence"].Value.Length >= fence.Length && f.Groups["info"].Value.Trim().Length == 0;
                if (closes)
                    fence = null;
                else if (inOptions && line.TrimStart().StartsWith("#|", StringComparison.Ordinal))
                    continue;
                inOptions = false;
                if (mode == "code" || (mode == "raw" && !closes))
                    output.Append(line).Append('\n');
                continue;
            }
            if (line.Contains("{%", StringComparison.Ordinal) && LiquidLine().Match(line) is { Success: true } liquid)
            {
                // A Jekyll highlight block is a fence by another name; raw/endraw only protect {{ }} from Liquid.
                if (liquid.Groups["tag"].Value == "highlight")
                {
                    fence = "```";
                    mode = "code";
                    output.Append("```").Append(liquid.Groups["lang"].Value).Append('\n');
                }
                continue;
            }
            var text = line.Contains("{%", StringComparison.Ordinal) ? LiquidRaw().Replace(line, "") : line;
            output.Append(text.Contains("{{", StringComparison.Ordinal) ? ReplaceShortcodes(text) : text).Append('\n');
        }
        output.Length--;
        return output.ToString();
    }

    private static string ReplaceShortcodes(string line) =>
        Shortcode().Replace(line, m => InCodeSpan(line, m.Index) ? m.Value : Replacement(m));

    /// <summary>An odd number of backticks before a position means it is inside inline code, which shows shortcodes as written.</summary>
    private static bool InCodeSpan(string line, int index) => line.AsSpan(0, index).Count('`') % 2 == 1;

    private static string Replacement(Match m)
    {
        var positional = new List<string>();
        var named = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match a in Argument().Matches(m.Groups["args"].Value))
        {
            if (a.Groups["key"].Success)
                named.TryAdd(a.Groups["key"].Value, a.Groups["value"].Value);
            else
                positional.Add(a.Groups["word"].Value);
        }
        var first = positional.FirstOrDefault();
        var title = named.GetValueOrDefault("title");
        return m.Groups["name"].Value.ToLowerInvariant() switch
        {
            "video" => VideoMarkdown(first ?? named.GetValueOrDefault("src"), title),
            "youtube" => VideoMarkdown(Video.YouTubeVideo(first ?? named.GetValueOrDefault("id") ?? "").WatchUrl.AbsoluteUri, title),
            "vimeo" => VideoMarkdown(Video.VimeoVideo(first ?? named.GetValueOrDefault("id") ?? "").WatchUrl.AbsoluteUri, title),
            "kbd" when positional.Count > 0 => "`" + string.Join(' ', positional).Replace("`", "", StringComparison.Ordinal) + "`",
            _ => "",
        };
    }

    /// <summary>A thumbnail image linked to the watch page, as Markdown (Markdig then writes and escapes the HTML).</summary>
    internal static string VideoMarkdown(string? url, string? title)
    {
        if (string.IsNullOrWhiteSpace(url))
            return "";
        var label = EscapeLabel(string.IsNullOrWhiteSpace(title) ? "Watch the video" : title);
        var video = Video.Recognize(url);
        if (video?.Thumbnail is { } thumbnail)
            return $"[![{label}](<{thumbnail.AbsoluteUri}>)](<{video.WatchUrl.AbsoluteUri}>)";
        var target = video?.WatchUrl.AbsoluteUri ?? url.Trim();
        return $"[▶ {label}](<{target.Replace("<", "%3C", StringComparison.Ordinal).Replace(">", "%3E", StringComparison.Ordinal).Replace(" ", "%20", StringComparison.Ordinal)}>)";
    }

    private static string EscapeLabel(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '[' or ']' or '\\' or '*' or '_' or '`' or '<' or '>' or '!')
                escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}
