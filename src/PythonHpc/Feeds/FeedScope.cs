using PythonHpc.Content;
using PythonHpc.Webinars;

namespace PythonHpc.Feeds;

/// <summary>
/// What a changed post can change: the main feeds (scope <see cref="Main"/>: <c>feed.xml</c>,
/// <c>atom.xml</c>, <c>feed.json</c>), the feeds of its categories (scope <c>categories/slug/</c>) and its
/// chapters file (scope: that file's path). A rebuild after a change writes these scopes and keeps
/// every other file of the previous build as it was.
/// </summary>
internal static class FeedScope
{
    /// <summary>The main feeds' scope: the files at the top of the output folder.</summary>
    public const string Main = "";

    private const string Categories = "categories/";

    /// <summary>A category's scope, which is also the folder of its feeds.</summary>
    public static string Category(string slug) => Categories + slug + "/";

    /// <summary>The scope a built file belongs to.</summary>
    public static string Of(string documentPath)
    {
        if (documentPath.StartsWith(Categories, StringComparison.Ordinal))
            return documentPath[..(documentPath.IndexOf('/', Categories.Length) + 1)];
        return documentPath.Contains('/', StringComparison.Ordinal) ? documentPath : Main;
    }

    /// <summary>The scopes that <paramref name="posts"/> (each as it was and as it is) appear in.</summary>
    public static HashSet<string> Touched(IEnumerable<Post> posts, Func<string, string> slugOf)
    {
        var scopes = new HashSet<string>(StringComparer.Ordinal) { Main };
        foreach (var post in posts)
        {
            foreach (var category in post.Categories)
                scopes.Add(Category(slugOf(category)));
            scopes.Add(ChapterFile.PathOf(post));
        }
        return scopes;
    }
}
