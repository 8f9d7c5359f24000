using System.Buffers;
using Markdig;

namespace PythonHpc.Content;

/// <summary>Markdown written where text is expected (titles, descriptions, chapter summaries), as text.</summary>
internal static class MarkdownText
{
    private static readonly SearchValues<char> Syntax = SearchValues.Create("*_`[]<>&\\!#~=|");

    /// <summary>The text, whitespace collapsed; most such strings have no syntax at all and skip the parser. Null when empty.</summary>
    public static string? Plain(string markdown)
    {
        var text = Collapse(markdown.AsSpan().IndexOfAny(Syntax) < 0 ? markdown : Markdown.ToPlainText(markdown));
        return text.Length == 0 ? null : text;
    }

    public static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
