using System.Buffers;
using System.Net;
using System.Text;

namespace PythonHpc.Content;

/// <summary>
/// One pass over a post's HTML (Markdig's output, raw HTML included) that makes it safe and
/// self-contained for a feed reader or a mail client, which show it far from the blog:
/// <list type="bullet">
/// <item>every URL attribute (<c>href</c>, <c>src</c>, <c>srcset</c>, <c>poster</c>, …) is made absolute
/// against the post's own permalink, the base a browser would use on the post's page;</item>
/// <item><c>&lt;script&gt;</c>, <c>&lt;style&gt;</c>, <c>&lt;object&gt;</c> and similar go with their content,
/// <c>&lt;form&gt;</c>-like tags go but keep their content, comments go, <c>on*</c> handlers and
/// <c>javascript:</c> URLs go;</item>
/// <item>a YouTube or Vimeo <c>&lt;iframe&gt;</c> becomes its thumbnail linked to the video; any other
/// iframe becomes a link to what it embedded;</item>
/// <item>a bare <c>&amp;</c> in text becomes <c>&amp;amp;</c>, so entities are escaped once and only once.</item>
/// </list>
/// A small tokenizer, not a DOM: it keeps the input's structure and is one linear pass.
/// </summary>
internal static class HtmlRewriter
{
    private static readonly HashSet<string> DropWithContent =
        new(["script", "style", "object", "applet", "noembed", "noframes", "template", "frameset", "svg:script"], StringComparer.Ordinal);

    private static readonly HashSet<string> DropTag =
        new(["form", "input", "button", "select", "option", "textarea", "link", "meta", "base", "frame", "embed", "html", "head", "body", "title"], StringComparer.Ordinal);

    private static readonly HashSet<string> UrlAttributes =
        new(["href", "src", "poster", "cite", "background", "longdesc", "xlink:href", "data-src", "action", "formaction"], StringComparer.Ordinal);

    private static readonly HashSet<string> SrcsetAttributes = new(["srcset", "data-srcset"], StringComparer.Ordinal);

    private static readonly SearchValues<char> TagNameEnd = SearchValues.Create(" \t\n\r\f/>");

    public static string Rewrite(string html, Uri baseUri)
    {
        var output = new StringBuilder(html.Length + html.Length / 8);
        var i = 0;
        while (i < html.Length)
        {
            var lt = html.IndexOf('<', i);
            var textEnd = lt < 0 ? html.Length : lt;
            AppendText(output, html.AsSpan(i, textEnd - i));
            if (lt < 0)
                break;
            i = Markup(html, lt, baseUri, output);
        }
        return output.ToString();
    }

    /// <summary>Handles the markup starting at <paramref name="lt"/>; returns where the text resumes.</summary>
    private static int Markup(string html, int lt, Uri baseUri, StringBuilder output)
    {
        var rest = html.AsSpan(lt);
        if (rest.StartsWith("<!--"))
        {
            var end = html.IndexOf("-->", lt + 4, StringComparison.Ordinal);
            return end < 0 ? html.Length : end + 3;
        }
        if (rest.StartsWith("<!") || rest.StartsWith("<?"))
        {
            var end = html.IndexOf('>', lt);
            return end < 0 ? html.Length : end + 1;
        }
        var closing = rest.Length > 1 && rest[1] == '/';
        var nameStart = lt + (closing ? 2 : 1);
        if (nameStart >= html.Length || !char.IsAsciiLetter(html[nameStart]))
        {
            output.Append("&lt;");
            return lt + 1;
        }
        var tag = Tag.Parse(html, nameStart);
        if (tag is null)
        {
            output.Append("&lt;");
            return lt + 1;
        }
        if (closing)
        {
            if (!DropTag.Contains(tag.Name) && !DropWithContent.Contains(tag.Name) && tag.Name != "iframe")
                output.Append("</").Append(tag.Name).Append('>');
            return tag.End;
        }
        if (tag.Name == "script")
            AppendEmbeddedCode(output, tag);
        if (DropWithContent.Contains(tag.Name))
            return tag.SelfClosing ? tag.End : SkipPast(html, tag.End, tag.Name);
        if (tag.Name == "iframe")
        {
            AppendEmbedded(output, tag, baseUri);
            return tag.SelfClosing ? tag.End : SkipPast(html, tag.End, "iframe");
        }
        if (DropTag.Contains(tag.Name))
            return tag.End;
        AppendTag(output, tag, baseUri);
        return tag.End;
    }

    private static int SkipPast(string html, int from, string name)
    {
        var end = html.IndexOf("</" + name, from, StringComparison.OrdinalIgnoreCase);
        if (end < 0)
            return html.Length;
        var close = html.IndexOf('>', end);
        return close < 0 ? html.Length : close + 1;
    }

