using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PythonHpc.Content;

/// <summary>
/// A post's YAML front matter, with the file line of every value so problems can point at it.
/// Keys are matched case-insensitively (Hugo writes <c>Title</c>, Quarto <c>title</c>). Values a post
/// leaves out come from the <c>_metadata.yml</c> files of its folders, as in Quarto.
/// </summary>
internal sealed partial class FrontMatter
{
    public static readonly FrontMatter Empty = new(new YamlMappingNode(), 0, null);

    private readonly YamlMappingNode _root;
    private readonly int _lineOffset;
    private readonly FrontMatter? _defaults;

    private FrontMatter(YamlMappingNode root, int lineOffset, FrontMatter? defaults)
    {
        _root = root;
        _lineOffset = lineOffset;
        _defaults = defaults;
    }

    /// <summary>
    /// Parses <paramref name="yaml"/>, whose first line is line <paramref name="firstLine"/> of
    /// <paramref name="file"/>. Returns null and adds a problem when the YAML is broken.
    /// </summary>
    public static FrontMatter? Parse(string yaml, int firstLine, FrontMatter? defaults, string file, List<Problem> problems)
    {
        var errors = new List<Problem>();
        var front = ParseStrict(yaml, firstLine, defaults, file, errors);
        if (front is null && Repair(yaml) is { } repaired)
        {
            // The commonest YAML mistake in front matter: "title: Python: the good parts" (an unquoted ": ").
            // Quoting those values makes valid YAML of it; keep the post and say which line to fix.
            var retry = ParseStrict(repaired.Yaml, firstLine, defaults, file, []);
            if (retry is not null)
            {
                foreach (var line in repaired.Lines)
                    problems.Add(Problem.Warning(file, firstLine + line, "a value with ': ' in it must be quoted in YAML; read as text"));
                return retry;
            }
        }
        problems.AddRange(errors);
        return front;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<key>[A-Za-z_][\w-]*):[ \t]+(?<value>[^""'\[{|>&*!#%@`\s][^#]*?:\s.*?)[ \t]*$")]
    private static partial System.Text.RegularExpressions.Regex UnquotedColon();

    private static (string Yaml, List<int> Lines)? Repair(string yaml)
    {
        var lines = yaml.Split('\n');
        var fixedLines = new List<int>();
        for (var i = 0; i < lines.Length; i++)
        {
            var m = UnquotedColon().Match(lines[i]);
            if (!m.Success)
                continue;
            var value = m.Groups["value"].Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
            lines[i] = $"{m.Groups["key"].Value}: \"{value}\"";
            fixedLines.Add(i);
        }
        return fixedLines.Count == 0 ? null : (string.Join('\n', lines), fixedLines);
    }

    private static FrontMatter? ParseStrict(string yaml, int firstLine, FrontMatter? defaults, string file, List<Problem> problems)
    {
        if (string.IsNullOrWhiteSpace(yaml))
            return new FrontMatter(new YamlMappingNode(), firstLine - 1, defaults);
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(yaml)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            var line = firstLine - 1 + (int)Math.Max(e.Start.Line, 1);
            problems.Add(Problem.Error(file, line, "front matter is not valid YAML: " + Describe(e)));
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these for some malformed input (an unclosed flow sequence); the line is
            // where the last good event ended.
            problems.Add(Problem.Error(file, firstLine - 1 + (int)Math.Max(parser.LastLine, 1), "front matter is not valid YAML: " + e.Message));
            return null;
        }
        if (stream.Documents.Count == 0)
            return new FrontMatter(new YamlMappingNode(), firstLine - 1, defaults);
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            problems.Add(Problem.Error(file, firstLine, "front matter must be a YAML mapping of keys to values"));
            return null;
        }
        return new FrontMatter(root, firstLine - 1, defaults);
    }

    /// <summary>The value of <paramref name="key"/>, or of the first of its aliases present, here or in the defaults.</summary>
    public YamlNode? Get(params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
        {
            foreach (var (k, v) in _root.Children)
                if (k is YamlScalarNode s && string.Equals(s.Value, key, StringComparison.OrdinalIgnoreCase))
                    return v;
        }
        return _defaults?.Get(keys);
    }

    public bool Has(string key) => Get(key) is not null;

    /// <summary>The file line of a node, when it comes from the post itself (defaults point at line 1).</summary>
    public int LineOf(YamlNode node) => Owns(node) ? _lineOffset + (int)node.Start.Line : 1;

    /// <summary>A scalar's text; null when absent, YAML null or not a scalar (a problem is added for the latter).</summary>
    public string? Text(string file, List<Problem> problems, params ReadOnlySpan<string> keys)
    {
        var node = Get(keys);
        switch (node)
        {
            case null:
                return null;
            case YamlScalarNode scalar:
                return IsNull(scalar) ? null : Clean(scalar, file, problems);
            default:
                problems.Add(Problem.Warning(file, LineOf(node), $"'{keys[0]}' should be a single value; ignored"));
                return null;
        }
    }

    /// <summary>A value that may be written as one string, a comma-separated string, or a list of strings.</summary>
    public List<string> List(string file, List<Problem> problems, params ReadOnlySpan<string> keys)
    {
        var values = new List<string>();
        var node = Get(keys);
        switch (node)
        {
            case YamlScalarNode scalar when !IsNull(scalar):
                values.AddRange(Clean(scalar, file, problems).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence)
                {
                    if (item is YamlScalarNode s && !IsNull(s) && !string.IsNullOrWhiteSpace(s.Value))
                        values.Add(Clean(s, file, problems).Trim());
                    else if (item is not YamlScalarNode)
                        problems.Add(Problem.Warning(file, LineOf(item), $"an item of '{keys[0]}' is not a plain value; ignored"));
                }
                break;
        }
        return values;
    }

    /// <summary>A double-quoted YAML string can spell characters XML forbids ("\a", "\f", "\x00"); they are removed.</summary>
    private string Clean(YamlScalarNode scalar, string file, List<Problem> problems)
    {
        var value = scalar.Value ?? "";
        if (!SourceText.HasForbidden(value))
            return value;
        problems.Add(Problem.Warning(file, LineOf(scalar), "removed control characters that XML cannot carry"));
        return SourceText.RemoveForbidden(value);
    }

    public static bool IsNull(YamlScalarNode scalar) =>
        scalar.Value is null || (scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL");

    private bool Owns(YamlNode node)
    {
        foreach (var (_, v) in _root.Children)
            if (ReferenceEquals(v, node) || Contains(v, node))
                return true;
        return false;
    }

    private static bool Contains(YamlNode parent, YamlNode node) => parent switch
    {
        YamlSequenceNode seq => seq.Children.Any(c => ReferenceEquals(c, node) || Contains(c, node)),
        YamlMappingNode map => map.Children.Any(c => ReferenceEquals(c.Value, node) || Contains(c.Value, node)),
        _ => false,
    };

    /// <summary>Remembers where parsing got to, for exceptions that carry no position.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public long LastLine { get; private set; }

        public YamlDotNet.Core.Events.ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            if (inner.Current is { } current)
                LastLine = current.End.Line;
            return moved;
        }
    }

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes its messages with "(Line: 3, Col: 5, Idx: 20) - (Line: …): "; the line is already in FILE:LINE.
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 && message.StartsWith('(') ? message[(cut + 3)..] : message;
    }
}
