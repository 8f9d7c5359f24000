using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PythonHpc.Content;

/// <summary>
/// A post's YAML front matter, with the file line of every value so problems can point at it.
/// Keys are matched case-insensitively (Hugo writes <c>Title</c>, Quarto <c>title</c>). Values a post
/// leaves out come from the <c>_metadata.yml</c> files of its folders, as in Quarto. Simple front
/// matter is read by <see cref="SimpleYaml"/>; anything else by YamlDotNet.
/// </summary>
internal sealed partial class FrontMatter
{
    public static readonly FrontMatter Empty = new(FrontMap.Empty, null);

    private static readonly Lock YamlGate = new();

    private readonly FrontMap _root;
    private readonly FrontMatter? _defaults;

    private FrontMatter(FrontMap root, FrontMatter? defaults)
    {
        _root = root;
        _defaults = defaults;
    }

    /// <summary>
    /// Parses <paramref name="yaml"/>, whose first line is line <paramref name="firstLine"/> of
    /// <paramref name="file"/>. Returns null and adds a problem when the YAML is broken.
    /// </summary>
    public static FrontMatter? Parse(string yaml, int firstLine, FrontMatter? defaults, string file, List<Problem> problems)
    {
        if (SimpleYaml.TryParse(yaml, firstLine) is { } simple)
            return new FrontMatter(simple, defaults);
        var errors = new List<Problem>();
        var root = ParseYaml(yaml, firstLine, file, errors);
        if (root is null && Repair(yaml) is { } repaired && ParseYaml(repaired.Yaml, firstLine, file, []) is { } retried)
        {
            // The commonest YAML mistake in front matter: "title: Python: the good parts" (an unquoted ": ").
            // Quoting those values makes valid YAML of it; keep the post and say which line to fix.
            foreach (var line in repaired.Lines)
                problems.Add(Problem.Warning(file, firstLine + line, "a value with ': ' in it must be quoted in YAML; read as text"));
            return new FrontMatter(retried, defaults);
        }
        problems.AddRange(errors);
        return root is null ? null : new FrontMatter(root, defaults);
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

    /// <summary>YAML in full, through YamlDotNet; null, with a problem at its line, when it is not a valid mapping.</summary>
    internal static FrontMap? ParseYaml(string yaml, int firstLine, string file, List<Problem> problems)
    {
        if (string.IsNullOrWhiteSpace(yaml))
            return FrontMap.Empty;
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(yaml)));
        try
        {
            // YamlDotNet calls string.IsInterned for every scalar, which takes a process-wide lock: two
            // threads parsing at once are slower than one. One parse at a time.
            lock (YamlGate)
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
            return FrontMap.Empty;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            problems.Add(Problem.Error(file, firstLine, "front matter must be a YAML mapping of keys to values"));
            return null;
        }
        return (FrontMap)Convert(root, firstLine - 1);
    }

    private static FrontValue Convert(YamlNode node, int lineOffset)
    {
        var line = lineOffset + (int)node.Start.Line;
        return node switch
        {
            YamlScalarNode s => new FrontScalar(s.Value ?? "", IsNullScalar(s), line),
            YamlSequenceNode seq => new FrontList([.. seq.Children.Select(c => Convert(c, lineOffset))], line),
            YamlMappingNode map => new FrontMap(
                [.. map.Children.Select(kv => new KeyValuePair<string, FrontValue>((kv.Key as YamlScalarNode)?.Value ?? "", Convert(kv.Value, lineOffset)))],
                line),
            _ => new FrontScalar("", true, line),
        };
    }

    private static bool IsNullScalar(YamlScalarNode scalar) =>
        scalar.Value is null || (scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL");

    /// <summary>The value of the first of <paramref name="keys"/> present, here or in the defaults.</summary>
    public FrontValue? Get(params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
            if (_root.Get(key) is { } value)
                return value;
        return _defaults?.Get(keys);
    }

    public bool Has(string key) => Get(key) is not null;

    /// <summary>The file line of a value, when it comes from the post itself (defaults point at line 1).</summary>
    public int LineOf(FrontValue value) => Owns(_root, value) ? value.Line : 1;

    /// <summary>A scalar's text; null when absent, YAML null or not a scalar (a problem is added for the latter).</summary>
    public string? Text(string file, List<Problem> problems, params ReadOnlySpan<string> keys)
    {
        var value = Get(keys);
        switch (value)
        {
            case null:
                return null;
            case FrontScalar scalar:
                return scalar.IsNull ? null : Clean(scalar, file, problems);
            default:
                problems.Add(Problem.Warning(file, LineOf(value), $"'{keys[0]}' should be a single value; ignored"));
                return null;
        }
    }

    /// <summary>A value that may be written as one string, a comma-separated string, or a list of strings.</summary>
    public List<string> List(string file, List<Problem> problems, params ReadOnlySpan<string> keys)
    {
        var values = new List<string>();
        switch (Get(keys))
        {
            case FrontScalar { IsNull: false } scalar:
                values.AddRange(Clean(scalar, file, problems).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                break;
            case FrontList list:
                foreach (var item in list.Items)
                {
                    if (item is FrontScalar { IsNull: false } s && !string.IsNullOrWhiteSpace(s.Text))
                        values.Add(Clean(s, file, problems).Trim());
                    else if (item is not FrontScalar)
                        problems.Add(Problem.Warning(file, LineOf(item), $"an item of '{keys[0]}' is not a plain value; ignored"));
                }
                break;
        }
        return values;
    }

    /// <summary>A double-quoted YAML string can spell characters XML forbids ("\a", "\f", "\x00"); they are removed.</summary>
    private string Clean(FrontScalar scalar, string file, List<Problem> problems)
    {
        if (!SourceText.HasForbidden(scalar.Text))
            return scalar.Text;
        problems.Add(Problem.Warning(file, LineOf(scalar), "removed control characters that XML cannot carry"));
        return SourceText.RemoveForbidden(scalar.Text);
    }

    private static bool Owns(FrontValue parent, FrontValue value) => ReferenceEquals(parent, value) || parent switch
    {
        FrontList list => list.Items.Any(i => Owns(i, value)),
        FrontMap map => map.Entries.Any(e => Owns(e.Value, value)),
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
