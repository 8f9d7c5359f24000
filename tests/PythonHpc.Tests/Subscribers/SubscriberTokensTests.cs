using System.Text;
using PythonHpc.Store;
using PythonHpc.Subscribers;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Subscribers;

public sealed class SubscriberTokensTests : IDisposable
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes(new string('s', 40));
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private SubscriberTokens Tokens(byte[]? key = null) => new(key ?? Key, _clock, TimeSpan.FromDays(7));

    [Fact]
    public void A_token_names_its_subscriber_for_its_purpose_only()
    {
        var tokens = Tokens();
        Assert.Equal(42, tokens.Read(tokens.Confirm(42), TokenPurpose.Confirm));
        Assert.Equal(long.MaxValue, tokens.Read(tokens.Unsubscribe(long.MaxValue), TokenPurpose.Unsubscribe));
        Assert.Null(tokens.Read(tokens.Confirm(42), TokenPurpose.Unsubscribe));
        Assert.Null(tokens.Read(tokens.Unsubscribe(42), TokenPurpose.Confirm));
        Assert.Matches("^[A-Za-z0-9_-]+$", tokens.Unsubscribe(42));
    }

    [Fact]
    public void Every_single_changed_character_makes_a_token_unknown()
    {
        var tokens = Tokens();
        foreach (var token in new[] { tokens.Confirm(7), tokens.Unsubscribe(7) })
        {
            var purpose = token == tokens.Unsubscribe(7) ? TokenPurpose.Unsubscribe : TokenPurpose.Confirm;
            for (var i = 0; i < token.Length; i++)
            {
                // Base64url's last character carries unused bits; only changes to a value's bits count.
                foreach (var c in new[] { 'A', 'g', '-' })
                {
                    var changed = token[..i] + c + token[(i + 1)..];
                    if (changed != token && Convert.FromBase64String(Pad(changed)).AsSpan().SequenceEqual(Convert.FromBase64String(Pad(token))))
                        continue;
                    if (changed != token)
                        Assert.Null(tokens.Read(changed, purpose));
                }
            }
            Assert.Null(tokens.Read(token[..^1], purpose));
            Assert.Null(tokens.Read(token + "A", purpose));
        }
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }

    [Fact]
    public void Confirm_tokens_lapse_after_ConfirmWithin_and_unsubscribe_tokens_never_do()
    {
        var tokens = Tokens();
        var confirm = tokens.Confirm(1);
        var unsubscribe = tokens.Unsubscribe(1);
        _clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1));
        Assert.Equal(1, tokens.Read(confirm, TokenPurpose.Confirm));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(tokens.Read(confirm, TokenPurpose.Confirm));
        _clock.Advance(TimeSpan.FromDays(3650));
        Assert.Equal(1, tokens.Read(unsubscribe, TokenPurpose.Unsubscribe));
    }

    [Fact]
    public void A_token_made_under_another_secret_is_unknown()
    {
        Assert.Null(Tokens().Read(Tokens(Encoding.UTF8.GetBytes(new string('t', 40))).Unsubscribe(1), TokenPurpose.Unsubscribe));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Without_a_configured_secret_one_is_generated_owner_only_once_and_kept()
    {
        var store = new StoreOptions { DataPath = _folder["data"] };
        var first = SubscriberTokens.Secret(new SecurityOptions(), store);
        var file = Path.Combine(store.DataPath, SubscriberTokens.SecretFile);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.True(first.Length >= 32);
        Assert.Equal(first, SubscriberTokens.Secret(new SecurityOptions(), store));
        Assert.Empty(Directory.GetFiles(store.DataPath, "*.tmp"));
        var configured = SubscriberTokens.Secret(new SecurityOptions { TokenSecret = new string('c', 32) }, store);
        Assert.Equal(Encoding.UTF8.GetBytes(new string('c', 32)), configured);
    }

    [Fact]
    public void A_short_configured_secret_is_a_configuration_error()
    {
        Assert.Contains("Security:TokenSecret", Assert.Single(new SecurityOptions { TokenSecret = "short" }.Validate()));
    }
}
