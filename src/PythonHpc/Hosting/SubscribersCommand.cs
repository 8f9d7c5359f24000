using System.CommandLine;
using System.Diagnostics;
using System.Text;
using PythonHpc.Mail;
using PythonHpc.Subscribers;

namespace PythonHpc.Hosting;

/// <summary>
/// <c>pythonhpc subscribers …</c>: the owner's hands on the list. Usage errors, a database that
/// cannot be opened and mail that cannot be sent exit 1; an import with refused rows exits 2.
/// </summary>
internal static class SubscribersCommand
{
    public static Command Create()
    {
        var subscribers = new Command("subscribers", "The mailing list: add, remove, list, import and export subscribers.");
        subscribers.Subcommands.Add(AddCommand());
        subscribers.Subcommands.Add(RemoveCommand());
        subscribers.Subcommands.Add(ListCommand());
        subscribers.Subcommands.Add(ImportCommand());
        subscribers.Subcommands.Add(ExportCommand());
        return subscribers;
    }

    private static Command AddCommand()
    {
        var email = new Argument<string>("EMAIL") { Description = "The address." };
        var name = new Option<string>("--name") { Description = "The subscriber's name." };
        var confirmed = new Option<bool>("--confirmed") { Description = "Confirmed at once, with no confirmation email (they asked you themselves)." };
        var command = new Command("add", "Add a subscriber: pending, mailed a confirmation link; or, with --confirmed, confirmed at once.") { email, name, confirmed };
        command.SetAction((parse, ct) => CommandLine.WithServices(parse, (_, services, stdout, stderr) =>
            Add(services, parse.GetValue(email)!, parse.GetValue(name), parse.GetValue(confirmed), stdout, stderr, ct)));
        return command;
    }

    private static Command RemoveCommand()
    {
        var email = new Argument<string>("EMAIL") { Description = "The address." };
        var command = new Command("remove", "Erase a subscriber and their personal data (exit 0 whether or not there was one).") { email };
        command.SetAction((parse, ct) => CommandLine.WithServices(parse, (_, services, stdout, stderr) => Remove(services, parse.GetValue(email)!, stdout, stderr, ct)));
        return command;
    }

    private static Command ListCommand()
    {
        var status = new Option<string>("--status") { Description = $"Only these: {SubscriberCsv.StatusNames}." };
        var command = new Command("list", "Counts per status, then one tab-separated line per subscriber.") { status };
        command.SetAction((parse, ct) => CommandLine.WithServices(parse, (_, services, stdout, stderr) => List(services, parse.GetValue(status), stdout, stderr, ct)));
        return command;
    }

    private static Command ImportCommand()
    {
        var file = new Argument<string>("FILE") { Description = "A CSV file with an email column, and optionally name and status." };
        var confirmed = new Option<bool>("--confirmed") { Description = "Rows without a status are confirmed (else pending, and mailed nothing)." };
        var command = new Command("import", "Import a CSV list in one transaction; refused rows are reported at their line (exit 2).") { file, confirmed };
        command.SetAction((parse, ct) => CommandLine.WithServices(parse, (_, services, stdout, stderr) =>
            Import(services, parse.GetValue(file)!, parse.GetValue(confirmed), stdout, stderr, ct)));
        return command;
    }

