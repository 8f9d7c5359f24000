using System.Text;
using System.Text.Encodings.Web;
using Fluid;
using PythonHpc.Hosting;

namespace PythonHpc.Mail;

/// <summary>
/// A template rendered once per announcement with stand-ins for what differs per recipient (the
/// address, the name, the unsubscribe link), then filled in for each one: twenty thousand messages
/// cost one render and twenty thousand string joins, not twenty thousand renders. It is used only
/// when a second render with other stand-ins shows that the template uses those values as they are
/// (no filter, no test on them); otherwise <see cref="TryCreate"/> returns null and every message is
/// rendered in full.
/// </summary>
internal sealed class PersonalizedTemplate
{
    private const int Email = 0, Name = 1, Url = 2;

    // Letters and digits only: no encoder changes them, and no post or template contains them by chance.
    private static readonly string[][] StandIns =
    [
        ["zqxjemail7k3v", "zqxjname7k3v", "zqxjurl7k3v"],
        ["vwkqemail2p9d", "vwkqname2p9d", "vwkqurl2p9d"],
    ];

    private readonly List<(string Text, int Field)> _segments;
    private readonly TextEncoder _encoder;

    // The literal segments already quoted-printable, each starting a line and ending with a soft
    // break when a value follows: a message's part is these joined with its few encoded values.
    private readonly byte[][] _encoded;

    private PersonalizedTemplate(List<(string, int)> segments, TextEncoder encoder)
    {
        _segments = segments;
        _encoder = encoder;
        _encoded = [.. segments.Select((s, i) => s.Item2 >= 0 ? [] : Piece(s.Item1, i + 1 < segments.Count))];
    }

    /// <param name="model">The announcement's model; its recipient and unsubscribe link are replaced by stand-ins.</param>
    /// <param name="withName">Whether the recipients this serves have a name (a template may test for one).</param>
    public static PersonalizedTemplate? TryCreate(IFluidTemplate template, EmailModel model, TextEncoder encoder, bool withName)
    {
        string Render(string[] s) => LiquidTemplates.Render(template, model with
        {
            Recipient = new EmailRecipient(s[Email], withName ? s[Name] : ""),
            UnsubscribeUrl = s[Url],
        }, encoder);

        var first = Render(StandIns[0]);
        var segments = Split(first, StandIns[0]);
        var personalized = new PersonalizedTemplate(segments, encoder);
        return personalized.Join(StandIns[1][Email], StandIns[1][Name], StandIns[1][Url], encode: false) == Render(StandIns[1])
            ? personalized
            : null;
    }

    public string Fill(string email, string? name, string unsubscribeUrl) => Join(email, name ?? "", unsubscribeUrl, encode: true);

    /// <summary>
    /// The same text as <see cref="Fill"/>, as UTF-8 quoted-printable, for a MIME part: the recipient's
    /// few values encoded, and the part's bytes written from them where the message is put together,
    /// without a copy of the whole part for each message.
    /// </summary>
    public QuotedPrintablePart FillQuotedPrintable(string email, string? name, string unsubscribeUrl)
    {
        var values = new byte[]?[3];
        var length = 0;
        for (var i = 0; i < _segments.Count; i++)
        {
            var field = _segments[i].Field;
            if (field < 0)
            {
                length += _encoded[i].Length;
                continue;
            }
            values[field] ??= Piece(_encoder.Encode(field switch { Email => email, Name => name ?? "", _ => unsubscribeUrl }), softBreakAfter: true);
            length += values[field]!.Length;
        }
        return new QuotedPrintablePart(this, values, length);
    }

    /// <summary>One recipient's part: its length, and its bytes on demand.</summary>
    internal readonly struct QuotedPrintablePart(PersonalizedTemplate template, byte[]?[] values, int length)
    {
        public int Length => length;

        public bool EndsWithLineEnd
        {
            get
            {
                var last = template._segments.Count - 1;
                var piece = template._segments[last].Field < 0 ? template._encoded[last] : values[template._segments[last].Field]!;
                return piece.AsSpan().EndsWith("\r\n"u8);
            }
        }

        public void CopyTo(Span<byte> output)
        {
            var at = 0;
            for (var i = 0; i < template._segments.Count; i++)
            {
                var piece = template._segments[i].Field < 0 ? template._encoded[i] : values[template._segments[i].Field]!;
                piece.CopyTo(output[at..]);
                at += piece.Length;
            }
        }

        public byte[] ToArray()
        {
            var output = new byte[length];
            CopyTo(output);
            return output;
        }
    }

    /// <summary>A piece encoded from the start of a line, ending with a soft break unless it is the last or already ends a line.</summary>
    private static byte[] Piece(string text, bool softBreakAfter)
    {
        var encoded = QuotedPrintable.Encode(text);
        if (!softBreakAfter || encoded.Length == 0 || encoded.AsSpan().EndsWith("\r\n"u8))
            return encoded;
        return [.. encoded, .. QuotedPrintable.SoftBreak];
    }

    private string Join(string email, string name, string url, bool encode)
    {
        var text = new StringBuilder(_segments.Sum(s => s.Text.Length) + 512);
        foreach (var (literal, field) in _segments)
        {
            if (field < 0)
            {
                text.Append(literal);
                continue;
            }
            var value = field switch { Email => email, Name => name, _ => url };
            text.Append(encode ? _encoder.Encode(value) : value);
        }
        return text.ToString();
    }

    private static List<(string, int)> Split(string rendered, string[] standIns)
    {
        var segments = new List<(string, int)>();
        var at = 0;
        while (at < rendered.Length)
        {
            var (next, field) = (-1, -1);
            for (var f = 0; f < standIns.Length; f++)
            {
                var i = rendered.IndexOf(standIns[f], at, StringComparison.Ordinal);
                if (i >= 0 && (next < 0 || i < next))
                    (next, field) = (i, f);
            }
            if (next < 0)
            {
                segments.Add((rendered[at..], -1));
                break;
            }
            if (next > at)
                segments.Add((rendered[at..next], -1));
            segments.Add(("", field));
            at = next + standIns[field].Length;
        }
        return segments;
    }
}
