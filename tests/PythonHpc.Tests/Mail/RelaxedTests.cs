using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using PythonHpc.Mail;

namespace PythonHpc.Tests.Mail;

/// <summary>DKIM's relaxed canonicalization, against the example of RFC 6376 §3.4.6.</summary>
public class RelaxedTests
{
    private static string Header(string field)
    {
        var output = new ArrayBufferWriter<byte>();
        Relaxed.Header(Encoding.ASCII.GetBytes(field), output);
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    [Fact]
    public void Headers_are_canonicalised_as_the_rfc_example_shows()
    {
        Assert.Equal("a:X", Header("A: X"));
        Assert.Equal("b:Y Z", Header("B : Y\t\r\n\tZ  "));
        Assert.Equal("list-unsubscribe-post:List-Unsubscribe=One-Click", Header("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    }

    [Theory]
    [InlineData(" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n")]
    [InlineData("plain line\r\nanother\r\n", "plain line\r\nanother\r\n")]
    [InlineData("no final newline", "no final newline\r\n")]
    [InlineData("a\r\n\r\nb\r\n\r\n", "a\r\n\r\nb\r\n")]
    [InlineData("", "")]
    [InlineData("\r\n\r\n", "")]
    [InlineData("trailing tab\t\r\nx", "trailing tab\r\nx\r\n")]
    [InlineData("a\r\n \t \r\nb\r\n  \r\n", "a\r\n\r\nb\r\n")]
    [InlineData("4:00  Environment\r\n    https://x/?t=240s\r\n", "4:00 Environment\r\n https://x/?t=240s\r\n")]
    public void Bodies_are_canonicalised_as_the_rfc_defines(string body, string canonical) =>
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(canonical)), Relaxed.BodyHash(Encoding.ASCII.GetBytes(body)));
}