    private static void AppendTag(StringBuilder output, Tag tag, Uri baseUri)
    {
        output.Append('<').Append(tag.Name);
        foreach (var (name, value) in tag.Attributes)
        {
            if (name.StartsWith("on", StringComparison.Ordinal) || name is "formaction" or "action" or "srcdoc")
                continue;
            var rewritten = value;
            if (value is not null && UrlAttributes.Contains(name))
            {
                rewritten = Absolute(value, baseUri, allowImageData: name is "src" && tag.Name is "img");
                if (rewritten is null)
                    continue;
            }
            else if (value is not null && SrcsetAttributes.Contains(name))
                rewritten = Srcset(value, baseUri);
            output.Append(' ').Append(name);
            if (rewritten is not null)
                AppendAttributeValue(output.Append("=\""), rewritten).Append('"');
        }
        output.Append(tag.SelfClosing ? " />" : ">");
    }

    /// <summary>An embedded player cannot play in a reader: show a video's thumbnail linked to it, or a plain link.</summary>
    private static void AppendEmbedded(StringBuilder output, Tag tag, Uri baseUri)
    {
        var src = tag.Attributes.FirstOrDefault(a => a.Name == "src").Value;
        var title = tag.Attributes.FirstOrDefault(a => a.Name == "title").Value;
        if (src is null || Absolute(src, baseUri, false) is not { } url)
            return;
        var video = Video.Recognize(url);
        var label = string.IsNullOrWhiteSpace(title) || title.Equals("YouTube video player", StringComparison.OrdinalIgnoreCase)
            ? "Watch the video" : title;
        if (video?.Thumbnail is { } thumbnail)
        {
            AppendAttributeValue(output.Append("<a href=\""), video.WatchUrl.AbsoluteUri).Append("\"><img src=\"");
            AppendAttributeValue(output, thumbnail.AbsoluteUri).Append("\" alt=\"");
            AppendAttributeValue(output, label).Append("\" width=\"480\" height=\"360\" /></a>");
            return;
        }
        var target = video?.WatchUrl.AbsoluteUri ?? url;
        AppendAttributeValue(output.Append("<a href=\""), target).Append("\">");
        AppendAttributeValue(output, video is null ? (title ?? target) : "▶ " + label).Append("</a>");
    }

    /// <summary>
    /// A script that embeds a GitHub gist (or a file through gist-it) shows code on the blog and nothing
    /// in a reader: a link to the code stands in for it.
    /// </summary>
    private static void AppendEmbeddedCode(StringBuilder output, Tag tag)
    {
        var src = tag.Attributes.FirstOrDefault(a => a.Name == "src").Value?.Trim();
        if (src is null || !Uri.TryCreate(src.StartsWith("//", StringComparison.Ordinal) ? "https:" + src : src, UriKind.Absolute, out var uri))
            return;
        string? target = null;
        if (uri.Host.Equals("gist.github.com", StringComparison.OrdinalIgnoreCase) && uri.AbsolutePath.EndsWith(".js", StringComparison.Ordinal))
            target = "https://gist.github.com" + uri.AbsolutePath[..^3];
        else if (uri.Host.Equals("gist-it.appspot.com", StringComparison.OrdinalIgnoreCase) && uri.AbsolutePath.StartsWith("/github/", StringComparison.Ordinal))
            target = "https://github.com/" + uri.AbsolutePath["/github/".Length..];
        if (target is null)
            return;
        AppendAttributeValue(output.Append("<a href=\""), target).Append("\">View the code on GitHub</a>");
    }

    /// <summary>Resolves against the permalink; null for a scheme that runs code or inlines a document.</summary>
    internal static string? Absolute(string value, Uri baseUri, bool allowImageData)
    {
        var trimmed = value.Trim();
        var scheme = Scheme(trimmed);
        if (scheme is "javascript" or "vbscript" or "livescript")
            return null;
        if (scheme is "data")
            return allowImageData && IsRasterImageData(trimmed) ? trimmed : null;
        if (scheme is not null && scheme is not ("http" or "https"))
            return trimmed;
        return Uri.TryCreate(baseUri, trimmed, out var absolute) ? absolute.AbsoluteUri : trimmed;
    }

    private static bool IsRasterImageData(string value) =>
        value.StartsWith("data:image/png", StringComparison.OrdinalIgnoreCase) ||
        value.StartsWith("data:image/jpeg", StringComparison.OrdinalIgnoreCase) ||
        value.StartsWith("data:image/gif", StringComparison.OrdinalIgnoreCase) ||
        value.StartsWith("data:image/webp", StringComparison.OrdinalIgnoreCase);

    /// <summary>The URL's scheme in lower case, ignoring the whitespace and controls browsers ignore (<c>java&#9;script:</c>).</summary>
    private static string? Scheme(string url)
    {
        var letters = new StringBuilder();
        foreach (var c in url)
        {
            if (c == ':')
                return letters.Length > 0 ? letters.ToString() : null;
            if (char.IsWhiteSpace(c) || char.IsControl(c))
                continue;
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
                return null;
            letters.Append(char.ToLowerInvariant(c));
        }
        return null;
    }

