using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using PythonHpc.Hosting;

namespace PythonHpc.Subscribers;

/// <summary>One CSV record: its fields, the physical line it starts on (what errors name), and what is wrong with its syntax.</summary>
internal sealed record CsvRecord(int Line, string[] Fields, string? Error);

/// <summary>An import file, read and checked: the rows to import (one per address), and each refused row's problem.</summary>
internal sealed record ImportFile(IReadOnlyList<ImportRow> Rows, int Read, int Merged, IReadOnlyList<string> Problems);

/// <summary>
/// Subscribers as CSV (RFC 4180): <c>subscribers import</c> reads a list, <c>subscribers export</c>
/// writes one that imports again. Quoted fields may hold commas, quotes (doubled) and line breaks;
/// the file may start with a UTF-8 BOM and end its lines with CRLF or LF.
/// </summary>
internal static class SubscriberCsv
{
    /// <summary>What export writes. Import reads the first three and accepts the others, ignored, so that an export imports again.</summary>
    public static readonly string[] Columns = ["email", "name", "status", "source", "created", "confirmed", "unsubscribed"];

    private static readonly SearchValues<char> NeedQuotes = SearchValues.Create(",\"\r\n");

    public static string StatusNames => string.Join(", ", Enum.GetNames<SubscriberStatus>().Select(n => n.ToLowerInvariant()));

    private static readonly Dictionary<string, SubscriberStatus> Statuses =
        Enum.GetValues<SubscriberStatus>().ToDictionary(s => s.ToString(), StringComparer.OrdinalIgnoreCase);

    /// <summary>A status by its word (any case); not by number, which <see cref="Enum.TryParse{T}(string, bool, out T)"/> would take.</summary>
    public static SubscriberStatus? Status(string text) => Statuses.TryGetValue(text.Trim(), out var status) ? status : null;

    /// <summary>ISO 8601 UTC to the second, as list and export show times.</summary>
    public static string Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";

    /// <summary>
    /// Reads an import file named <paramref name="file"/> (for messages). A header that cannot be used
    /// is a <see cref="ConfigurationException"/> at line 1: nothing in the file can be trusted then.
    /// Refused rows are problems at their first line; an address given twice is one row, merged.
    /// </summary>
    public static ImportFile Read(TextReader reader, string file, SubscriberStatus defaultStatus)
    {
        using var records = Records(reader).GetEnumerator();
        if (!records.MoveNext())
            throw new ConfigurationException([$"{file}:1: error: the file is empty; its first line must name the columns, such as email,name"]);
        var header = Header.Parse(records.Current, file);
        var rows = new List<ImportRow>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<string>();
        var (read, merged) = (0, 0);
        while (records.MoveNext())
        {
            read++;
            if (Row(records.Current, header, defaultStatus, out var row) is { } error)
                problems.Add($"{file}:{records.Current.Line}: error: {error}");
            else if (index.TryAdd(row.Email.Key, rows.Count))
                rows.Add(row);
            else
                (rows[index[row.Email.Key]], merged) = (Merge(rows[index[row.Email.Key]], row), merged + 1);
        }
        return new ImportFile(rows, read, merged, problems);
    }

    /// <summary>One address given twice: the later name unless empty, and the status with less mail, as the store merges (queries.sql, import).</summary>
    private static ImportRow Merge(ImportRow first, ImportRow later) => new(
        first.Email,
        later.Name.Length > 0 ? later.Name : first.Name,
        Rank(later.Status) > Rank(first.Status) ? later.Status : first.Status);

    private static int Rank(SubscriberStatus status) => status switch
    {
        SubscriberStatus.Pending => 0,
        SubscriberStatus.Confirmed => 1,
        _ => 2,
    };

    /// <summary>The record as a row, or why it is refused.</summary>
    private static string? Row(CsvRecord record, Header header, SubscriberStatus defaultStatus, out ImportRow row)
    {
        row = null!;
        if (record.Error is not null)
            return record.Error;
        if (record.Fields.Length != header.Count)
            return $"{record.Fields.Length} fields where the header has {header.Count}";
        if (record.Fields.Any(f => f.Contains('\uFFFD', StringComparison.Ordinal)))
            return "is not UTF-8 text (save the file as UTF-8)";
        var emailText = record.Fields[header.Email];
        if (!EmailAddress.TryParse(emailText, out var email, out var error))
            return $"email '{Shown(emailText)}' {error}";
        var nameText = header.Name >= 0 ? record.Fields[header.Name] : "";
        if (!SubscriberName.TryParse(nameText, out var name, out error))
            return $"name '{Shown(nameText)}' {error}";
        var statusText = header.Status >= 0 ? record.Fields[header.Status].Trim() : "";
        if ((statusText.Length == 0 ? defaultStatus : Status(statusText)) is not { } status)
            return $"status '{Shown(statusText)}' is not one of {StatusNames}";
        row = new ImportRow(email, name, status);
        return null;
    }

    /// <summary>A value as a message quotes it: on one line, and not too long to read.</summary>
    private static string Shown(string value)
    {
        var clipped = value.Length > 60 ? value[..60] + "…" : value;
        return string.Concat(clipped.Select(c => c switch
        {
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when char.IsControl(c) => $"\\u{(int)c:x4}",
            _ => c.ToString(),
        }));
    }

