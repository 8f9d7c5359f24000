using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PythonHpc.Content;

/// <summary>
/// A Jupyter notebook (nbformat 4) as a Markdown document: the front matter from the first raw cell
/// (Quarto's convention), markdown cells as they are, code cells as fenced code in the kernel's
/// language, text outputs as preformatted text. Image outputs are left out: a feed item cannot carry
/// them without hosting them. Quarto cell options (<c>#| echo: false</c>, <c>#| include: false</c>,
/// <c>#| output: false</c>) and the <c>remove-cell</c> / <c>remove-input</c> / <c>remove-output</c> tags are honoured.
/// </summary>
internal static partial class Notebook
{
    internal sealed record Parts(string? FrontMatter, int FrontMatterLine, string Markdown);

    [GeneratedRegex(@"\x1B\[[0-9;?]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    [GeneratedRegex(@"\\u(00(0[0-8bBcCeEfF]|1[0-9a-fA-F])|[fF]{3}[eEfF])")]
    private static partial Regex EscapedControl();

    [GeneratedRegex(@"^#\|\s*(?<key>[\w-]+)\s*:\s*(?<value>.*?)\s*$")]
    private static partial Regex CellOption();

    public static Parts? Convert(string json, string file, List<Problem> problems)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            problems.Add(Problem.Error(file, (int)(e.LineNumber ?? 0) + 1, "notebook is not valid JSON: " + e.Message.Split(" Path:")[0]));
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cells", out var cells) || cells.ValueKind != JsonValueKind.Array)
            {
                problems.Add(Problem.Error(file, 1, "not a Jupyter notebook (no 'cells' list)"));
                return null;
            }
            var language = Language(root);
            string? frontMatter = null;
            var markdown = new StringBuilder();
            var first = true;
            foreach (var cell in cells.EnumerateArray())
            {
                var type = cell.TryGetProperty("cell_type", out var t) ? t.GetString() : null;
                var source = Text(cell, "source");
                if (first && type is "raw" or "markdown" && TrySplitFrontMatter(source, out var yaml, out var rest))
                {
                    frontMatter = yaml;
                    Append(markdown, rest);
                }
                else if (type == "markdown")
                    Append(markdown, source);
                else if (type == "code")
                    AppendCode(markdown, cell, source, language);
                first = false;
            }
            var line = frontMatter is null ? 0 : FrontMatterLine(json);
            var text = markdown.ToString();
            if (SourceText.HasForbidden(text) || (frontMatter is not null && SourceText.HasForbidden(frontMatter)))
            {
                // JSON can spell a control character as an escape (\u000c) that the file-level check cannot see.
                var at = EscapedControl().Match(json);
                problems.Add(Problem.Warning(file, at.Success ? json.AsSpan(0, at.Index).Count('\n') + 1 : 1,
                    "removed control characters that XML cannot carry"));
                text = SourceText.RemoveForbidden(text);
                frontMatter = frontMatter is null ? null : SourceText.RemoveForbidden(frontMatter);
            }
            return new Parts(frontMatter, line, text);
        }
    }