    /// <summary><c>srcset</c> is a comma-separated list of "URL [descriptor]" (HTML §4.8.4.3.1); only the URLs change.</summary>
    private static string Srcset(string value, Uri baseUri)
    {
        var output = new StringBuilder(value.Length + 32);
        var i = 0;
        while (i < value.Length)
        {
            while (i < value.Length && (char.IsWhiteSpace(value[i]) || value[i] == ','))
                i++;
            if (i >= value.Length)
                break;
            var start = i;
            while (i < value.Length && !char.IsWhiteSpace(value[i]))
                i++;
            var url = value[start..i];
            var descriptor = "";
            if (url.EndsWith(','))
                url = url.TrimEnd(',');
            else
            {
                var comma = value.IndexOf(',', i);
                var end = comma < 0 ? value.Length : comma;
                descriptor = value[i..end].Trim();
                i = end;
            }
            if (Absolute(url, baseUri, false) is not { } absolute)
                continue;
            if (output.Length > 0)
                output.Append(", ");
            output.Append(absolute);
            if (descriptor.Length > 0)
                output.Append(' ').Append(descriptor);
        }
        return output.ToString();
    }

    private static void AppendText(StringBuilder output, ReadOnlySpan<char> text)
    {
        while (text.Length > 0)
        {
            var amp = text.IndexOf('&');
            if (amp < 0)
            {
                output.Append(text);
                return;
            }
            output.Append(text[..amp]);
            output.Append(IsEntity(text[amp..]) ? "&" : "&amp;");
            text = text[(amp + 1)..];
        }
    }

    /// <summary>Whether the text starts with a character reference: <c>&amp;name;</c>, <c>&amp;#123;</c> or <c>&amp;#x1F;</c>.</summary>
    private static bool IsEntity(ReadOnlySpan<char> text)
    {
        var i = 1;
        if (i < text.Length && text[i] == '#')
        {
            i++;
            var hex = i < text.Length && text[i] is 'x' or 'X';
            if (hex)
                i++;
            var digits = i;
            while (i < text.Length && (hex ? char.IsAsciiHexDigit(text[i]) : char.IsAsciiDigit(text[i])))
                i++;
            return i > digits && i < text.Length && text[i] == ';';
        }
        var letters = i;
        while (i < text.Length && i - letters < 32 && char.IsAsciiLetterOrDigit(text[i]))
            i++;
        return i > letters && i < text.Length && text[i] == ';';
    }

    private static StringBuilder AppendAttributeValue(StringBuilder output, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '&': output.Append("&amp;"); break;
                case '"': output.Append("&quot;"); break;
                case '<': output.Append("&lt;"); break;
                case '>': output.Append("&gt;"); break;
                default: output.Append(c); break;
            }
        }
        return output;
    }

    private sealed record Tag(string Name, List<(string Name, string? Value)> Attributes, bool SelfClosing, int End)
    {
        /// <summary>Reads a tag whose name starts at <paramref name="start"/>; null when it never closes.</summary>
        public static Tag? Parse(string html, int start)
        {
            var nameLength = html.AsSpan(start).IndexOfAny(TagNameEnd);
            if (nameLength < 0)
                return null;
            var name = html.Substring(start, nameLength).ToLowerInvariant();
            var attributes = new List<(string, string?)>();
            var i = start + nameLength;
            var selfClosing = false;
            while (i < html.Length)
            {
                var c = html[i];
                if (c == '>')
                    return new Tag(name, attributes, selfClosing, i + 1);
                if (char.IsWhiteSpace(c) || c == '/')
                {
                    selfClosing = c == '/';
                    i++;
                    continue;
                }
                selfClosing = false;
                i = Attribute(html, i, attributes);
            }
            return null;
        }

        private static int Attribute(string html, int i, List<(string, string?)> attributes)
        {
            var start = i;
            while (i < html.Length && !char.IsWhiteSpace(html[i]) && html[i] is not ('=' or '>' or '/'))
                i++;
            if (i == start)
                return i + 1;
            var name = html[start..i].ToLowerInvariant();
            var j = i;
            while (j < html.Length && char.IsWhiteSpace(html[j]))
                j++;
            if (j >= html.Length || html[j] != '=')
            {
                Add(attributes, name, null);
                return i;
            }
            j++;
            while (j < html.Length && char.IsWhiteSpace(html[j]))
                j++;
            if (j < html.Length && html[j] is '"' or '\'')
            {
                var quote = html[j];
                var close = html.IndexOf(quote, j + 1);
                var end = close < 0 ? html.Length : close;
                Add(attributes, name, WebUtility.HtmlDecode(html[(j + 1)..end]));
                return close < 0 ? html.Length : close + 1;
            }
            var valueStart = j;
            while (j < html.Length && !char.IsWhiteSpace(html[j]) && html[j] != '>')
                j++;
            Add(attributes, name, WebUtility.HtmlDecode(html[valueStart..j]));
            return j;
        }

        /// <summary>The first of duplicate attributes wins, as in browsers.</summary>
        private static void Add(List<(string Name, string? Value)> attributes, string name, string? value)
        {
            if (!attributes.Exists(a => a.Name == name))
                attributes.Add((name, value));
        }
    }
}
