using Markdig;
using Markdig.Extensions.CustomContainers;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;

namespace PythonHpc.Content;

/// <summary>
/// Quarto's fenced divs (<c>::: {.callout-note}</c>) as blocks every feed reader shows: a callout
/// becomes a <c>&lt;blockquote&gt;</c> that starts with its title in bold (its <c>title</c>
/// attribute, else its kind, unless its first child is a heading, which Quarto uses as the title);
/// any other fenced div becomes a plain <c>&lt;div&gt;</c>. Readers strip classes and styles, so the
/// meaning has to be in the elements.
/// </summary>
internal sealed class CalloutExtension : IMarkdownExtension
{
    public void Setup(MarkdownPipelineBuilder pipeline)
    {
    }

    public void Setup(MarkdownPipeline pipeline, IMarkdownRenderer renderer)
    {
        if (renderer is HtmlRenderer html)
            html.ObjectRenderers.ReplaceOrAdd<HtmlCustomContainerRenderer>(new CalloutRenderer());
    }

    private sealed class CalloutRenderer : HtmlObjectRenderer<CustomContainer>
    {
        protected override void Write(HtmlRenderer renderer, CustomContainer container)
        {
            var attributes = container.TryGetAttributes();
            var kind = attributes?.Classes?.FirstOrDefault(c => c.StartsWith("callout-", StringComparison.Ordinal))?["callout-".Length..];
            renderer.EnsureLine();
            if (kind is null)
            {
                renderer.Write("<div>").WriteLine();
                renderer.WriteChildren(container);
                renderer.Write("</div>").WriteLine();
                return;
            }
            renderer.Write("<blockquote>").WriteLine();
            var title = attributes!.Properties?.FirstOrDefault(p => p.Key == "title").Value;
            if (!string.IsNullOrWhiteSpace(title))
                renderer.Write("<p><strong>").WriteEscape(title).Write("</strong></p>").WriteLine();
            else if (container.Count == 0 || container[0] is not HeadingBlock)
                renderer.Write("<p><strong>").WriteEscape(Capitalize(kind)).Write("</strong></p>").WriteLine();
            renderer.WriteChildren(container);
            renderer.Write("</blockquote>").WriteLine();
        }

        private static string Capitalize(string kind) => kind.Length == 0 ? "Note" : char.ToUpperInvariant(kind[0]) + kind[1..];
    }
}