    private static string Language(JsonElement root)
    {
        if (root.TryGetProperty("metadata", out var meta))
        {
            if (meta.TryGetProperty("kernelspec", out var kernel) && kernel.TryGetProperty("language", out var l) && l.ValueKind == JsonValueKind.String)
                return l.GetString()!;
            if (meta.TryGetProperty("language_info", out var info) && info.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                return n.GetString()!;
        }
        return "python";
    }

    /// <summary>nbformat stores multi-line text as a string or as a list of lines.</summary>
    private static string Text(JsonElement owner, string name)
    {
        if (!owner.TryGetProperty(name, out var value))
            return "";
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString()!;
        if (value.ValueKind != JsonValueKind.Array)
            return "";
        var text = new StringBuilder();
        foreach (var part in value.EnumerateArray())
            if (part.ValueKind == JsonValueKind.String)
                text.Append(part.GetString());
        return text.ToString();
    }

    private static bool TrySplitFrontMatter(string source, out string yaml, out string rest)
    {
        yaml = rest = "";
        var text = source.Replace("\r\n", "\n");
        if (!text.StartsWith("---\n", StringComparison.Ordinal))
            return false;
        var end = text.IndexOf("\n---", 3, StringComparison.Ordinal);
        if (end < 0)
            return false;
        yaml = text[4..(end + 1)];
        var after = text.IndexOf('\n', end + 4);
        rest = after < 0 ? "" : text[(after + 1)..];
        return true;
    }

    /// <summary>The file line of the first YAML line: nbformat writes one source line per JSON line.</summary>
    private static int FrontMatterLine(string json)
    {
        var at = json.IndexOf("\"---", StringComparison.Ordinal);
        return at < 0 ? 1 : json.AsSpan(0, at).Count('\n') + 2;
    }

    private static void AppendCode(StringBuilder markdown, JsonElement cell, string source, string language)
    {
        var tags = Tags(cell);
        if (tags.Contains("remove-cell") || tags.Contains("remove_cell"))
            return;
        var (code, options) = SplitOptions(source);
        if (IsFalse(options, "include"))
            return;
        if (!IsFalse(options, "echo") && !tags.Contains("remove-input") && !tags.Contains("remove_input") && code.Trim().Length > 0)
            AppendFenced(markdown, code, language);
        if (IsFalse(options, "output") || tags.Contains("remove-output") || tags.Contains("remove_output"))
            return;
        if (cell.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array)
            foreach (var output in outputs.EnumerateArray())
                AppendOutput(markdown, output);
    }

    private static void AppendOutput(StringBuilder markdown, JsonElement output)
    {
        var type = output.TryGetProperty("output_type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "stream":
                AppendFenced(markdown, Text(output, "text"), "");
                break;
            case "execute_result" or "display_data" when output.TryGetProperty("data", out var data):
                if (data.EnumerateObject().Any(p => p.Name.StartsWith("image/", StringComparison.Ordinal)))
                    return;
                if (data.TryGetProperty("text/markdown", out _))
                    Append(markdown, Text(data, "text/markdown"));
                else if (data.TryGetProperty("text/plain", out _))
                    AppendFenced(markdown, Text(data, "text/plain"), "");
                break;
            case "error":
                AppendFenced(markdown, string.Join('\n', Lines(output, "traceback")), "");
                break;
        }
    }

    private static IEnumerable<string> Lines(JsonElement owner, string name) =>
        owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)
            : [];

    private static HashSet<string> Tags(JsonElement cell) =>
        cell.TryGetProperty("metadata", out var meta) ? [.. Lines(meta, "tags")] : [];

    private static (string Code, Dictionary<string, string> Options) SplitOptions(string source)
    {
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lines = source.Replace("\r\n", "\n").Split('\n');
        var skip = 0;
        foreach (var line in lines)
        {
            var m = CellOption().Match(line);
            if (!m.Success)
                break;
            options[m.Groups["key"].Value] = m.Groups["value"].Value;
            skip++;
        }
        return (string.Join('\n', lines.Skip(skip)), options);
    }

    private static bool IsFalse(Dictionary<string, string> options, string key) =>
        options.TryGetValue(key, out var v) && v.Equals("false", StringComparison.OrdinalIgnoreCase);

    private static void Append(StringBuilder markdown, string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return;
        markdown.Append(text.Replace("\r\n", "\n").TrimEnd('\n')).Append("\n\n");
    }

    /// <summary>A fence longer than any backtick run inside, so no output can close it early.</summary>
    private static void AppendFenced(StringBuilder markdown, string text, string info)
    {
        text = AnsiEscape().Replace(text.Replace("\r\n", "\n"), "").TrimEnd('\n');
        if (text.Trim().Length == 0)
            return;
        var longest = 0;
        var run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        var fence = new string('`', Math.Max(3, longest + 1));
        markdown.Append(fence).Append(info).Append('\n').Append(text).Append('\n').Append(fence).Append("\n\n");
    }
}