    private static Command ExportCommand()
    {
        var file = new Argument<string?>("FILE") { Description = "The CSV file to write (atomically); without it, standard output.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("export", "Write every subscriber as CSV, in a form import reads back.") { file };
        command.SetAction((parse, ct) => CommandLine.WithServices(parse, (_, services, stdout, stderr) => Export(services, parse.GetValue(file), stdout, stderr, ct)));
        return command;
    }

    private static async Task<int> Add(ServiceProvider services, string emailText, string? nameText, bool confirmed, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (!TryEmail(emailText, stderr, out var email))
            return CommandLine.ConfigurationError;
        if (!SubscriberName.TryParse(nameText, out var name, out var error))
        {
            stderr.WriteLine($"error: --name {error}");
            return CommandLine.ConfigurationError;
        }
        if (!confirmed)
            return await Request(services.GetRequiredService<Subscriptions>(), services.GetRequiredService<SubscribersOptions>(), email, name, stdout, stderr, ct);
        var added = await services.GetRequiredService<SubscriberStore>().AddConfirmed(email, name, SubscriberSource.Cli, ct);
        stdout.WriteLine($"{added.Email}: confirmed (id {added.Id}); no email sent");
        return CommandLine.Success;
    }

    /// <summary>Double opt-in, as the form does it, but the confirmation is sent here and now, so its fate is known before the command exits.</summary>
    private static async Task<int> Request(Subscriptions subscriptions, SubscribersOptions options, EmailAddress email, string name, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var (subscriber, send) = await subscriptions.Request(email, name, SubscriberSource.Cli, new Consent(DateTimeOffset.UtcNow, null, "pythonhpc cli"), ct);
        if (!send)
        {
            stdout.WriteLine(subscriber.Status == SubscriberStatus.Confirmed
                ? $"{subscriber.Email}: already confirmed (id {subscriber.Id}); no email sent"
                : $"{subscriber.Email}: pending (id {subscriber.Id}); a confirmation went out less than {options.ResendConfirmationAfter} ago (Subscribers:ResendConfirmationAfter), so none now");
            return CommandLine.Success;
        }
        try
        {
            var answer = await subscriptions.SendConfirmation(subscriber, ct);
            stdout.WriteLine($"{subscriber.Email}: pending (id {subscriber.Id}); confirmation sent via {subscriptions.Transport.Destination}: {answer}");
            return CommandLine.Success;
        }
        catch (MailSendException e)
        {
            stderr.WriteLine($"error: {subscriber.Email} is pending (id {subscriber.Id}) but the confirmation was not sent: {e.Message}; run the command again once mail works");
            return CommandLine.ConfigurationError;
        }
    }

    private static async Task<int> Remove(ServiceProvider services, string emailText, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (!TryEmail(emailText, stderr, out var email))
            return CommandLine.ConfigurationError;
        var removed = await services.GetRequiredService<SubscriberStore>().RemoveSubscriber(email, ct);
        // Exit 0 either way: an erasure request is met when the address is gone, whoever removed it first.
        stdout.WriteLine(removed ? $"{email}: removed, with their personal data" : $"{email}: no subscriber by that address; nothing removed");
        return CommandLine.Success;
    }

    private static async Task<int> List(ServiceProvider services, string? statusText, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        SubscriberStatus? status = null;
        if (statusText is not null && (status = SubscriberCsv.Status(statusText)) is null)
        {
            stderr.WriteLine($"error: --status '{statusText}' is not one of {SubscriberCsv.StatusNames}");
            return CommandLine.ConfigurationError;
        }
        var store = services.GetRequiredService<SubscriberStore>();
        var counts = await store.Counts(ct);
        // Lines starting with # are for people; `grep -v '^#'` leaves the rows.
        stdout.WriteLine($"# {counts.Values.Sum()} subscribers: " + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value} {Lower(c.Key)}")));
        stdout.WriteLine("# id\temail\tname\tstatus\tsource\tcreated\tconfirmed\tunsubscribed");
        await foreach (var s in store.SubscribersByStatus(status, ct))
            stdout.WriteLine(string.Join('\t', s.Id, s.Email, OneLine(s.Name), Lower(s.Status), Lower(s.Source),
                SubscriberCsv.Time(s.Created), SubscriberCsv.Time(s.Confirmed), SubscriberCsv.Time(s.Unsubscribed)));
        return CommandLine.Success;
    }

    /// <summary>
    /// The file is read and checked whole, then written in one transaction. Imported pending rows are
    /// mailed nothing: a list from elsewhere is no request from these people, and mailing thousands
    /// of confirmations at once is how a sender's reputation is lost. They get no announcements until confirmed.
    /// </summary>
    private static async Task<int> Import(ServiceProvider services, string file, bool confirmed, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var store = services.GetRequiredService<SubscriberStore>();
        if (ReadImport(file, confirmed ? SubscriberStatus.Confirmed : SubscriberStatus.Pending, stderr) is not { } import)
            return CommandLine.ConfigurationError;
        foreach (var problem in import.Problems)
            stderr.WriteLine(problem);
        var left = await store.LeftEmailKeys(ct);
        var keptOut = import.Rows.Count(r => r.Status is SubscriberStatus.Pending or SubscriberStatus.Confirmed && left.Contains(r.Email.Key));
        await store.Import(import.Rows, ct);
        stdout.WriteLine($"{file}: {import.Read} rows read; {import.Rows.Count} addresses imported; {import.Problems.Count} rejected; "
            + $"{import.Merged} merged as duplicates; {keptOut} kept out (they had unsubscribed, bounced or complained); in {clock.ElapsedMilliseconds} ms");
        return import.Problems.Count > 0 ? CommandLine.InputRejected : CommandLine.Success;
    }

    private static ImportFile? ReadImport(string file, SubscriberStatus defaultStatus, TextWriter stderr)
    {
        try
        {
            // Not strict: a byte that is not UTF-8 becomes U+FFFD, which refuses its row at its line rather than the whole file.
            using var reader = new StreamReader(file, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            return SubscriberCsv.Read(reader, file, defaultStatus);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{file}: error: cannot read the file: {e.Message}");
            return null;
        }
    }

    private static async Task<int> Export(ServiceProvider services, string? file, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var store = services.GetRequiredService<SubscriberStore>();
        if (file is null)
        {
            await SubscriberCsv.Write(stdout, store.SubscribersByStatus(null, ct), ct);
            return CommandLine.Success;
        }
        try
        {
            var count = await WriteAtomically(file, writer => SubscriberCsv.Write(writer, store.SubscribersByStatus(null, ct), ct), ct);
            stdout.WriteLine($"wrote {count} subscribers to {file}");
            return CommandLine.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{file}: error: cannot write the file: {e.Message}");
            return CommandLine.ConfigurationError;
        }
    }

    /// <summary>
    /// Written beside <paramref name="file"/> under a temporary name, flushed and renamed: nobody reads
    /// half a list, and a failure leaves the previous file as it was. Owner-only: it is personal data.
    /// </summary>
    private static async Task<int> WriteAtomically(string file, Func<TextWriter, Task<int>> write, CancellationToken ct)
    {
        var count = 0;
        await AtomicFile.WriteAsync(Path.GetFullPath(file), async stream =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            count = await write(writer);
            await writer.FlushAsync(ct);
        }, AtomicWrite.Durable | AtomicWrite.OwnerOnly, ct);
        return count;
    }

    private static bool TryEmail(string text, TextWriter stderr, out EmailAddress email)
    {
        if (EmailAddress.TryParse(text, out email, out var error))
            return true;
        stderr.WriteLine($"error: '{text}' {error}");
        return false;
    }

    private static string Lower(Enum value) => value.ToString().ToLowerInvariant();

    /// <summary>A name on one line, so that a row stays a row (the form and import refuse control characters; older rows may not have).</summary>
    private static string OneLine(string text) => text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? ' ' : c)) : text;
}
