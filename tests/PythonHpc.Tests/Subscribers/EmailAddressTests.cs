using PythonHpc.Subscribers;

namespace PythonHpc.Tests.Subscribers;

public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("ada@example.org", "ada@example.org")]
    [InlineData("  Ada@Example.ORG\t", "Ada@example.org")]
    [InlineData("ada@example.org.", "ada@example.org")]
    [InlineData("ada+webinars@sub.example.co.uk", "ada+webinars@sub.example.co.uk")]
    [InlineData("ada@bücher.example", "ada@xn--bcher-kva.example")]
    [InlineData("ada@BÜCHER.example", "ada@xn--bcher-kva.example")]
    public void Addresses_are_trimmed_and_their_domain_lower_cased_and_IDN_encoded(string input, string stored)
    {
        Assert.True(EmailAddress.TryParse(input, out var address, out var error), error);
        Assert.Equal(stored, address.Value);
    }

    [Fact]
    public void Addresses_differing_only_in_case_are_one_subscriber()
    {
        Assert.True(EmailAddress.TryParse("Alice@Example.org", out var a, out _));
        Assert.True(EmailAddress.TryParse("alice@example.org", out var b, out _));
        Assert.Equal(a.Key, b.Key);
        Assert.Equal("Alice@example.org", a.Value);
    }

    [Theory]
    [InlineData("Ada <ada@example.org>")]
    [InlineData("ada@example.org (Ada)")]
    [InlineData("\"ada lovelace\"@example.org")]
    [InlineData("ada@example.org\r\nBcc: x@example.org")]
    [InlineData("ada@example.org\n")]
    [InlineData("ada\u0000@example.org")]
    [InlineData("ada@example.org, eve@example.org")]
    [InlineData("ada@")]
    [InlineData("@example.org")]
    [InlineData("ada")]
    [InlineData("ada@localhost")]
    [InlineData("ada@-example-.org")]
    [InlineData("ada@exa_mple.org")]
    [InlineData("a@b@example.org")]
    [InlineData("")]
    [InlineData("   ")]
    public void Anything_but_one_bare_address_is_refused_with_a_reason(string input)
    {
        Assert.False(EmailAddress.TryParse(input, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Addresses_longer_than_254_characters_or_local_parts_longer_than_64_are_refused()
    {
        var domain = string.Join(".", Enumerable.Repeat(new string('d', 60), 3)) + ".org";
        var longest = new string('a', 254 - domain.Length - 1) + "@" + domain;
        Assert.Equal(254, longest.Length);
        Assert.False(EmailAddress.TryParse(longest, out _, out var local), "a 69-character local part");
        Assert.Contains("64", local);
        Assert.False(EmailAddress.TryParse("x" + longest, out _, out var length));
        Assert.Contains("254", length);
        Assert.True(EmailAddress.TryParse(new string('a', 64) + "@" + domain, out _, out var ok), ok);
    }
}
