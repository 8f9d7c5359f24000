using System.Text;
using PythonHpc.Hosting;
using PythonHpc.Subscribers;

namespace PythonHpc.Tests.Subscribers;

/// <summary>The CSV of <c>subscribers import</c> and <c>export</c>: RFC 4180, line numbers, the rules for each row.</summary>
public sealed class SubscriberCsvTests
{
    private static List<CsvRecord> Records(string text) => [.. SubscriberCsv.Records(new StringReader(text))];

    private static ImportFile Read(string text, SubscriberStatus status = SubscriberStatus.Pending) =>
        SubscriberCsv.Read(new StringReader(text), "list.csv", status);

    [Fact]
    public void Quoted_fields_hold_commas_doubled_quotes_and_line_breaks_and_lines_are_counted_as_editors_do()
    {
        var records = Records("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",z\nlast,\"\"\n");
        Assert.Equal([1, 2, 3, 5], records.Select(r => r.Line));
        Assert.Equal(["x, y", "say \"hi\""], records[1].Fields);
        Assert.Equal(["two\nlines", "z"], records[2].Fields);
        Assert.Equal(["last", ""], records[3].Fields);
        Assert.All(records, r => Assert.Null(r.Error));
    }

    [Fact]
    public void A_CRLF_inside_a_quoted_field_is_kept_and_counts_as_one_line()
    {
        var records = Records("a,b\r\n\"one\r\ntwo\r\nthree\",x\r\nnext,y");
        Assert.Equal("one\r\ntwo\r\nthree", records[1].Fields[0]);
        Assert.Equal(5, records[2].Line);
        Assert.Equal(["next", "y"], records[2].Fields);
    }

    [Fact]
    public void Blank_lines_are_skipped_but_still_counted()
    {
        var records = Records("email\n\nada@example.org\n\r\n\nbob@example.org");
        Assert.Equal([1, 3, 6], records.Select(r => r.Line));
    }

    [Fact]
    public void A_quote_that_is_never_closed_or_text_after_a_closing_quote_refuses_the_record_at_its_first_line()
    {
        var after = Records("a,b\n\"x\"y,z\nok,1\n");
        Assert.Contains("text after a closing quote", after[1].Error);
        Assert.Equal(["xy", "z"], after[1].Fields);
        Assert.Null(after[2].Error);

        var open = Records("a,b\nfine,1\n\"never closed,2\nmore\n");
        Assert.Equal(3, open[2].Line);
        Assert.Contains("not closed before the end of the file", open[2].Error);
    }

    [Fact]
    public void Rows_with_a_bad_address_status_name_or_field_count_are_refused_at_the_line_they_start_on()
    {
        var file = Read(
            "email,name,status\n"
            + "ada@example.org,Ada,\n"
            + "grace@example.org,\"Grace\nHopper\",\n"
            + "not-an-address,Nobody,\n"
            + "linus@example.org,Linus,sometimes\n"
            + "bob@example.org,Bob\n"
            + "eve@example.org,\"Eve\tTab\",\n"
            + "zed@example.org,Zed,2\n");
        Assert.Equal(7, file.Read);
        Assert.Equal(["ada@example.org"], file.Rows.Select(r => r.Email.Value));
        Assert.Equal(
            [
                "list.csv:3: error: name 'Grace\\nHopper' must not contain line breaks or control characters",
                "list.csv:5: error: email 'not-an-address' must be an address such as ada@example.org, with a domain",
                "list.csv:6: error: status 'sometimes' is not one of pending, confirmed, unsubscribed, bounced, complained",
                "list.csv:7: error: 2 fields where the header has 3",
                "list.csv:8: error: name 'Eve\\tTab' must not contain line breaks or control characters",
                // A number is not a status, though Enum.TryParse would take it.
                "list.csv:9: error: status '2' is not one of pending, confirmed, unsubscribed, bounced, complained",
            ],
            file.Problems);
    }

    [Fact]
    public void Text_that_was_not_UTF_8_refuses_its_row()
    {
        var bytes = Encoding.UTF8.GetBytes("email,name\nada@example.org,Ada\nfr@example.org,Fran").Concat(new byte[] { 0xE7, 0x6F, 0x69, 0x73, (byte)'\n' }).ToArray();
        var file = SubscriberCsv.Read(new StreamReader(new MemoryStream(bytes), new UTF8Encoding(false, false)), "latin1.csv", SubscriberStatus.Pending);
        Assert.Equal(["latin1.csv:3: error: is not UTF-8 text (save the file as UTF-8)"], file.Problems);
        Assert.Single(file.Rows);
    }

