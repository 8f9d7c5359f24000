using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Fluid;

namespace PythonHpc.Hosting;

/// <summary>
/// Liquid templates (Fluid), each parsed once: from <c>Templates:Path</c> when the file is there,
/// else the built-in copy of the repository's <c>templates/</c>. A template that does not parse stops
/// start-up with its file and line, like a configuration error. Values are HTML-escaped by
/// <see cref="Html"/>, never by hand in the templates.
/// </summary>
internal sealed partial class LiquidTemplates(TemplatesOptions options)
{
    /// <summary>Escapes &lt; &gt; &amp; and quotes only: the rest of Unicode stays readable in the source.</summary>
    public static readonly TextEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    public static readonly TextEncoder Text = NullEncoder.Default;

    private static readonly FluidParser Parser = new();

    /// <summary>Templates read our own records: snake_case names (<c>post.title</c>, <c>unsubscribe_url</c>), any member.</summary>
    public static readonly TemplateOptions Options = CreateOptions();

    [GeneratedRegex(@"at \((?<line>\d+):(?<column>\d+)\)")]
    private static partial Regex Position();

    /// <summary>Parses the template <paramref name="name"/> (such as <c>email/announcement.html.liquid</c>).</summary>
    public IFluidTemplate Load(string name)
    {
        var file = System.IO.Path.Combine(options.Path, name);
        string source;
        string display;
        if (File.Exists(file))
        {
            source = File.ReadAllText(file);
            display = file.Replace('\\', '/');
        }
        else
        {
            using var stream = typeof(LiquidTemplates).Assembly.GetManifestResourceStream("templates/" + name)
                ?? throw new ConfigurationException([$"{file}: error: no such template, and none is built in"]);
            source = new StreamReader(stream).ReadToEnd();
            display = "(built-in) templates/" + name;
        }
        return Parse(source, display);
    }

    /// <summary>Parses a template given in configuration (<paramref name="key"/> names it in errors).</summary>
    public static IFluidTemplate Parse(string source, string where)
    {
        if (Parser.TryParse(source, out var template, out var error))
            return template;
        var position = Position().Match(error);
        var line = position.Success ? position.Groups["line"].Value : "1";
        var message = error.Split("\nSource:")[0].Trim();
        throw new ConfigurationException([$"{where}:{line}: error: {message}"]);
    }

    public static string Render(IFluidTemplate template, object model, TextEncoder encoder) =>
        template.Render(new TemplateContext(model, Options), encoder);

    /// <summary>Renders with <paramref name="html"/> added as values written as they are: HTML this program rendered itself.</summary>
    public static string Render(IFluidTemplate template, object model, IEnumerable<KeyValuePair<string, string>> html)
    {
        var context = new TemplateContext(model, Options);
        foreach (var (name, value) in html)
            context.SetValue(name, new Fluid.Values.StringValue(value, encode: false));
        return template.Render(context, Html);
    }

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions { MemberAccessStrategy = UnsafeMemberAccessStrategy.Instance };
        options.MemberAccessStrategy.MemberNameStrategy = MemberNameStrategies.SnakeCase;
        return options;
    }
}
