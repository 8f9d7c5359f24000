namespace PythonHpc.Hosting;

/// <summary>The <c>Templates</c> section.</summary>
internal sealed class TemplatesOptions
{
    public const string Section = "Templates";

    /// <summary>
    /// Folder of Liquid templates (<c>email/</c>, <c>web/</c>). A template found there overrides the
    /// built-in one of the same name, so a blog can restyle one email without copying the rest.
    /// </summary>
    public string Path { get; set; } = "templates";

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
            yield return "Templates:Path must name a folder (it may be empty or missing: the built-in templates are used)";
    }
}
