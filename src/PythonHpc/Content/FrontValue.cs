namespace PythonHpc.Content;

/// <summary>A value in a post's front matter, with the line of the file it starts on.</summary>
internal abstract record FrontValue(int Line);

/// <summary>Text. <see cref="IsNull"/> for YAML's null (an empty plain value, <c>~</c>, <c>null</c>).</summary>
internal sealed record FrontScalar(string Text, bool IsNull, int Line) : FrontValue(Line);

internal sealed record FrontList(IReadOnlyList<FrontValue> Items, int Line) : FrontValue(Line);

internal sealed record FrontMap(IReadOnlyList<KeyValuePair<string, FrontValue>> Entries, int Line) : FrontValue(Line)
{
    public static readonly FrontMap Empty = new([], 0);

    /// <summary>Keys match case-insensitively: Hugo writes <c>Title</c>, Quarto <c>title</c>.</summary>
    public FrontValue? Get(string key)
    {
        foreach (var (k, v) in Entries)
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
                return v;
        return null;
    }
}
