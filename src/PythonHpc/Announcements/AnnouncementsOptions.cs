namespace PythonHpc.Announcements;

/// <summary>The <c>Announcements</c> section.</summary>
internal sealed class AnnouncementsOptions
{
    public const string Section = "Announcements";

    /// <summary>A Liquid template with the model of the email (<c>title</c>, <c>post</c>, <c>site</c>, <c>chapters</c>).</summary>
    public string Subject { get; set; } = "New webinar: {{ title }}";

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Subject))
            yield return "Announcements:Subject must not be empty";
    }
}
