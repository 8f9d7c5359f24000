namespace PythonHpc.Content;

/// <summary>
/// A reader for the YAML that front matter is nearly always written in — <c>key: value</c> lines with
/// plain or quoted text, <c>[a, b]</c> lists and <c>- item</c> lists — that returns null, meaning
/// "ask the full YAML parser", at the first thing outside that subset (nested mappings, block
/// scalars, escapes, anchors, multi-line values, anything odd). It exists for speed: YamlDotNet costs
/// about 12 µs per front matter and takes a process-wide lock for every scalar
/// (<c>string.IsInterned</c>), which made the 10,000-post build no faster on two cores than on one.
/// Its results are checked against YamlDotNet's in <c>SimpleYamlTests</c>.
/// </summary>
internal static class SimpleYaml
{
    private static readonly System.Buffers.SearchValues<char> NotInFlowItems = System.Buffers.SearchValues.Create("[]{}#\"'");

    /// <param name="firstLine">The file line of the YAML's first line.</param>
    public static FrontMap? TryParse(string yaml, int firstLine)
    {
        var lines = yaml.Split('\n');
        var entries = new List<KeyValuePair<string, FrontValue>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        while (i < lines.Length)
        {
            var line = lines[i];
            if (IsBlankOrComment(line))
            {
                i++;
                continue;
            }
            var colon = KeyLength(line);
            if (colon <= 0 || !seen.Add(line[..colon]))
                return null;
            var key = line[..colon];
            var rest = line.AsSpan(colon + 1);
            if (rest.Length > 0 && rest[0] is not (' ' or '\t'))
                return null;
            var lineNumber = firstLine + i;
            i++;
            FrontValue? value;
            if (IsBlankOrComment(rest))
                value = BlockList(lines, ref i, firstLine, lineNumber);
            else
            {
                value = rest.TrimStart(" \t")[0] == '[' ? FlowList(rest.TrimStart(" \t"), lineNumber) : Scalar(rest.TrimStart(" \t"), lineNumber);
                // A value continued on the next, indented line (a folded plain scalar) is for the full parser.
                if (NextIsIndented(lines, i))
                    return null;
            }
            if (value is null)
                return null;
            entries.Add(new(key, value));
        }
        return new FrontMap(entries, firstLine);
    }

    /// <summary>After <c>key:</c> with nothing else: a list of <c>- item</c> lines, or null (the key has no value).</summary>
    private static FrontValue? BlockList(string[] lines, ref int i, int firstLine, int keyLine)
    {
        var items = new List<FrontValue>();
        int? indent = null;
        var itemsLine = 0;
        while (i < lines.Length)
        {
            var line = lines[i];
            if (IsBlankOrComment(line))
            {
                i++;
                continue;
            }
            var spaces = line.Length - line.AsSpan().TrimStart(' ').Length;
            var text = line.AsSpan(spaces);
            if (!(text.StartsWith("- ") || text.TrimEnd(" \t") is "-"))
            {
                // Indented but not an item: a nested mapping or a continuation, for the full parser.
                if (spaces > 0 || text.StartsWith("\t"))
                    return null;
                break;
            }
            if (indent is not null && spaces != indent)
                return null;
            indent = spaces;
            var itemText = text[1..].TrimStart(" \t");
            if (IsBlankOrComment(itemText) || itemText[0] == '[')
                return null;
            if (Scalar(itemText, firstLine + i) is not { } item)
                return null;
            itemsLine = itemsLine == 0 ? item.Line : itemsLine;
            items.Add(item);
            i++;
            if (NextIsIndentedBeyond(lines, i, spaces))
                return null;
        }
        return items.Count == 0 ? new FrontScalar("", true, keyLine) : new FrontList(items, itemsLine);
    }

