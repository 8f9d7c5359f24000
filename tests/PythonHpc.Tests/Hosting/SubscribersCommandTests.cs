using System.Text;
using Microsoft.Data.Sqlite;
using MimeKit;
using PythonHpc.Store;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Hosting;

/// <summary><c>pythonhpc subscribers …</c>, run as a child process on a real SQLite file in a folder of its own.</summary>
public sealed class SubscribersCommandTests : IDisposable
{
    private const string Statuses = "pending, confirmed, unsubscribed, bounced, complained";
    private readonly TempFolder _folder = new();

    public SubscribersCommandTests() => Directory.CreateDirectory(_folder["posts"]);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ToolResult Run(params string[] arguments) => Tool.Pythonhpc(_folder.Path, arguments);

    private ToolResult Ok(params string[] arguments)
    {
        var result = Run(arguments);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    /// <summary>The rows <c>subscribers list</c> prints: id, email, name, status, source, created, confirmed, unsubscribed.</summary>
    private List<string[]> Listed(params string[] options) =>
        [.. Ok(["subscribers", "list", .. options]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#')).Select(line => line.Split('\t'))];

    /// <summary>The same database file, opened in this process, as the service would.</summary>
    private SubscriberStore Store() => new(Database.Open(new StoreOptions { DataPath = _folder["data"] }), TimeProvider.System);

    private static EmailAddress Address(string text) => EmailAddress.TryParse(text, out var a, out var e) ? a : throw new ArgumentException(e);

    [Fact]
    public void Add_confirmed_stores_one_subscriber_per_address_whatever_its_case_and_mails_nothing()
    {
        Assert.Contains("Alice@example.org: confirmed (id 1); no email sent", Ok("subscribers", "add", "Alice@Example.org", "--confirmed", "--name", "Alice").Stdout);
        Ok("subscribers", "add", "alice@example.org", "--confirmed");

        var row = Assert.Single(Listed());
        Assert.Equal(["1", "Alice@example.org", "Alice", "confirmed", "cli"], row[..5]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", row[5]);
        Assert.Equal(row[5], row[6]);
        Assert.Equal("", row[7]);
        Assert.False(Directory.Exists(_folder["out/mail"]));
    }

    [Fact]
    public void Add_without_confirmed_makes_a_pending_subscriber_and_mails_the_confirmation_through_the_transport()
    {
        var result = Ok("subscribers", "add", "ada@example.org", "--name", "Ada");
        Assert.Contains("ada@example.org: pending (id 1); confirmation sent via " + _folder["out/mail"], result.Stdout);
        var message = MimeMessage.Load(Assert.Single(Directory.GetFiles(_folder["out/mail"], "*.eml")), Ct);
        Assert.Equal("ada@example.org", message.To.Mailboxes.Single().Address);
        Assert.Contains("/confirm/", message.TextBody);
        Assert.Equal("pending", Assert.Single(Listed())[3]);

        // Asked again at once: no second message, so the command cannot flood an inbox either.
        Assert.Contains("a confirmation went out less than", Ok("subscribers", "add", "ada@example.org").Stdout);
        Assert.Single(Directory.GetFiles(_folder["out/mail"], "*.eml"));
    }

    [Fact]
    public async Task Add_records_the_command_line_as_the_consent()
    {
        Ok("subscribers", "add", "ada@example.org");
        var ada = await Store().SubscriberByEmail(Address("ada@example.org"), Ct);
        Assert.Equal((SubscriberSource.Cli, "pythonhpc cli", null), (ada!.Source, ada.Requested.UserAgent, ada.Requested.Ip));
    }

    [Theory]
    [InlineData("ada", "error: 'ada' must be an address such as ada@example.org, with a domain")]
    [InlineData("'; DROP TABLE subscribers; --", "must be a bare address")]
    public void An_address_that_is_not_one_is_a_usage_error(string address, string expected)
    {
        var result = Run("subscribers", "add", address, "--confirmed");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.Empty(Listed());
    }

    [Fact]
    public void Script_and_SQL_looking_names_and_addresses_are_stored_as_text()
    {
        Ok("subscribers", "add", "o'brien--@example.org", "--confirmed", "--name", "'; DROP TABLE subscribers; --");
        Ok("subscribers", "add", "eve@example.org", "--confirmed", "--name", "<script>alert(\"x\")</script>");
        _folder.Write("people.csv", "email,name\nmallory@example.org,\"Robert'); DROP TABLE subscribers;--\"\n");
        Ok("subscribers", "import", "people.csv");

        var rows = Listed();
        Assert.Equal(
            [("o'brien--@example.org", "'; DROP TABLE subscribers; --"), ("eve@example.org", "<script>alert(\"x\")</script>"), ("mallory@example.org", "Robert'); DROP TABLE subscribers;--")],
            rows.Select(r => (r[1], r[2])));
        Assert.Contains("\r\nmallory@example.org,Robert'); DROP TABLE subscribers;--,pending,import,", Ok("subscribers", "export").Stdout);
    }

    [Fact]
    public async Task Remove_erases_the_subscriber_and_says_whether_there_was_one()
    {
        Ok("subscribers", "add", "ada@example.org", "--confirmed", "--name", "Ada");
        Ok("subscribers", "add", "bob@example.org", "--confirmed");

        Assert.Contains("ADA@example.org: removed, with their personal data", Ok("subscribers", "remove", "ADA@example.org").Stdout);
        Assert.Equal(["bob@example.org"], Listed().Select(r => r[1]));
        Assert.Null(await Store().SubscriberByEmail(Address("ada@example.org"), Ct));
        Assert.Contains("ada@example.org: no subscriber by that address; nothing removed", Ok("subscribers", "remove", "ada@example.org").Stdout);
    }

    [Fact]
    public void List_prints_the_counts_first_and_filters_by_status_and_an_unknown_status_is_a_usage_error()
    {
        Ok("subscribers", "add", "ada@example.org", "--confirmed");
        Ok("subscribers", "add", "bob@example.org");
        var lines = Ok("subscribers", "list").Stdout.Split('\n');
        Assert.Equal("# 2 subscribers: 1 pending, 1 confirmed, 0 unsubscribed, 0 bounced, 0 complained", lines[0]);
        Assert.Equal(["bob@example.org"], Listed("--status", "pending").Select(r => r[1]));
        Assert.Equal(["ada@example.org"], Listed("--status", "CONFIRMED").Select(r => r[1]));

        var bad = Run("subscribers", "list", "--status", "gone");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains($"error: --status 'gone' is not one of {Statuses}", bad.Stderr);
    }

    [Fact]
    public void Import_reports_refused_rows_at_the_line_they_start_on_merges_duplicates_and_exits_2()
    {
        _folder.Write("people.csv",
            "email,name,status\r\n"                                   // 1
            + "ada@example.org,Ada,\r\n"                               // 2
            + "grace@example.org,\"Grace\r\nHopper, \"\"Amazing\"\"\",confirmed\r\n" // 3–4: a line break in a name is refused
            + "not-an-address,Nobody,\r\n"                              // 5
            + "linus@example.org,Linus,sometimes\r\n"                   // 6
            + "ALICE@Example.org,Alice,\r\n"                            // 7
            + "alice@example.org,,confirmed\r\n"                        // 8: the same address: merged
            + "bob@example.org,Bob\r\n"                                 // 9
            + "\"carol@example.org\",\"Carol, \"\"the\"\" Coder\",\r\n"); // 10
        var result = Run("subscribers", "import", "people.csv");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(
            [
                "people.csv:3: error: name 'Grace\\r\\nHopper, \"Amazing\"' must not contain line breaks or control characters",
                "people.csv:5: error: email 'not-an-address' must be an address such as ada@example.org, with a domain",
                $"people.csv:6: error: status 'sometimes' is not one of {Statuses}",
                "people.csv:9: error: 2 fields where the header has 3",
            ],
            result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("people.csv: 8 rows read; 3 addresses imported; 4 rejected; 1 merged as duplicates; 0 kept out", result.Stdout);
        Assert.Equal(
            [("ada@example.org", "Ada", "pending", "import"), ("ALICE@example.org", "Alice", "confirmed", "import"), ("carol@example.org", "Carol, \"the\" Coder", "pending", "import")],
            Listed().Select(r => (r[1], r[2], r[3], r[4])));
        // Imported pending rows are mailed nothing.
        Assert.False(Directory.Exists(_folder["out/mail"]));
    }

    [Fact]
    public void Import_reads_a_UTF_8_file_with_a_BOM_and_confirmed_makes_confirmed_the_default()
    {
        _folder.Write("bom.csv", [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("email,name\nzoe@example.org,Zoë 😀\n")]);
        var result = Run("subscribers", "import", "bom.csv", "--confirmed");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["zoe@example.org", "Zoë 😀", "confirmed"], Assert.Single(Listed())[1..4]);
    }

    [Fact]
    public async Task Import_never_subscribes_again_an_address_that_left()
    {
        Ok("subscribers", "add", "ada@example.org", "--confirmed");
        Ok("subscribers", "add", "bob@example.org", "--confirmed");
        var store = Store();
        Assert.True(await store.Unsubscribe((await store.SubscriberByEmail(Address("ada@example.org"), Ct))!.Id, Ct));

        _folder.Write("again.csv", "email,status\nAda@example.org,confirmed\nbob@example.org,bounced\ncarol@example.org,\n");
        var result = Run("subscribers", "import", "again.csv", "--confirmed");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("3 addresses imported; 0 rejected; 0 merged as duplicates; 1 kept out (they had unsubscribed, bounced or complained)", result.Stdout);
        Assert.Equal([("ada@example.org", "unsubscribed"), ("bob@example.org", "bounced"), ("carol@example.org", "confirmed")], Listed().Select(r => (r[1], r[3])));
    }

    [Fact]
    public void A_header_with_an_unknown_column_imports_nothing_and_exits_1()
    {
        _folder.Write("people.csv", "email,name,phone\nada@example.org,Ada,555\n");
        var result = Run("subscribers", "import", "people.csv");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("people.csv:1: error: unknown column 'phone'", result.Stderr);
        Assert.Empty(Listed());
        Assert.Equal(1, Run("subscribers", "import", "missing.csv").ExitCode);
    }

    [Fact]
    public void Export_then_import_gives_the_same_list()
    {
        Ok("subscribers", "add", "ada@example.org", "--confirmed", "--name", "Ada, \"Countess\" of Lovelace");
        Ok("subscribers", "add", "bob@example.org", "--name", "Bob <b>");
        _folder.Write("more.csv", "email,name,status\ncarol@example.org,Carol,unsubscribed\ndan@example.org,Dan,complained\n");
        Ok("subscribers", "import", "more.csv");

        var written = Ok("subscribers", "export", "backup/list.csv");
        Assert.Contains("wrote 4 subscribers to backup/list.csv", written.Stdout);
        var file = File.ReadAllText(_folder["backup/list.csv"]);
        Assert.Equal(Ok("subscribers", "export").Stdout, file);
        Assert.StartsWith("email,name,status,source,created,confirmed,unsubscribed\r\nada@example.org,\"Ada, \"\"Countess\"\" of Lovelace\",confirmed,cli,", file);
        Assert.Empty(Directory.GetFiles(_folder["backup"], "*.tmp", SearchOption.AllDirectories));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_folder["backup/list.csv"]));

        using var fresh = new TempFolder();
        Directory.CreateDirectory(fresh["posts"]);
        File.Copy(_folder["backup/list.csv"], fresh["list.csv"]);
        var imported = Tool.Pythonhpc(fresh.Path, ["subscribers", "import", "list.csv"]);
        Assert.True(imported.ExitCode == 0, imported.ToString());
        var again = Tool.Pythonhpc(fresh.Path, ["subscribers", "export"]).Stdout;
        string[] Kept(string csv) => [.. SubscriberCsv.Records(new StringReader(csv)).Select(r => string.Join('|', r.Fields[..3]))];
        Assert.Equal(Kept(file), Kept(again));
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public void A_database_that_is_not_one_is_reported_with_its_file_and_exit_1()
    {
        _folder.Write("data/pythonhpc.db", Encoding.ASCII.GetBytes(new string('x', 8192)));
        foreach (var command in new[] { new[] { "subscribers", "list" }, ["subscribers", "add", "ada@example.org", "--confirmed"], ["subscribers", "export"] })
        {
            var result = Run(command);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith($"{Path.Combine("data", "pythonhpc.db")}: error: not a usable SQLite database", result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr);
        }
    }

    [Fact]
    public async Task A_preview_to_a_subscriber_carries_their_name_and_their_own_working_unsubscribe_link()
    {
        _folder.Write("posts/2025-09-15-python-for-hpc.md", File.ReadAllText(FeedBuild.Testdata("seed", "2025-09-15-python-for-hpc.md")));
        Ok("subscribers", "add", "bob@example.org", "--confirmed");
        Ok("subscribers", "add", "ada@example.org", "--confirmed", "--name", "Ada Lovelace");
        var preview = Ok("announce", "preview", "python-for-hpc", "--out", "preview", "--to", "ADA@example.org");
        Assert.DoesNotContain("not a subscriber", preview.Stderr);

        var message = MimeMessage.Load(_folder["preview/2025-09-15-python-for-hpc.eml"], Ct);
        Assert.Equal(("Ada Lovelace", "ada@example.org"), (message.To.Mailboxes.Single().Name, message.To.Mailboxes.Single().Address));
        var link = System.Text.RegularExpressions.Regex.Match(message.Headers["List-Unsubscribe"]!, "<(http[^>]+)>").Groups[1].Value;
        Assert.StartsWith("http://localhost:5080/unsubscribe/", link);
        var tokens = new SubscriberTokens(SubscriberTokens.Secret(new SecurityOptions(), new StoreOptions { DataPath = _folder["data"] }), TimeProvider.System, TimeSpan.FromDays(7));
        var ada = await Store().SubscriberByEmail(Address("ada@example.org"), Ct);
        Assert.Equal(ada!.Id, tokens.Read(link[(link.LastIndexOf('/') + 1)..], TokenPurpose.Unsubscribe));
        Assert.Contains(link, File.ReadAllText(_folder["preview/2025-09-15-python-for-hpc.txt"]));

        var stranger = Ok("announce", "preview", "python-for-hpc", "--out", "preview2", "--to", "stranger@example.org");
        Assert.Contains("warning: stranger@example.org is not a subscriber", stranger.Stderr);
        Assert.Contains("<http://localhost:5080/unsubscribe/preview>", MimeMessage.Load(_folder["preview2/2025-09-15-python-for-hpc.eml"], Ct).Headers["List-Unsubscribe"]);
    }
}
