using Markdig;
using Markdig.Renderers;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace PythonHpc.Content;

/// <summary>A post's HTML as a reader gets it, and its summary as text.</summary>
internal sealed record RenderedPost(string Html, string Summary);

/// <summary>
/// Markdown (and Quarto) to the HTML that feeds and emails carry. One Markdig pipeline, built once
/// and shared: Markdig's pipelines are immutable and thread-safe. Media links are not turned into
/// players (<c>UseMediaLinks</c> is left out on purpose: readers drop iframes).
/// </summary>
internal sealed class PostRenderer
{
    private const int SummaryLength = 400;

    private readonly MarkdownPipeline _pipeline = new MarkdownPipelineBuilder()
        .UseAbbreviations()
        .UseAutoIdentifiers(Markdig.Extensions.AutoIdentifiers.AutoIdentifierOptions.GitHub)
        .UseCustomContainers()
        .UseDefinitionLists()
        .UseEmphasisExtras()
        .UseFigures()
        .UseFootnotes()
        .UseGridTables()
        .UseMathematics()
        .UsePipeTables()
        .UseListExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .Use<CalloutExtension>()
        .UseGenericAttributes()
        .Build();

    public RenderedPost Render(Post post, string body)
    {
        var document = Markdown.Parse(QuartoSyntax.Preprocess(body), _pipeline);
        if (post.TitleFromHeading && document.FirstOrDefault() is HeadingBlock { Level: 1 } heading)
            document.Remove(heading);
        var summary = post.Description ?? FirstParagraph(document);
        var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        _pipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
        // Character references decode to characters XML 1.0 forbids (&#xFFFF;, &#12;): removed last, whatever produced them.
        var html = SourceText.RemoveForbidden(HtmlRewriter.Rewrite(writer.ToString(), post.Permalink));
        return new RenderedPost(html, SourceText.RemoveForbidden(summary));
    }

    /// <summary>
    /// The text of the first paragraph that has words in it (not only an image or a video
    /// thumbnail), preferring the body's own paragraphs to those inside a callout or a list.
    /// </summary>
    private static string FirstParagraph(MarkdownDocument document)
    {
        var paragraphs = document.Descendants<ParagraphBlock>().Where(p => p.Inline is not null).ToList();
        foreach (var paragraph in paragraphs.Where(p => p.Parent is MarkdownDocument).Concat(paragraphs))
        {
            var text = Collapse(PlainText(paragraph.Inline!));
            if (text.Length > 0)
                return Shorten(text);
        }
        return "";
    }

    private static string PlainText(ContainerInline inline)
    {
        var text = new System.Text.StringBuilder();
        foreach (var child in inline.Descendants<Inline>())
        {
            switch (child)
            {
                case LiteralInline literal when !IsInsideImage(literal):
                    text.Append(literal.Content.AsSpan());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case LineBreakInline:
                    text.Append(' ');
                    break;
                case HtmlEntityInline entity:
                    text.Append(entity.Transcoded.AsSpan());
                    break;
            }
        }
        return text.ToString();
    }

    private static bool IsInsideImage(Inline inline)
    {
        for (var parent = inline.Parent; parent is not null; parent = parent.Parent)
            if (parent is LinkInline { IsImage: true })
                return true;
        return false;
    }

    private static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Shorten(string text)
    {
        if (text.Length <= SummaryLength)
            return text;
        var cut = text.LastIndexOf(' ', SummaryLength);
        return text[..(cut > SummaryLength / 2 ? cut : SummaryLength)].TrimEnd(',', ';', ':', ' ') + "…";
    }
}