    /// <summary><c>[a, "b c", 'd']</c> on one line.</summary>
    private static FrontList? FlowList(ReadOnlySpan<char> text, int line)
    {
        var items = new List<FrontValue>();
        var i = 1;
        while (true)
        {
            while (i < text.Length && text[i] is ' ' or '\t')
                i++;
            if (i >= text.Length)
                return null;
            if (text[i] == ']')
                break;
            string value;
            bool plain;
            if (text[i] is '"' or '\'')
            {
                var quote = text[i];
                var close = text[(i + 1)..].IndexOf(quote);
                if (close < 0)
                    return null;
                value = text.Slice(i + 1, close).ToString();
                if (value.Contains('\\') || (quote == '\'' && i + close + 2 < text.Length && text[i + close + 2] == '\''))
                    return null;
                plain = false;
                i += close + 2;
            }
            else
            {
                var end = text[i..].IndexOfAny(",]");
                if (end < 0)
                    return null;
                var raw = text.Slice(i, end).TrimEnd(" \t");
                if (raw.Length == 0 || raw.IndexOfAny(NotInFlowItems) >= 0 || raw.Contains(": ", StringComparison.Ordinal) || raw[^1] == ':' || !IsPlainStart(raw))
                    return null;
                value = raw.ToString();
                plain = true;
                i += end;
            }
            items.Add(new FrontScalar(value, plain && IsNullWord(value), line));
            while (i < text.Length && text[i] is ' ' or '\t')
                i++;
            if (i < text.Length && text[i] == ',')
                i++;
            else if (i >= text.Length || text[i] != ']')
                return null;
        }
        return IsBlankOrComment(text[(i + 1)..]) ? new FrontList(items, line) : null;
    }

    /// <summary>Plain, single-quoted or double-quoted (without escapes) text that ends on its line.</summary>
    private static FrontScalar? Scalar(ReadOnlySpan<char> text, int line)
    {
        if (text[0] is '"' or '\'')
        {
            var quote = text[0];
            var value = new System.Text.StringBuilder();
            var i = 1;
            while (true)
            {
                var next = text[i..].IndexOf(quote);
                if (next < 0)
                    return null;
                value.Append(text.Slice(i, next));
                i += next + 1;
                // '' is a quote inside single quotes; double quotes with escapes are for the full parser.
                if (quote == '\'' && i < text.Length && text[i] == '\'')
                {
                    value.Append('\'');
                    i++;
                    continue;
                }
                break;
            }
            if (quote == '"' && value.ToString().Contains('\\'))
                return null;
            return IsBlankOrComment(text[i..]) ? new FrontScalar(value.ToString(), false, line) : null;
        }
        if (!IsPlainStart(text))
            return null;
        var comment = text.IndexOf(" #", StringComparison.Ordinal);
        var tabComment = text.IndexOf("\t#", StringComparison.Ordinal);
        if (tabComment >= 0 && (comment < 0 || tabComment < comment))
            comment = tabComment;
        var plain = (comment < 0 ? text : text[..comment]).TrimEnd(" \t");
        // ": " (or a final ':') would start a mapping: YAML calls that an error, which the full parser reports.
        if (plain.Contains(": ", StringComparison.Ordinal) || plain.Contains(":\t", StringComparison.Ordinal) || plain[^1] == ':')
            return null;
        var result = plain.ToString();
        return new FrontScalar(result, IsNullWord(result), line);
    }

    /// <summary>Plain text cannot start with a YAML indicator (YAML 1.2 §7.3.3).</summary>
    private static bool IsPlainStart(ReadOnlySpan<char> text) =>
        text.Length > 0 && text[0] is not ('[' or ']' or '{' or '}' or '>' or '|' or '*' or '&' or '!' or '%' or '@' or '`' or '#' or ',' or '"' or '\'')
        && !(text[0] is '-' or '?' or ':' && (text.Length == 1 || text[1] is ' ' or '\t'));

    private static bool IsNullWord(string value) => value is "~" or "null" or "Null" or "NULL";

    /// <summary>The length of a simple key (<c>title</c>, <c>date-modified</c>, <c>last_modified_at</c>) followed by ':'; 0 if none.</summary>
    private static int KeyLength(string line)
    {
        if (line.Length == 0 || !(char.IsAsciiLetter(line[0]) || line[0] == '_'))
            return 0;
        var i = 1;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or '-' or '.'))
            i++;
        return i < line.Length && line[i] == ':' ? i : 0;
    }

    private static bool IsBlankOrComment(ReadOnlySpan<char> text)
    {
        var trimmed = text.TrimStart(" \t");
        return trimmed.Length == 0 || trimmed[0] == '#';
    }

    private static bool NextIsIndented(string[] lines, int i) => NextIsIndentedBeyond(lines, i, 0);

    /// <summary>Whether the next line with content is indented more than <paramref name="column"/> (a continuation).</summary>
    private static bool NextIsIndentedBeyond(string[] lines, int i, int column)
    {
        for (; i < lines.Length; i++)
        {
            if (lines[i].AsSpan().Trim(" \t").Length == 0)
                continue;
            var spaces = lines[i].Length - lines[i].AsSpan().TrimStart(" \t").Length;
            return spaces > column && lines[i].AsSpan().TrimStart(" \t")[0] != '#';
        }
        return false;
    }
}
