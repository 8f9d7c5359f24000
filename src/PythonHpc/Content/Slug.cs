using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PythonHpc.Content;

/// <summary>
/// URL-safe names for categories and posts: <c>Machine Learning</c> → <c>machine-learning</c>,
/// <c>C#</c> → <c>c-sharp</c>, <c>Träffar</c> → <c>traffar</c>. A name with no Latin letters or digits
/// (<c>機械学習</c>) gets a short stable hash, so it still has a feed of its own.
/// </summary>
internal static class Slug
{
    public static string From(string name)
    {
        var decomposed = name.Trim().Normalize(NormalizationForm.FormKD);
        var slug = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
                continue;
            var mapped = c switch
            {
                '#' => "-sharp",
                '+' => "-plus",
                'ß' => "ss",
                'æ' or 'Æ' => "ae",
                'œ' or 'Œ' => "oe",
                'ø' or 'Ø' => "o",
                'ł' or 'Ł' => "l",
                'đ' or 'Đ' => "d",
                'þ' or 'Þ' => "th",
                _ when char.IsAsciiLetterOrDigit(c) => char.ToLowerInvariant(c).ToString(),
                _ => "-",
            };
            slug.Append(mapped);
        }
        var result = Collapse(slug.ToString());
        return result.Length > 0 ? result : "x-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name.Trim())))[..10];
    }

    private static string Collapse(string text)
    {
        var collapsed = new StringBuilder(text.Length);
        foreach (var c in text)
            if (c != '-' || (collapsed.Length > 0 && collapsed[^1] != '-'))
                collapsed.Append(c);
        return collapsed.ToString().Trim('-');
    }
}
