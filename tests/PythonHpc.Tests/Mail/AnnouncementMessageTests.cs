using System.Text.Json;
using System.Text.RegularExpressions;
using PythonHpc.Mail;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Mail;

/// <summary>The seed's announcement as a mail client sees it, read by Python's email package.</summary>
public sealed partial class AnnouncementMessageTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [GeneratedRegex(@"(?:href|src)=""([^""]*)""")]
    private static partial Regex UrlAttribute();

    private JsonElement Parse(WireMessage message, string name = "message.eml")
    {
        var file = _folder["out/" + name];
        Directory.CreateDirectory(_folder["out"]);
        File.WriteAllBytes(file, message.Bytes.ToArray());
        message.Dispose();
        Tool.Require(Tool.Python, "python3");
        var result = Tool.Run(Tool.Python, [FeedBuild.Testdata("mimecheck.py"), file]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement[0];
    }

    /// <summary>A header's value, unfolded (RFC 5322 §2.2.3), without the whitespace folding may leave at its start.</summary>
    private static string Header(JsonElement parsed, string name) =>
        parsed.GetProperty("headers").EnumerateArray().Single(h => h[0].GetString()!.Equals(name, StringComparison.OrdinalIgnoreCase))[1].GetString()!.Trim();

    [Fact]
    public void The_seed_announcement_has_both_parts_the_list_headers_and_the_five_chapters()
    {
        var parsed = Parse(Announcement.ForSeed(_folder).ComposeWire());
        Assert.Empty(parsed.GetProperty("defects").EnumerateArray());
        Assert.Equal("multipart/alternative", parsed.GetProperty("type").GetString());
        var parts = parsed.GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal(["text/plain", "text/html"], parts.Select(p => p.GetProperty("type").GetString()));
        Assert.False(parsed.GetProperty("eight_bit").GetBoolean());
        Assert.True(parsed.GetProperty("max_line").GetInt32() <= 998);

        Assert.Equal("Python HPC <webinars@blog.example.org>", Header(parsed, "From"));
        Assert.Equal("Andrea <andrea@example.org>", Header(parsed, "Reply-To"));
        Assert.Equal("Ada Lovelace <ada@example.com>", Header(parsed, "To"));
        Assert.Equal("New webinar: Python for HPC", Header(parsed, "Subject"));
        Assert.Equal("Tue, 16 Sep 2025 09:00:00 +0000", Header(parsed, "Date"));
        Assert.Matches("^<[0-9a-f]{32}@blog\\.example\\.org>$", Header(parsed, "Message-ID"));
        Assert.Equal("\"PythonHpc sample blog webinars\" <webinars.blog.example.org>".Replace("PythonHpc sample blog", "Test blog", StringComparison.Ordinal), Header(parsed, "List-Id"));
        Assert.Equal("<https://blog.example.org/unsubscribe/TOKEN-ada@example.com>, <mailto:webinars@blog.example.org?subject=unsubscribe>", Header(parsed, "List-Unsubscribe"));
        Assert.Equal("List-Unsubscribe=One-Click", Header(parsed, "List-Unsubscribe-Post"));
        Assert.Equal("1.0", Header(parsed, "MIME-Version"));

        var (text, html) = (parts[0].GetProperty("text").GetString()!, parts[1].GetProperty("text").GetString()!);
        string[] links = ["&t=240s", "&t=557s", "&t=1032s", "&t=1974s", "&t=3324s"];
        string[] titles = ["Environment management", "AI code assistants", "Threads vs processes", "Numba optimization", "Dask for scaling out"];
        foreach (var (t, title) in links.Zip(titles))
        {
            Assert.Contains("https://www.youtube.com/watch?v=Zv4DcRy1yeg" + t, text);
            Assert.Contains("https://www.youtube.com/watch?v=Zv4DcRy1yeg" + t.Replace("&", "&amp;", StringComparison.Ordinal), html);
            Assert.Contains(title, text);
            Assert.Contains(title, html);
        }
        foreach (var start in new[] { "4:00", "9:17", "17:12", "32:54", "55:24" })
        {
            Assert.Contains(start, text);
            Assert.Contains(">" + start + "<", html);
        }
        foreach (var part in new[] { text, html })
        {
            Assert.DoesNotContain("<iframe", part, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<script", part, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("https://blog.example.org/unsubscribe/TOKEN-ada@example.com", part);
            Assert.Contains("https://blog.example.org/posts/2025-09-15-python-for-hpc.html", part);
            Assert.Contains(new MailOptions().PostalAddress, part);
            Assert.Contains("Jupyter workflow; two deployment patterns", part);
        }
        foreach (Match url in UrlAttribute().Matches(html))
            Assert.StartsWith("https://", url.Groups[1].Value);
        Assert.Contains("https://i.ytimg.com/vi/Zv4DcRy1yeg/hqdefault.jpg", html);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(html) < AnnouncementMessage.HtmlLimit);
    }

    [Fact]
    public void Names_and_titles_beyond_ascii_are_encoded_and_read_back_whole()
    {
        var mail = new MailOptions { From = "Träff Ström <webinars@blog.example.org>", ReplyTo = "Zoë <zoe@example.org>" };
        var announcement = Announcement.ForSeed(_folder, mail, title: "\"Träffar – Python för HPC\"");
        var parsed = Parse(announcement.ComposeWire(Announcement.Recipient("asa@example.com", "Åsa Öberg")));
        Assert.Empty(parsed.GetProperty("defects").EnumerateArray());
        Assert.False(parsed.GetProperty("eight_bit").GetBoolean());
        Assert.Equal("Träff Ström <webinars@blog.example.org>", Header(parsed, "From"));
        Assert.Equal("Zoë <zoe@example.org>", Header(parsed, "Reply-To"));
        Assert.Equal("Åsa Öberg <asa@example.com>", Header(parsed, "To"));
        Assert.Equal("New webinar: Träffar – Python för HPC", Header(parsed, "Subject"));
        Assert.Contains("Träffar – Python för HPC", parsed.GetProperty("parts")[1].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("ada@example.com", "Ada Lovelace")]
    [InlineData("asa@example.com", "Åsa Öberg")]
    [InlineData("quote@example.com", "\"Quoted\" back\\slash, comma; (paren)")]
    [InlineData("long@example.com", "A very long display name that goes on and on past the seventy-eight characters a header line should keep to")]
    [InlineData("crlf@example.com", "Ada\r\nBcc: other@example.net")]
    [InlineData("none@example.com", null)]
    [InlineData("Dot.Start@Example.com", ".dot")]
    public void Each_message_is_byte_for_byte_what_MimeKit_writes_for_it(string email, string? name)
    {
        // Messages are assembled from the announcement's layout (checked once per announcement on one
        // sample); MimeKit building and writing each message is the reference they must equal.
        var announcement = Announcement.ForSeed(_folder);
        Assert.NotNull(announcement.Draft.Layout);
        var recipient = Announcement.Recipient(email, name);
        using var assembled = announcement.ComposeWire(recipient);
        using var reference = announcement.Messages.Compose(announcement.Draft with { Layout = null }, recipient, new DateTimeOffset(2025, 9, 16, 9, 0, 0, TimeSpan.Zero));
        Assert.Equal(System.Text.Encoding.UTF8.GetString(reference.Bytes.Span), System.Text.Encoding.UTF8.GetString(assembled.Bytes.Span));
        Assert.StartsWith("MIME-Version: 1.0\r\n", System.Text.Encoding.ASCII.GetString(assembled.Bytes.Span));
    }

    [Fact]
    public void The_message_id_is_the_same_for_the_same_announcement_and_address_only()
    {
        var announcement = Announcement.ForSeed(_folder);
        var first = announcement.Compose(Announcement.Recipient("ada@example.com")).MessageId;
        Assert.Equal(first, announcement.Compose(Announcement.Recipient("Ada@Example.com ")).MessageId);
        Assert.NotEqual(first, announcement.Compose(Announcement.Recipient("grace@example.com")).MessageId);
    }

    [Fact]
    public void Header_like_text_in_a_title_or_a_name_stays_text()
    {
        var announcement = Announcement.ForSeed(_folder, title: "\"Evil\\r\\nBcc: victim@example.net\\r\\n\\r\\n<script>alert(1)</script> & 'quotes'\"");
        var parsed = Parse(announcement.ComposeWire(Announcement.Recipient("ada@example.com", "Ada\r\nBcc: other@example.net <b>")));
        var names = parsed.GetProperty("headers").EnumerateArray().Select(h => h[0].GetString()!).ToList();
        Assert.DoesNotContain("Bcc", names);
        Assert.Single(names, n => n == "To");
        Assert.StartsWith("New webinar: Evil Bcc: victim@example.net", Header(parsed, "Subject"));
        var html = parsed.GetProperty("parts")[1].GetProperty("text").GetString()!;
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x27;quotes&#x27;", html);
    }

    [Fact]
    public void A_template_that_does_not_parse_stops_with_its_file_and_line()
    {
        _folder.Write("templates/email/announcement.html.liquid", "<p>\n{{ post.title }}\n{% if chapters.size > 0 %}\nnever closed\n");
        var error = Assert.Throws<PythonHpc.Hosting.ConfigurationException>(() => Announcement.ForSeed(_folder));
        Assert.Matches(@"templates/email/announcement\.html\.liquid:\d+: error: .*endif", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_template_in_the_templates_folder_overrides_the_built_in_one()
    {
        _folder.Write("templates/email/announcement.txt.liquid", "Custom: {{ post.title }} {{ unsubscribe_url }}");
        var announcement = Announcement.ForSeed(_folder);
        var (html, text) = announcement.Messages.Render(announcement.Draft, Announcement.Recipient());
        Assert.Equal("Custom: Python for HPC https://blog.example.org/unsubscribe/TOKEN-ada@example.com", text);
        Assert.Contains("<table", html, StringComparison.Ordinal);
    }
}