    [Fact]
    public void One_address_given_twice_in_any_case_is_one_row_with_the_later_name_and_the_status_with_less_mail()
    {
        var file = Read("email,name,status\nAlice@Example.org,Alice,confirmed\nalice@example.org,Alice Liddell,pending\nALICE@EXAMPLE.ORG,,unsubscribed\nbob@example.org,Bob,\n");
        Assert.Equal(2, file.Rows.Count);
        Assert.Equal(2, file.Merged);
        var alice = file.Rows[0];
        Assert.Equal(("Alice@example.org", "Alice Liddell", SubscriberStatus.Unsubscribed), (alice.Email.Value, alice.Name, alice.Status));
        Assert.Equal(SubscriberStatus.Pending, file.Rows[1].Status);
    }

    [Fact]
    public void Without_a_status_column_rows_take_the_default()
    {
        Assert.All(Read("email\nada@example.org\nbob@example.org\n", SubscriberStatus.Confirmed).Rows, r => Assert.Equal(SubscriberStatus.Confirmed, r.Status));
        // An explicit status wins over the default; any case will do.
        Assert.Equal(SubscriberStatus.Bounced, Read("Email,STATUS\nada@example.org,Bounced\n", SubscriberStatus.Confirmed).Rows[0].Status);
    }

    [Theory]
    [InlineData("email,name,phone\n", "list.csv:1: error: unknown column 'phone'")]
    [InlineData("name,status\n", "list.csv:1: error: the header has no email column")]
    [InlineData("email,name,email\n", "list.csv:1: error: the column 'email' is named twice")]
    [InlineData("email,name,\n", "list.csv:1: error: unknown column ''")]
    [InlineData("", "list.csv:1: error: the file is empty")]
    public void A_header_that_cannot_be_used_is_an_error_at_line_1(string text, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => Read(text));
        Assert.StartsWith(expected, Assert.Single(e.Errors));
    }

    [Fact]
    public void The_columns_export_writes_are_accepted_and_ignored()
    {
        var file = Read("email,name,status,source,created,confirmed,unsubscribed\nada@example.org,Ada,confirmed,web,2025-01-01T00:00:00Z,,\n");
        Assert.Empty(file.Problems);
        Assert.Equal(("Ada", SubscriberStatus.Confirmed), (file.Rows[0].Name, file.Rows[0].Status));
    }

    [Fact]
    public async Task Export_quotes_what_needs_it_and_reads_back_to_the_same_fields()
    {
        var created = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.FromHours(2));
        Subscriber Make(long id, string email, string name, SubscriberStatus status, DateTimeOffset? left = null) =>
            new(id, email, name, status, SubscriberSource.Web, created, created.AddMinutes(1), left, new Consent(null, null, null), new Consent(null, null, null));
        Subscriber[] subscribers =
        [
            Make(1, "ada@example.org", "Ada, Countess of \"Lovelace\"", SubscriberStatus.Confirmed),
            Make(2, "o'brien@example.org", "<script>alert(1)</script>", SubscriberStatus.Unsubscribed, created.AddDays(1)),
            Make(3, "zoe@example.org", "Zoë 😀", SubscriberStatus.Pending),
        ];
        var output = new StringWriter();
        Assert.Equal(3, await SubscriberCsv.Write(output, subscribers.ToAsyncEnumerable(), TestContext.Current.CancellationToken));
        var text = output.ToString();
        Assert.StartsWith("email,name,status,source,created,confirmed,unsubscribed\r\n", text);
        Assert.Contains("ada@example.org,\"Ada, Countess of \"\"Lovelace\"\"\",confirmed,web,2025-03-04T03:06:07Z,2025-03-04T03:07:07Z,\r\n", text);
        Assert.Contains("o'brien@example.org,<script>alert(1)</script>,unsubscribed,web,2025-03-04T03:06:07Z,2025-03-04T03:07:07Z,2025-03-05T03:06:07Z\r\n", text);

        var back = Read(text);
        Assert.Empty(back.Problems);
        Assert.Equal(subscribers.Select(s => (s.Email, s.Name, s.Status)), back.Rows.Select(r => (r.Email.Value, r.Name, r.Status)));
    }
}