    /// <summary>Where the columns are. Names are matched in any case; an unknown or repeated one is an error.</summary>
    private sealed record Header(int Count, int Email, int Name, int Status)
    {
        public static Header Parse(CsvRecord record, string file)
        {
            var names = record.Fields.Select(f => f.Trim().ToLowerInvariant()).ToArray();
            if ((record.Error ?? Problem(names)) is { } error)
                throw new ConfigurationException([$"{file}:{record.Line}: error: {error}"]);
            return new Header(names.Length, Array.IndexOf(names, "email"), Array.IndexOf(names, "name"), Array.IndexOf(names, "status"));
        }

        private static string? Problem(string[] names)
        {
            if (names.FirstOrDefault(n => !Columns.Contains(n)) is { } unknown)
                return $"unknown column '{Shown(unknown)}'; the columns are email, name and status (and, ignored, {string.Join(", ", Columns[3..])}, as export writes them)";
            if (names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
                return $"the column '{twice.Key}' is named twice";
            return names.Contains("email") ? null : "the header has no email column; the first line must name the columns, such as email,name";
        }
    }

    /// <summary>The records of <paramref name="reader"/>, streamed; blank lines are skipped.</summary>
    public static IEnumerable<CsvRecord> Records(TextReader reader)
    {
        var parser = new Parser(reader);
        while (parser.Next() is { } record)
        {
            if (record is not { Fields: [""], Error: null })
                yield return record;
        }
    }

    /// <summary>
    /// RFC 4180 §2, read leniently where no data is lost: a lone quote inside an unquoted field is
    /// kept as a character. Line numbers count LF and CRLF, as editors do.
    /// </summary>
    /// <remarks>
    /// Its loops are compiled optimised at once (<see cref="MethodImplOptions.AggressiveOptimization"/>):
    /// an import runs once, in a fresh process, where tiered compilation left most of a 100,000-row
    /// file to unoptimised code (185 ms to parse it, against 60 ms so).
    /// </remarks>
    private sealed class Parser(TextReader reader)
    {
        private const int End = -1;
        private readonly StringBuilder _field = new();
        private readonly List<string> _fields = [];
        private int _line = 1;
        private string? _error;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public CsvRecord? Next()
        {
            if (reader.Peek() < 0)
                return null;
            var start = _line;
            _error = null;
            _fields.Clear();
            int delimiter;
            do
            {
                delimiter = reader.Peek() == '"' ? Quoted() : Plain();
                _fields.Add(_field.ToString());
                _field.Clear();
            }
            while (delimiter == ',');
            return new CsvRecord(start, [.. _fields], _error);
        }

        /// <summary>Reads to the end of the field: returns ',', '\n' or <see cref="End"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int Plain()
        {
            while (true)
            {
                var c = reader.Read();
                if (c is ',' or End)
                    return c;
                if (c == '\r' && reader.Peek() == '\n')
                    c = reader.Read();
                if (c == '\n')
                {
                    _line++;
                    return '\n';
                }
                _field.Append((char)c);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int Quoted()
        {
            reader.Read();
            while (true)
            {
                var c = reader.Read();
                if (c == End)
                {
                    _error ??= "a quoted field is not closed before the end of the file (a quote inside a field is written twice: \"\")";
                    return End;
                }
                if (c == '"' && reader.Peek() != '"')
                    return AfterQuote();
                if (c == '"')
                    reader.Read();
                else if (c == '\n')
                    _line++;
                _field.Append((char)c);
            }
        }

        /// <summary>After a closing quote only a delimiter may follow; anything else is kept, and the record refused.</summary>
        private int AfterQuote()
        {
            var length = _field.Length;
            var delimiter = Plain();
            if (_field.Length > length)
                _error ??= "text after a closing quote (a quote inside a field is written twice: \"\")";
            return delimiter;
        }
    }

    /// <summary>Writes the header and every subscriber, one line each as it is read; returns how many.</summary>
    public static async Task<int> Write(TextWriter writer, IAsyncEnumerable<Subscriber> subscribers, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        await writer.WriteAsync(string.Join(',', Columns) + "\r\n");
        var count = 0;
        await foreach (var subscriber in subscribers.WithCancellation(cancellationToken))
        {
            line.Clear();
            Line(line, subscriber);
            // One write per row: a console writer flushes on every call.
            await writer.WriteAsync(line.Append("\r\n").ToString());
            count++;
        }
        await writer.FlushAsync(cancellationToken);
        return count;
    }

    private static void Line(StringBuilder line, Subscriber s)
    {
        string[] fields = [s.Email, s.Name, Lower(s.Status), Lower(s.Source), Time(s.Created), Time(s.Confirmed), Time(s.Unsubscribed)];
        for (var i = 0; i < fields.Length; i++)
            Field(i == 0 ? line : line.Append(','), fields[i]);
    }

    private static string Lower(Enum value) => value.ToString().ToLowerInvariant();

    /// <summary>RFC 4180 §2.6–2.7: quoted when it holds a comma, a quote or a line break; quotes doubled.</summary>
    private static void Field(StringBuilder line, string value)
    {
        if (value.AsSpan().IndexOfAny(NeedQuotes) < 0)
            line.Append(value);
        else
            line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}
